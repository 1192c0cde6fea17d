//! Channel pruning (You et al. 2020, network slimming): the mask distance, the early-bird
//! detector on scripted masks, the global threshold rule, physical removal against the
//! channel-masked dense network (VGG and PreResNet), the FLOP counts by hand and the L1
//! penalty's gradient.

use common::channels::{self, ChannelMask, EarlyBird, SlimmingPenalty};
use common::models::{Arch, InitKind, Model, ModelConfig};
use common::train::hooks::Hook;
use tch::{Device, Kind, Tensor};

fn mask(layers: &[&[u8]]) -> ChannelMask {
    ChannelMask(layers.iter().map(|l| l.iter().map(|&b| b == 1).collect()).collect())
}

#[test]
fn the_mask_distance_is_zero_to_itself_one_to_its_complement_and_the_fraction_that_differs() {
    let a = mask(&[&[1, 0, 1, 1], &[0, 0, 1, 0, 1, 1]]);
    let complement = ChannelMask(a.0.iter().map(|l| l.iter().map(|k| !k).collect()).collect());
    assert_eq!(a.distance(&a), 0.0);
    assert_eq!(a.distance(&complement), 1.0);
    let b = mask(&[&[1, 0, 1, 0], &[0, 0, 1, 0, 1, 0]]);
    assert_eq!(a.distance(&b), 2.0 / 10.0);
    assert_eq!(a.kept(), [3, 3]);
}

#[test]
fn the_global_rule_keeps_the_channels_above_the_value_at_index_total_times_p() {
    let scales = vec![vec![0.1, 0.9, 0.4], vec![0.3, 0.2, 0.8, 0.5]];
    // Sorted: 0.1 0.2 0.3 0.4 0.5 0.8 0.9; p = 0.5 → index 3 → threshold 0.4, kept iff > 0.4.
    assert_eq!(ChannelMask::global(&scales, 0.5), mask(&[&[0, 1, 0], &[0, 0, 1, 1]]));
    // p = 0.3 → index 2 → threshold 0.3.
    assert_eq!(ChannelMask::global(&scales, 0.3), mask(&[&[0, 1, 1], &[0, 0, 1, 1]]));
    // Equal scales (initialisation): nothing is strictly above; physical pruning keeps the first.
    let equal = vec![vec![0.5; 3], vec![0.5; 2]];
    assert_eq!(ChannelMask::global(&equal, 0.3).kept(), [0, 0]);
    assert_eq!(ChannelMask::global(&equal, 0.3).with_every_layer(&equal), mask(&[&[1, 0, 0], &[1, 0]]));
}

/// Scales whose global mask at p = 0.45 keeps the channels marked 1 (one layer of ten, five
/// kept: the threshold is the fifth smallest value, the largest pruned one).
fn scales_keeping(kept: &[u8]) -> Vec<Vec<f32>> {
    vec![kept.iter().enumerate().map(|(i, &k)| if k == 1 { 1.0 + i as f32 } else { 0.01 * (1 + i) as f32 }).collect()]
}

#[test]
fn the_detector_fires_exactly_when_the_newest_of_five_masks_is_within_epsilon_of_the_other_four() {
    let base: [u8; 10] = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    // Swap one kept and one pruned channel: distance 0.2 from `base`.
    let far: [u8; 10] = [0, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    let sequence: Vec<&[u8; 10]> = vec![&far, &base, &base, &base, &base, &base, &far, &base];
    let mut d = EarlyBird::new(0.45, 5, 0.1);
    let fired: Vec<bool> = sequence.iter().map(|m| d.push(&scales_keeping(*m))).collect();
    // Epochs 0–3: the window is not full. Epoch 4: `far` (epoch 0) is 0.2 away. Epoch 5: the
    // last five are all `base`. Epoch 6: `far` is 0.2 from the four before. Epoch 7: `far`
    // (epoch 6) is still in the window.
    assert_eq!(fired, [false, false, false, false, false, true, false, false]);
    // ε = 0.2 accepts a distance of exactly 0.2 (the authors' `> ε` rejects).
    let mut loose = EarlyBird::new(0.45, 5, 0.2);
    let fired: Vec<bool> = sequence.iter().map(|m| loose.push(&scales_keeping(*m))).collect();
    assert_eq!(fired, [false, false, false, false, true, true, true, true]);
}

fn vgg(init: InitKind, seed: u64) -> Model {
    Model::new(&ModelConfig { arch: Arch::Vgg { depth: 11, width: 8 }, init }, [1, 32, 32], 10, seed, Device::Cpu).unwrap()
}

/// Random batch-norm scales, shifts and running statistics, so that removing a channel matters.
fn perturb_batch_norm(model: &Model) {
    tch::manual_seed(7);
    tch::no_grad(|| {
        for (name, mut v) in model.parameters() {
            if name.contains("bn") {
                let noise = Tensor::rand_like(&v);
                let value = if name.ends_with("running_var") { noise + 0.5 } else { noise - 0.3 };
                v.copy_(&value);
            }
        }
    });
}

#[test]
fn a_physically_pruned_vgg_computes_what_the_channel_masked_dense_one_computes() {
    crate::init();
    let dense = vgg(InitKind::NetworkSlimming, 3);
    perturb_batch_norm(&dense);
    let scales = channels::bn_scales(&dense).unwrap();
    let keep = ChannelMask::global(&scales, 0.5).with_every_layer(&scales);
    let small = channels::prune(&dense, &keep).unwrap();
    assert_eq!(small.config.arch, Arch::VggChannels { depth: 11, channels: keep.kept() });
    let batch_norms: Vec<String> = (0..keep.0.len()).map(|i| format!("layers.{i}.bn")).collect();
    let x = Tensor::randn([6, 1, 32, 32], (Kind::Float, Device::Cpu));
    assert_removal_is_masking(&dense, vgg(InitKind::NetworkSlimming, 3), &small, &keep, &batch_norms, &x);
    assert!(channels::prune(&dense, &ChannelMask::global(&scales, 0.99)).is_err(), "an emptied layer is refused");
}

/// `small`, the physical removal of `keep` from `dense`, computes on `x` (eval and train mode)
/// what `masked` — a network of `dense`'s architecture given its values — computes with every
/// removed channel's γ and β zeroed in `batch_norms` (the channel layers in order), and the
/// removal stated as a weight mask of `dense` counts what `small` holds.
fn assert_removal_is_masking(dense: &Model, mut masked: Model, small: &Model, keep: &ChannelMask, batch_norms: &[String], x: &Tensor) {
    masked.vs.copy(&dense.vs).unwrap();
    tch::no_grad(|| {
        let params = masked.parameters();
        for (bn, layer) in batch_norms.iter().zip(&keep.0) {
            let m = Tensor::from_slice(&layer.iter().map(|&k| f32::from(u8::from(k))).collect::<Vec<_>>());
            for what in ["weight", "bias"] {
                let _ = params[&format!("{bn}.{what}")].shallow_clone().g_mul_(&m);
            }
        }
    });
    for train in [false, true] {
        let (a, b) = (small.forward_t(x, train), masked.forward_t(x, train));
        let diff = (a - &b).abs().max().double_value(&[]);
        assert!(diff < 1e-4 * b.abs().max().double_value(&[]).max(1.0), "train mode {train}: outputs differ by {diff}");
    }
    let mask = channels::element_mask(dense, keep).unwrap();
    let kept: i64 = mask.report().iter().map(|l| l.kept).sum();
    assert_eq!(kept, small.prunable_count());
    assert!(kept < dense.prunable_count());
}

fn preresnet(depth: usize, width: i64, shape: [i64; 3]) -> Model {
    Model::new(&ModelConfig { arch: Arch::Preresnet { depth, width }, init: InitKind::NetworkSlimming }, shape, 10, 5, Device::Cpu).unwrap()
}

#[test]
fn a_physically_pruned_preresnet_computes_what_the_channel_masked_dense_one_computes() {
    crate::init();
    // PreResNet-20 (two blocks per stage) of width 2: stream widths 2 → 8 → 16 → 32.
    let dense = preresnet(20, 2, [3, 16, 16]);
    perturb_batch_norm(&dense);
    let scales = channels::bn_scales(&dense).unwrap();
    assert_eq!(scales.len(), 3 * 6 + 1, "bn1, bn2, bn3 per block, then the final bn");
    assert_eq!(scales.iter().map(Vec::len).collect::<Vec<_>>()[..7], [2, 2, 2, 8, 2, 2, 8]);
    let keep = ChannelMask::global(&scales, 0.5).with_every_layer(&scales);
    let small = channels::prune(&dense, &keep).unwrap();
    let Arch::PreresnetChannels { blocks, output, .. } = &small.config.arch else { panic!("{:?}", small.config.arch) };
    let indices = |k: &[bool]| (0..k.len() as i64).filter(|&c| k[c as usize]).collect::<Vec<_>>();
    assert_eq!(blocks[3].select, indices(&keep.0[9]), "block 3 passes on what its bn1 keeps");
    assert_eq!(blocks[3].inner, [keep.kept()[10], keep.kept()[11]]);
    assert_eq!(*output, indices(&keep.0[18]));
    assert!(keep.kept()[9] < 16 && keep.kept()[18] < 32, "the test removes stream channels: {:?}", keep.kept());
    // Every removed channel's γ and β zeroed, the residual streams' batch norms included.
    let x = Tensor::randn([6, 3, 16, 16], (Kind::Float, Device::Cpu));
    assert_removal_is_masking(&dense, preresnet(20, 2, [3, 16, 16]), &small, &keep, &common::models::preresnet::batch_norms(20), &x);
    // The pruned network trains (selection indices and all) and is not pruned twice.
    let loss = small.forward_t(&x, true).sum(Kind::Float);
    loss.backward();
    assert!(channels::prune(&small, &keep).is_err());
}

#[test]
fn preresnet_164_has_the_papers_parameter_count_and_101_the_authors_block_plan() {
    crate::init();
    // He et al. (2016) and Liu et al. (2017): PreResNet-164 on CIFAR-10 holds 1.7M parameters.
    let net = preresnet(164, 16, [3, 32, 32]);
    let count: i64 = net.trainable().iter().map(|(_, t)| t.numel() as i64).sum();
    assert!((1_690_000..1_720_000).contains(&count), "{count}");
    // PreResNet-101: eleven blocks per stage, the authors' default cfg [16, 16, 16], [64, 16, 16]…
    let plan = common::models::preresnet::block_plan(101, 16);
    assert_eq!(plan.len(), 33);
    assert_eq!(plan[..2], [(16, 16, 1), (64, 16, 1)]);
    assert_eq!(plan[11], (64, 32, 2));
    assert_eq!(plan[22], (128, 64, 2));
    assert_eq!(Arch::parse("preresnet-101").unwrap(), Arch::Preresnet { depth: 101, width: 16 });
    assert!(Arch::parse("preresnet-100").is_err());
    let shape = net.forward_t(&Tensor::zeros([2, 3, 32, 32], (Kind::Float, Device::Cpu)), false).size();
    assert_eq!(shape, [2, 10]);
}

#[test]
fn the_flop_count_of_a_small_preresnet_equals_a_hand_count() {
    // PreResNet-11 (one block per stage), width 1, on 1×2×2 inputs, 2 classes:
    // stem 3×3 (1→1) at 2×2: 2·9·1·4                                                       =  72
    // block 0 (1 → planes 1 → 4, stride 1, downsample), 2×2: bn1 2·1·4, ReLU 1·4, conv1 2·1·1·4,
    //   bn2 + ReLU 3·1·4, conv2 2·9·1·1·4, bn3 + ReLU 3·1·4, conv3 2·1·4·4, downsample 2·1·4·4 = 180
    // block 1 (4 → planes 2 → 8, stride 2), 2×2 → 1×1: bn1 2·4·4, ReLU 4·4, conv1 2·4·2·4,
    //   bn2 + ReLU 3·2·4, conv2 2·9·2·2·1, bn3 + ReLU 3·2·1, conv3 2·2·8·1, downsample 2·4·8·1 = 310
    // block 2 (8 → planes 4 → 16, stride 2), 1×1: bn1 16, ReLU 8, conv1 2·8·4, bn2 + ReLU 12,
    //   conv2 2·9·4·4, bn3 + ReLU 12, conv3 2·4·16, downsample 2·8·16                        = 784
    // final bn 2·16, ReLU 16, average pool not counted, linear 2·16·2 + 2                     = 114
    assert_eq!(channels::forward_flops(&Arch::Preresnet { depth: 11, width: 1 }, [1, 2, 2], 2).unwrap(), 72 + 180 + 310 + 784 + 114);
    // Pruned: block 2 selects 3 of its 8 inputs and keeps widths 1 and 2; the head 5 of 16.
    use common::models::preresnet::PrunedBlock;
    let whole = |n: i64, inner: [i64; 2]| PrunedBlock { select: (0..n).collect(), inner };
    let blocks = vec![whole(1, [1, 1]), whole(4, [2, 2]), PrunedBlock { select: vec![0, 2, 5], inner: [1, 2] }];
    let arch = Arch::PreresnetChannels { depth: 11, width: 1, blocks, output: vec![1, 3, 5, 7, 9] };
    // block 2: bn1 16 (whole stream), ReLU 3, conv1 2·3·1, bn2 + ReLU 3, conv2 2·9·1·2,
    //   bn3 + ReLU 6, conv3 2·2·16, downsample 256 = 16 + 3 + 6 + 3 + 36 + 6 + 64 + 256 = 390;
    // final bn 32, ReLU 5, linear 2·5·2 + 2 = 22.
    assert_eq!(channels::forward_flops(&arch, [1, 2, 2], 2).unwrap(), 72 + 180 + 310 + 390 + 32 + 5 + 22);
}

#[test]
fn the_flop_count_of_a_small_vgg_equals_a_hand_count() {
    // VGG-11 plan [c0, M, c1, M, c2, c3, M, c4, c5, M, c6, c7] with channels [1, 2, 2, …] on
    // 1×4×4 inputs and 3 classes:
    // conv0 at 4×4 (1→1): 2·9·1·16 = 288, BN 2·16 = 32, ReLU 16          → 336
    // pool → 2×2: 4 per output element, 4 elements                       →  16
    // conv1 at 2×2 (1→2): 2·9·1·8 = 144, BN 16, ReLU 8                    → 168
    // pool → 1×1: 4 · 2                                                    →   8
    // conv2…conv7 at 1×1 (2→2), pools skipped below 2 pixels: 6 · (72 + 4 + 2) → 468
    // global average pool: 2, linear 2·2·3 + 3 = 15                        →  17
    let arch = Arch::VggChannels { depth: 11, channels: vec![1, 2, 2, 2, 2, 2, 2, 2] };
    assert_eq!(channels::forward_flops(&arch, [1, 4, 4], 3).unwrap(), 336 + 16 + 168 + 8 + 468 + 17);
    // The dense VGG-16 of the paper on CIFAR: the authors' count is ≈ 0.63 GFLOPs per image.
    let flops = channels::forward_flops(&Arch::Vgg { depth: 16, width: 64 }, [3, 32, 32], 100).unwrap() as f64;
    assert!((0.6e9..0.65e9).contains(&flops), "{flops}");
    assert!(channels::forward_flops(&Arch::Resnet20 { width: 16 }, [3, 32, 32], 10).is_err());
}

#[test]
fn network_slimmings_initialiser_and_penalty_are_the_authors() {
    crate::init();
    let model = vgg(InitKind::NetworkSlimming, 1);
    let p = model.parameters();
    assert!(channels::bn_scales(&model).unwrap().iter().flatten().all(|&g| g == 0.5), "γ = 0.5");
    // Convolutions N(0, √(2 / (9 · out))): layers.3 has 32 filters; the linear layer N(0, 0.01).
    let std = |n: &str| f64::try_from(p[n].std(true)).unwrap();
    let conv = (2.0 / (9.0 * 32.0f64)).sqrt();
    assert!((std("layers.3.conv.weight") / conv - 1.0).abs() < 0.05, "{}", std("layers.3.conv.weight"));
    assert!((std("fc.weight") / 0.01 - 1.0).abs() < 0.15, "{}", std("fc.weight"));
    // The penalty's gradient is s · sign(γ), what the authors' `updateBN` adds.
    tch::no_grad(|| {
        p["layers.0.bn.weight"].shallow_clone().copy_(&Tensor::from_slice(&[0.5f32, -0.2, 0.1, -0.7, 0.3, 0.2, -0.1, 0.4]));
    });
    let loss = SlimmingPenalty::new(1e-4).extra_loss(&model, 0).unwrap();
    loss.backward();
    let grad = Vec::<f32>::try_from(p["layers.0.bn.weight"].grad()).unwrap();
    assert_eq!(grad, [1e-4f32, -1e-4, 1e-4, -1e-4, 1e-4, 1e-4, -1e-4, 1e-4]);
    // A PreResNet: every batch norm's scale (each block's three and the final one), none else.
    let net = preresnet(11, 1, [1, 4, 4]);
    SlimmingPenalty::new(1e-4).extra_loss(&net, 0).unwrap().backward();
    for (name, t) in net.trainable() {
        let penalised = t.grad().defined() && t.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0;
        let batch_norm_scale = name.ends_with(".weight") && (name.starts_with("bn.") || name.contains(".bn"));
        assert_eq!(penalised, batch_norm_scale, "{name}");
    }
    // At initialisation γ = 0.5, and the linear layer keeps PyTorch's default U(±1/√16).
    assert!(channels::bn_scales(&net).unwrap().iter().flatten().all(|&g| g == 0.5));
    let fc = net.parameters()["fc.weight"].abs().max().double_value(&[]);
    assert!(fc <= 0.25 && fc > 0.1, "{fc}");
    let stated = net.init_std("fc.weight").unwrap();
    assert!((stated - 0.25 / 3f64.sqrt()).abs() < 1e-12, "U(±1/4) has std 1/(4√3), not {stated}");
}
