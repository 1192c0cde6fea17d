use common::config::ExperimentConfig;
use common::models::{Arch, InitKind, LayerInfo, LayerRole, Model, ModelConfig};
use common::prune::{prune_count, Mask, PruneConfig};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

fn lenet() -> Model {
    crate::init();
    Model::new(&ModelConfig { arch: Arch::parse("lenet-300-100").unwrap(), init: InitKind::GlorotNormal }, [1, 28, 28], 10, 0, Device::Cpu).unwrap()
}

const LENET_RATES: PruneConfig = PruneConfig::layer_wise(0.0, 0.2, 0.1);

#[test]
fn lenet_ladder_matches_the_paper_labels() {
    // Pm at levels 0, 3, 7, 9, 12, 15, 18 (Frankle & Carbin Fig. 3/4 labels).
    let expected = [(0, 100.0), (3, 51.3), (7, 21.1), (9, 13.5), (12, 7.0), (15, 3.6), (18, 1.9)];
    let m = lenet();
    let mut mask = Mask::dense(&m);
    let mut got = vec![100.0];
    for level in 1..=18u64 {
        // Random scores: the ladder depends only on counts. (libtorch's generator is shared by
        // parallel tests, so draw under the engine's lock.)
        let scores: BTreeMap<String, Tensor> =
            common::rng::with_torch_seed(level, || mask.0.iter().map(|(k, v)| (k.clone(), Tensor::rand_like(v) + 0.1)).collect());
        let next = mask.prune_magnitude(&scores, m.layers(), &LENET_RATES);
        for (k, v) in &next.0 {
            // Monotone: nothing pruned comes back.
            assert_eq!((v.gt(0.5).logical_and(&mask.0[k].lt(0.5))).sum(Kind::Int64).int64_value(&[]), 0, "level {level} {k}");
        }
        mask = next;
        got.push(100.0 * mask.density());
    }
    for (level, pm) in expected {
        assert_eq!((got[level] * 10.0).round() / 10.0, pm, "level {level}: {}", got[level]);
    }
    // The config's analytic ladder agrees with the real pruner.
    let cfg: ExperimentConfig = serde_json::from_value(serde_json::json!({
        "name": "t", "scale": "smoke", "dataset": "synthetic",
        "model": {"arch": "lenet", "hidden": [300, 100], "init": "glorot-normal"},
        "train": {"optimizer": {"name": "adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
                  "batch_size": 60, "iterations": 10, "eval_every": 5},
        "prune": {"strategy": "layer-wise", "conv": 0.0, "fc": 0.2, "output": 0.1, "shortcut": 0.0},
        "levels": 18, "replicates": 1, "seed": 0
    }))
    .unwrap();
    let ladder = cfg.ladder(m.layers());
    for (a, b) in ladder.iter().zip(&got) {
        assert!((100.0 * a - b).abs() < 1e-9);
    }
}

fn hand_made() -> (Mask, BTreeMap<String, Tensor>, Vec<LayerInfo>) {
    let a = Tensor::from_slice(&[0.1f32, -0.9, 0.5, 0.3]);
    let b = Tensor::from_slice(&[0.2f32, 0.25, -0.05, 0.8, 0.6, 0.7]);
    let mask = Mask([("a.weight".to_string(), a.ones_like()), ("b.weight".to_string(), b.ones_like())].into_iter().collect());
    let scores = [("a.weight".to_string(), a), ("b.weight".to_string(), b)].into_iter().collect();
    let layers =
        vec![LayerInfo { name: "a.weight".into(), role: LayerRole::Fc, numel: 4 }, LayerInfo { name: "b.weight".into(), role: LayerRole::Output, numel: 6 }];
    (mask, scores, layers)
}

fn kept(m: &Mask, k: &str) -> Vec<f32> {
    Vec::<f32>::try_from(&m.0[k]).unwrap()
}

#[test]
fn global_and_layerwise_thresholds_differ_as_expected() {
    let (mask, scores, layers) = hand_made();
    // Layer-wise 50 %: a loses its 2 smallest (0.1, 0.3); b loses 3 (0.05, 0.2, 0.25).
    let lw = mask.prune_magnitude(&scores, &layers, &PruneConfig::layer_wise(0.0, 0.5, 0.5));
    assert_eq!(kept(&lw, "a.weight"), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(kept(&lw, "b.weight"), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    // Global 50 % over both: the 5 smallest of all 10 magnitudes (0.05, 0.1, 0.2, 0.25, 0.3).
    let gl = mask.prune_magnitude(&scores, &layers, &PruneConfig::Global { fraction: 0.5, roles: vec![LayerRole::Fc, LayerRole::Output] });
    assert_eq!(kept(&gl, "a.weight"), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(kept(&gl, "b.weight"), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    // Global 30 % (3 weights): 0.05, 0.1, 0.2 — a keeps 0.3, unlike layer-wise.
    let gl = mask.prune_magnitude(&scores, &layers, &PruneConfig::Global { fraction: 0.3, roles: vec![LayerRole::Fc, LayerRole::Output] });
    assert_eq!(kept(&gl, "a.weight"), [0.0, 1.0, 1.0, 1.0]);
    assert_eq!(kept(&gl, "b.weight"), [0.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    // Only the listed roles take part in global pruning.
    let gl = mask.prune_magnitude(&scores, &layers, &PruneConfig::Global { fraction: 0.5, roles: vec![LayerRole::Fc] });
    assert_eq!(kept(&gl, "b.weight"), [1.0; 6]);
}

#[test]
fn rounding_and_ties_follow_the_documented_rule() {
    assert_eq!(prune_count(0.2, 7), 1); // 1.4 -> 1
    assert_eq!(prune_count(0.5, 5), 3); // 2.5 -> 3 (half away from zero)
    let w = Tensor::from_slice(&[0.5f32, 0.5, 0.5, 0.5]);
    let mask = Mask([("t.weight".to_string(), w.ones_like())].into_iter().collect());
    let scores = [("t.weight".to_string(), w)].into_iter().collect();
    let removed = [("t.weight".to_string(), 2)].into_iter().collect();
    // Equal magnitudes: the lower flat index goes first.
    assert_eq!(kept(&mask.prune_layerwise(&scores, &removed), "t.weight"), [0.0, 0.0, 1.0, 1.0]);
}

/// Zhou et al.'s counting, worked by hand from `get_weight_init.py` (`np.int(np.sum(cur_mask) *
/// percentile / 100)` with `percentile = (1 − 0.8) · 100 = 19.999999999999996`): LeNet-300-100's
/// first round removes 47,039 of fc1's 235,200 weights, 5,999 of fc2's 30,000 and 99 of the
/// output layer's 1,000 — one fewer than `round(p · n)` in each, since every `p · n` is whole —
/// and the trunk's counts follow it level by level.
#[test]
fn zhou_counting_truncates_as_the_authors_code_does() {
    use common::prune::{truncated_count, Count};
    assert_eq!((truncated_count(0.2, 235_200), prune_count(0.2, 235_200)), (47_039, 47_040));
    assert_eq!((truncated_count(0.2, 30_000), truncated_count(0.1, 1_000)), (5_999, 99));
    assert_eq!(truncated_count(0.2, 7), 1); // 1.4 -> 1, as round
    assert_eq!((truncated_count(0.5, 5), prune_count(0.5, 5)), (2, 3)); // 2.5 -> 2, not 3
    let zhou = PruneConfig::LayerWise { conv: 0.0, fc: 0.2, output: 0.1, shortcut: 0.0, count: Count::Truncated };
    assert_eq!(zhou.removed(0.2, 188_161), truncated_count(0.2, 188_161));
    assert_eq!(LENET_RATES.removed(0.2, 235_200), 47_040);
    // The rule is in the config only when it is not the default, so no other trunk moves.
    let toml = toml::to_string(&zhou).unwrap();
    assert!(toml.contains("count = \"truncated\""), "{toml}");
    assert!(!toml::to_string(&LENET_RATES).unwrap().contains("count"));
    assert_eq!(toml::from_str::<PruneConfig>(&toml).unwrap(), zhou);
    // Two levels of fc1 by the authors' arithmetic: 235,200 → 188,161 → 150,529.
    let w = Tensor::randn([300, 784], (tch::Kind::Float, tch::Device::Cpu));
    let layers = vec![common::models::LayerInfo { name: "fc1.weight".into(), role: LayerRole::Fc, numel: 235_200 }];
    let scores = [("fc1.weight".to_string(), w.shallow_clone())].into_iter().collect();
    let one = Mask([("fc1.weight".to_string(), w.ones_like())].into_iter().collect()).prune_magnitude(&scores, &layers, &zhou);
    let two = one.prune_magnitude(&scores, &layers, &zhou);
    assert_eq!((one.report()[0].kept, two.report()[0].kept), (188_161, 150_529));
}

#[test]
fn random_pruning_keeps_the_per_layer_counts_and_is_seeded() {
    let (mask, scores, layers) = hand_made();
    let target = mask.prune_magnitude(&scores, &layers, &PruneConfig::layer_wise(0.0, 0.5, 0.5));
    let r1 = mask.prune_random_like(&target, 9);
    let r2 = mask.prune_random_like(&target, 9);
    assert_eq!(r1.report(), target.report());
    assert_eq!(kept(&r1, "b.weight"), kept(&r2, "b.weight"));
    let differs = (0..20).any(|s| kept(&mask.prune_random_like(&target, s), "b.weight") != kept(&target, "b.weight"));
    assert!(differs);
}

#[test]
fn fractions_outside_the_open_unit_interval_are_rejected() {
    for bad in [0.0, 1.0, 1.5, -0.1] {
        let e = PruneConfig::Global { fraction: bad, roles: vec![LayerRole::Fc] }.validate().unwrap_err().to_string();
        assert!(e.contains("pruning"), "{e}");
    }
    assert!(LENET_RATES.validate().is_ok());
}
