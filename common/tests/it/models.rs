use common::models::{Arch, InitKind, LayerRole, Model, ModelConfig};
use tch::{Device, Kind, Tensor};

fn build(arch: &str, shape: [i64; 3]) -> Model {
    crate::init();
    let cfg = ModelConfig { arch: Arch::parse(arch).unwrap(), init: InitKind::GlorotNormal };
    Model::new(&cfg, shape, 10, 0, Device::Cpu).unwrap()
}

#[test]
fn prunable_weight_counts_match_the_paper() {
    // Frankle & Carbin Figure 2, weights only (no biases); Conv-6 counts 2,261,184 (FC1 4096x256),
    // not the table's "1.7M" (see reference/papers.md §1.2).
    assert_eq!(build("lenet-300-100", [1, 28, 28]).prunable_count(), 266_200);
    assert_eq!(build("conv-2", [3, 32, 32]).prunable_count(), 4_300_992);
    assert_eq!(build("conv-4", [3, 32, 32]).prunable_count(), 2_425_024);
    assert_eq!(build("conv-6", [3, 32, 32]).prunable_count(), 2_261_184);
    let conv6 = build("conv-6", [3, 32, 32]);
    let conv_only: i64 = conv6.layers().iter().filter(|l| l.role == LayerRole::Conv).map(|l| l.numel).sum();
    assert_eq!(conv_only, 1_144_512);
    // CIFAR ResNet-20: 267,696 conv + 2,560 projection-shortcut + 640 fc weights.
    let r = build("resnet-20", [3, 32, 32]);
    let by = |role| r.layers().iter().filter(|l| l.role == role).map(|l| l.numel).sum::<i64>();
    assert_eq!((by(LayerRole::Conv), by(LayerRole::Shortcut), by(LayerRole::Output)), (267_696, 2_560, 640));
}

/// The paper-scale networks of Renda, LMC, stabilizing and Morcos, counted by hand on 32×32×3
/// inputs: ResNet-56 (nine blocks per stage: 3·16·9 + 18·16·16·9 + (16·32·9 + 17·32·32·9) +
/// (32·64·9 + 17·64·64·9) conv, the same two 1×1 shortcuts, a 64×10 fc) and VGG-11/16/19 with
/// batch norm, global average pooling and one 512×10 linear layer (≈ 9.2M / 14.7M / 20.0M, the
/// sizes the papers quote).
#[test]
fn paper_scale_networks_have_their_published_weight_counts() {
    let r = build("resnet-56", [3, 32, 32]);
    let by = |m: &Model, role| m.layers().iter().filter(|l| l.role == role).map(|l| l.numel).sum::<i64>();
    assert_eq!((by(&r, LayerRole::Conv), by(&r, LayerRole::Shortcut), by(&r, LayerRole::Output)), (848_304, 2_560, 640));
    // ResNet-18 (Tanaka et al.): 3·64·9 + 4·64·64·9 + (64·128·9 + 3·128·128·9) + (128·256·9 +
    // 3·256·256·9) + (256·512·9 + 3·512·512·9) conv, shortcuts 64·128 + 128·256 + 256·512, 512×10 fc.
    let r18 = build("resnet-18", [3, 32, 32]);
    assert_eq!((by(&r18, LayerRole::Conv), by(&r18, LayerRole::Shortcut), by(&r18, LayerRole::Output)), (10_987_200, 172_032, 5_120));
    assert_eq!(r18.layers().len(), 21, "17 convolutions, 3 shortcuts, the fc");
    for (arch, conv) in [("vgg-11", 9_217_728), ("vgg-16", 14_710_464), ("vgg-19", 20_018_880)] {
        let v = build(arch, [3, 32, 32]);
        assert_eq!((by(&v, LayerRole::Conv), by(&v, LayerRole::Output)), (conv, 5_120), "{arch}");
        assert_eq!(v.prunable_count(), conv + 5_120, "{arch}: conv and the output layer only");
    }
}

#[test]
fn names_are_pytorch_style_and_sorted() {
    let m = build("lenet-300-100", [1, 28, 28]);
    let names: Vec<String> = m.parameters().keys().cloned().collect();
    assert_eq!(names, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight", "fc3.bias", "fc3.weight"]);
    let roles: Vec<_> = m.layers().iter().map(|l| (l.name.as_str(), l.role)).collect();
    assert_eq!(roles, [("fc1.weight", LayerRole::Fc), ("fc2.weight", LayerRole::Fc), ("fc3.weight", LayerRole::Output)]);
    let v = build("vgg-11", [3, 32, 32]);
    assert!(v.parameters().contains_key("layers.7.bn.running_var"));
    assert_eq!(v.layers().last().unwrap().name, "layers.7.conv.weight");
}

#[test]
fn initialisers_have_the_stated_scale_and_depend_only_on_the_seed() {
    let m = build("lenet-300-100", [1, 28, 28]);
    let w = &m.parameters()["fc1.weight"];
    let std = w.std(true).double_value(&[]);
    let glorot = (2.0f64 / (784.0 + 300.0)).sqrt();
    assert!((std / glorot - 1.0).abs() < 0.01, "std {std} vs Glorot {glorot}");
    assert_eq!(m.parameters()["fc1.bias"].abs().sum(Kind::Float).double_value(&[]), 0.0);
    let again = build("lenet-300-100", [1, 28, 28]);
    assert!(w.equal(&again.parameters()["fc1.weight"]));
    let k = Model::new(&ModelConfig { arch: Arch::parse("lenet-300-100").unwrap(), init: InitKind::KaimingNormal }, [1, 28, 28], 10, 0, Device::Cpu).unwrap();
    let kstd = k.parameters()["fc1.weight"].std(true).double_value(&[]);
    assert!((kstd / (2.0f64 / 784.0).sqrt() - 1.0).abs() < 0.01);
}

#[test]
fn every_architecture_maps_its_input_to_class_logits() {
    for (arch, shape) in
        [("conv-6", [1, 28, 28]), ("resnet-20-w8", [3, 32, 32]), ("vgg-11", [1, 28, 28]), ("lenet-50-20", [1, 8, 8]), ("resnet-18", [1, 28, 28])]
    {
        let m = build(arch, shape);
        let x = common::rng::with_torch_seed(1, || Tensor::randn([2, shape[0], shape[1], shape[2]], (Kind::Float, Device::Cpu)));
        assert_eq!(m.forward_t(&x, true).size(), [2, 10], "{arch}");
    }
    let e = Arch::parse("resnet-50").unwrap_err().to_string();
    assert!(e.contains("unknown model `resnet-50`"), "{e}");
}

#[test]
fn snapshot_restore_is_exact() {
    let mut m = build("lenet-300-100", [1, 28, 28]);
    let snap = m.snapshot();
    tch::no_grad(|| {
        for (_, mut v) in m.parameters() {
            let _ = v.g_add_scalar_(1.0);
        }
    });
    m.restore(&snap).unwrap();
    for (k, v) in m.parameters() {
        assert!(v.equal(&snap[&k]), "{k}");
    }
}

#[test]
fn conv_weights_are_channels_last_in_memory_and_round_trip_through_files_exactly() {
    let m = build("conv-2", [3, 16, 16]);
    let w = &m.parameters()["conv1.weight"];
    assert_eq!(w.size(), [64, 3, 3, 3], "logical shape unchanged");
    assert_eq!(w.stride(), [27, 1, 9, 3], "NHWC strides on the CPU");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    common::train::checkpoint::save_weights(&path, &m.snapshot()).unwrap();
    let back = common::train::checkpoint::load_weights(&path).unwrap();
    for (name, v) in m.parameters() {
        assert!(back[&name].equal(&v), "{name} changed through the file");
    }
    // Masks built from channels-last weights save too.
    common::prune::Mask::dense(&m).save(&dir.path().join("mask.safetensors")).unwrap();
}

/// oneDNN 3.10.2 (libtorch 2.11) corrupts the heap in the weight gradient of a channels-last
/// 1×1 stride-2 convolution with fewer than 8 input channels on AVX2 CPUs: a ResNet-20 of width
/// 4 on 28×28 inputs aborted the process ("double free or corruption") in its first backward
/// pass on an AMD EPYC. Its projections now run in the standard layout; the gradients still
/// reach every weight.
#[test]
fn a_resnet_narrower_than_8_trains_on_the_cpu() {
    let m = build("resnet-20-w4", [1, 28, 28]);
    let x = Tensor::randn([32, 1, 28, 28], (Kind::Float, Device::Cpu));
    for _ in 0..5 {
        for (_, w) in m.trainable() {
            let mut g = w.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        m.forward_t(&x, true).sum(Kind::Float).backward();
    }
    let projection = &m.parameters()["blocks.3.shortcut.conv.weight"];
    assert_eq!(projection.size(), [8, 4, 1, 1]);
    assert!(projection.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0, "the projection learns");
}
