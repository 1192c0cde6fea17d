//! The sparse kernels against the dense masked path: the same step to rounding, the same
//! optimizer update bit for bit, pruned weights exactly zero, resume bit-identical.

use crate::engine::{config, data, model, spec, TrainOutcome2};
use common::data::Dataset;
use common::models::Model;
use common::prune::Mask;
use common::sparse::{Blocks, Kernels, SparseMlp};
use common::train::hooks::CountSteps;
use common::train::optim::{Gradient, Optimizer, OptimizerConfig};
use common::train::{self, checkpoint};
use tch::{Device, Kind, Tensor};

/// A random mask keeping about `density` of every layer (drawn from `seed`).
fn random_mask(m: &Model, density: f64, seed: i64) -> Mask {
    let dense = Mask::dense(m);
    common::rng::with_torch_seed(seed as u64, || {
        Mask(dense.0.iter().map(|(k, v)| (k.clone(), Tensor::rand(v.size(), (Kind::Float, Device::Cpu)).lt(density).to_kind(Kind::Float))).collect())
    })
}

fn batch(d: &Dataset, n: i64) -> (Tensor, Tensor) {
    (d.train.images.narrow(0, 0, n), d.train.labels.narrow(0, 0, n))
}

#[test]
fn a_sparse_step_equals_the_dense_masked_step_to_rounding_and_keeps_pruned_weights_zero() {
    let d = data();
    let cfg = config(0);
    // Plain SGD at learning rate 1: each weight moves by exactly its gradient (to rounding).
    let sgd = OptimizerConfig::Sgd { lr: 1.0, momentum: 0.0, nesterov: false, weight_decay: 0.0 };
    let start = model(&cfg, &d, 4);
    let mask = random_mask(&start, 0.3, 1);
    mask.apply(&start);
    let before = start.snapshot();
    // 70 examples: two blocks of 64, the second padded.
    let (x, y) = batch(&d, 70);

    let mut dense = model(&cfg, &d, 4);
    dense.restore(&before).unwrap();
    let mut opt = Optimizer::new(&sgd, dense.trainable(), &mask.pruned());
    let dense_loss = dense.forward_t(&x, true).cross_entropy_for_logits(&y);
    opt.zero_grad();
    dense_loss.backward();
    opt.step(1.0);

    let mut sparse = model(&cfg, &d, 4);
    sparse.restore(&before).unwrap();
    let mut opt = Optimizer::new(&sgd, sparse.trainable(), &mask.pruned());
    let sparse_loss = SparseMlp::new(&sparse, &mask).unwrap().step(&x, &y, &mut opt, 1.0).unwrap();

    assert!((dense_loss.double_value(&[]) - sparse_loss as f64).abs() < 1e-5, "loss {} vs {sparse_loss}", dense_loss.double_value(&[]));
    let (dp, sp) = (dense.parameters(), sparse.parameters());
    for (name, w0) in &before {
        let (gd, gs) = (w0 - &dp[name], w0 - &sp[name]);
        let scale = gd.abs().max().double_value(&[]);
        assert!(scale > 0.0, "{name} got a gradient");
        let diff = (&gd - &gs).abs().max().double_value(&[]);
        assert!(diff <= 1e-5 * scale.max(1.0), "{name}: gradients differ by {diff} (largest {scale})");
    }
    for (name, m) in &mask.0 {
        let pruned = m.eq(0.0);
        assert_eq!(sp[name].masked_select(&pruned).abs().max().double_value(&[]), 0.0, "{name}: a pruned weight moved");
    }
}

#[test]
fn sparse_evaluation_equals_dense_evaluation_to_rounding() {
    let d = data();
    let m = model(&config(0), &d, 5);
    let mask = random_mask(&m, 0.15, 2);
    mask.apply(&m);
    let (dl, da) = train::evaluate(&m, &d.test);
    let (sl, sa) = SparseMlp::new(&m, &mask).unwrap().evaluate(&Blocks::new(&d.test).unwrap());
    assert!((dl - sl).abs() < 1e-5 * dl.abs().max(1.0), "loss {dl} vs {sl}");
    assert!((da - sa).abs() <= 1.0 / d.test.len() as f64, "accuracy {da} vs {sa}");
}

#[test]
fn the_update_at_the_survivors_has_the_masked_dense_updates_bits() {
    crate::init();
    let config = OptimizerConfig::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 };
    let (p0, mask, grads) = common::rng::with_torch_seed(9, || {
        let mask = Tensor::rand([13, 17], (Kind::Float, Device::Cpu)).ge(0.6).to_kind(Kind::Float);
        let grads: Vec<Tensor> = (0..4).map(|_| Tensor::randn([13, 17], (Kind::Float, Device::Cpu))).collect();
        (Tensor::randn([13, 17], (Kind::Float, Device::Cpu)) * &mask, mask, grads)
    });
    let masks = std::collections::BTreeMap::from([("w".to_string(), mask.shallow_clone())]);
    let keep: Vec<f32> = Vec::try_from(mask.flatten(0, -1)).unwrap();
    let positions: Vec<u32> = (0..keep.len() as u32).filter(|&i| keep[i as usize] != 0.0).collect();

    let dense = p0.copy().set_requires_grad(true);
    let mut opt = Optimizer::new(&config, vec![("w".into(), dense.shallow_clone())], &masks);
    for g in &grads {
        opt.zero_grad();
        (&dense * g).sum(Kind::Float).backward(); // ∂/∂w = g
        opt.step(0.01);
    }
    let sparse = p0.copy().set_requires_grad(true);
    let mut opt = Optimizer::new(&config, vec![("w".into(), sparse.shallow_clone())], &masks);
    for g in &grads {
        let all: Vec<f32> = Vec::try_from(g.flatten(0, -1)).unwrap();
        let at: Vec<f32> = positions.iter().map(|&i| all[i as usize]).collect();
        opt.step_with(0.01, &[Gradient { name: "w", positions: Some(&positions), values: &at }]).unwrap();
    }
    assert!(dense.detach().equal(&sparse.detach()), "the survivors' update differs from the masked dense update");
    assert!(!dense.detach().equal(&p0), "the update moved the weights");
    let wrong = opt.step_with(0.01, &[Gradient { name: "w", positions: None, values: &[0.0; 221] }]).unwrap_err();
    assert!(wrong.to_string().contains("survivors"), "{wrong}");
}

#[test]
fn a_sparse_run_learns_like_the_dense_one_and_resumes_bit_identically() {
    let d = data();
    let cfg = config(0);
    let run = |kernels: Kernels, slot: Option<&checkpoint::Slot>, kill_at: Option<u64>| {
        let mut m = model(&cfg, &d, 2);
        let mask = random_mask(&m, 0.2, 3);
        let mut kill = CountSteps(|t: u64| assert!(kill_at.is_none_or(|k| t < k), "simulated kill"));
        let mut s = spec(8, slot, vec![&mut kill]);
        s.kernels = kernels;
        let out = train::train(&mut m, &mask, &d, &cfg.train, s).unwrap();
        (m.snapshot(), out, mask)
    };
    let (dense_w, dense, _) = run(Kernels::Dense, None, None);
    let (full_w, full, mask) = run(Kernels::Sparse, None, None);
    assert_ne!(dense.log.val_loss(), full.log.val_loss(), "the sparse kernels ran (their sums differ in the last bits)");
    let (a, b) = (*dense.log.test_acc().last().unwrap(), *full.log.test_acc().last().unwrap());
    assert!(b > 0.2 && (a - b).abs() < 0.05, "test accuracy dense {a}, sparse {b}");
    for (name, m) in &mask.0 {
        assert_eq!(full_w[name].masked_select(&m.eq(0.0)).abs().max().double_value(&[]), 0.0, "{name}: a pruned weight is not zero");
        let drift = (&full_w[name] - &dense_w[name]).abs().max().double_value(&[]);
        assert!(drift < 1e-2, "{name}: sparse and dense weights drifted apart by {drift} in 120 steps");
    }
    // Killed at 70 after checkpoints at 20..60, resumed: the same bits as the uninterrupted run.
    let dir = tempfile::tempdir().unwrap();
    let slot = checkpoint::Slot { dir: dir.path().to_path_buf(), config_hash: "h".into(), every: 1 };
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(Kernels::Sparse, Some(&slot), Some(70))));
    assert!(killed.is_err());
    let (resumed_w, resumed, _) = run(Kernels::Sparse, Some(&slot), None);
    assert_eq!(full, TrainOutcome2(resumed));
    for (k, v) in resumed_w {
        assert!(v.equal(&full_w[&k]), "{k} differs after resume");
    }
}
