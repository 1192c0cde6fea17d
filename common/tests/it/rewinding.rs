//! IMP with rewinding to iteration k (Frankle et al. 2019, "Stabilizing the LTH") against the
//! procedure written out by hand from the engine's primitives, the global 20 % ladder on a
//! network with biases and batch norm, and the stability-to-pruning record.

use crate::engine::{config, data, model, run_imp};
use common::config::ExperimentConfig;
use common::imp::Stage;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::paths;
use common::prune::{Mask, PruneConfig};
use common::rng::derive_seed;
use common::sparse::Kernels;
use common::train::hooks::SaveWeightsAt;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{self, checkpoint, RunSpec, TrainConfig, Weights};
use tch::{Device, Kind};

/// SGD with momentum and two ×0.1 drops (at 30 and 90 of 120), global 20 % pruning: the recipe
/// shape of the paper, small enough for a test.
fn rewinding(k: u64) -> ExperimentConfig {
    let mut cfg = config(2);
    cfg.branches.clear();
    cfg.replicates = 1;
    cfg.rewind_iteration = k;
    cfg.train.optimizer = OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    cfg.train.schedule = Schedule { milestones: vec![30, 90], gamma: 0.1, warmup: 0 };
    cfg.prune = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc, LayerRole::Output] };
    cfg
}

fn assert_same(a: &Weights, b: &Weights, what: &str) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, t) in a {
        assert!(t.equal(&b[name]), "{what}: {name} differs");
    }
}

fn differs(a: &Weights, b: &Weights) -> bool {
    a.iter().any(|(name, t)| !t.equal(&b[name]))
}

fn stage_weights(runs: &std::path::Path, cfg: &ExperimentConfig, level: u32) -> Weights {
    checkpoint::load_weights(&paths::stage_dir(&runs.join(cfg.hash()), 0, level, "main").join(paths::FINAL)).unwrap()
}

#[test]
fn imp_rewinds_survivors_to_theta_k_and_replays_the_schedule_from_step_k() {
    let d = data();
    for k in [0u64, 40] {
        let cfg = rewinding(k);
        let dir = tempfile::tempdir().unwrap();
        run_imp(&cfg, &d, 1, dir.path());

        // The same procedure by hand: train θ_0 → θ_T keeping θ_k; then per level prune 20 % of
        // the survivors by magnitude, reset them to θ_k and train from step k to T.
        let data_seed = derive_seed(cfg.seed, "data-order", &[0]);
        let mut m = model(&cfg, &d, derive_seed(cfg.seed, "init", &[0]));
        let theta_0 = m.snapshot();
        let mut mask = Mask::dense(&m);
        let snapshot = dir.path().join("theta_k.safetensors");
        let spec = |start: u64, hooks| RunSpec {
            data_seed,
            start,
            checkpoint: None,
            hooks,
            frozen: None,
            optimizer: None,
            keep_optimizer: None,
            kernels: Kernels::Auto,
        };
        let mut theta_k = SaveWeightsAt { iteration: k, path: &snapshot, optimizer: None };
        train::train(&mut m, &mask, &d, &cfg.train, spec(0, if k > 0 { vec![&mut theta_k] } else { vec![] })).unwrap();
        assert_same(&m.snapshot(), &stage_weights(dir.path(), &cfg, 0), &format!("k = {k}: the dense network"));
        let theta_k = if k == 0 { theta_0 } else { checkpoint::load_weights(&snapshot).unwrap() };
        for level in 1..=2 {
            mask = mask.prune_magnitude(&m.snapshot(), m.layers(), &cfg.prune);
            m.restore(&theta_k).unwrap();
            train::train(&mut m, &mask, &d, &cfg.train, spec(k, vec![])).unwrap();
            let engine = stage_weights(dir.path(), &cfg, level);
            assert_same(&m.snapshot(), &engine, &format!("k = {k}, level {level}"));
            if k > 0 && level == 1 {
                // The control that makes this test able to fail: the same start with the schedule
                // restarted at k (drops at k + 30 and k + 90) trains to other weights.
                let restarted = TrainConfig { schedule: Schedule { milestones: vec![k + 30, k + 90], ..cfg.train.schedule.clone() }, ..cfg.train.clone() };
                let mut other = model(&cfg, &d, 0);
                other.restore(&theta_k).unwrap();
                train::train(&mut other, &mask, &d, &restarted, spec(k, vec![])).unwrap();
                assert!(differs(&other.snapshot(), &engine), "a schedule restarted at k would have trained to the same weights");
            }
            // The pruned level's stability record, by hand from the same weights.
            let rec = common::imp::read_record(&paths::stage_dir(&dir.path().join(cfg.hash()), 0, level, "main").join(paths::OUTCOME)).unwrap().unwrap();
            let p = rec.pruning.expect("every pruned level records its distance to the full network");
            let full = stage_weights(dir.path(), &cfg, 0);
            let (mut dist, mut travel) = (0.0, 0.0);
            for l in m.layers() {
                let (mk, sub) = (mask.0[&l.name].to_kind(Kind::Double), engine[&l.name].to_kind(Kind::Double));
                let end = full[&l.name].to_kind(Kind::Double) * &mk;
                dist += (sub * &mk - &end).square().sum(Kind::Double).double_value(&[]);
                travel += (end - theta_k[&l.name].to_kind(Kind::Double) * &mk).square().sum(Kind::Double).double_value(&[]);
            }
            assert!(
                (p.distance - dist.sqrt()).abs() < 1e-9 * dist.sqrt() && (p.travel - travel.sqrt()).abs() < 1e-9 * travel.sqrt(),
                "k = {k} level {level}: {p:?}"
            );
            assert!(p.distance > 0.0 && p.travel > 0.0);
        }
        let level0 = common::imp::read_record(&paths::stage_dir(&dir.path().join(cfg.hash()), 0, 0, "main").join(paths::OUTCOME)).unwrap().unwrap();
        assert!(level0.pruning.is_none(), "the full network is not compared with itself");
    }
}

#[test]
fn global_pruning_takes_twenty_percent_per_level_of_conv_weights_only() {
    // A width-4 ResNet-20 (biases in its output layer, batch norm everywhere) pruned by IMP as
    // the paper's preset: global 20 % per level over conv and shortcut weights.
    let d = data();
    let mut cfg = rewinding(0);
    cfg.model = ModelConfig { arch: Arch::Resnet20 { width: 4 }, init: InitKind::KaimingNormal };
    cfg.train = TrainConfig { iterations: 20, eval_every: 20, batch_size: 16, ..cfg.train };
    cfg.prune = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Shortcut] };
    cfg.levels = 3;
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 1, dir.path());
    let m = model(&cfg, &d, 0);
    let pooled: Vec<&str> = m.layers().iter().filter(|l| l.role != LayerRole::Output).map(|l| l.name.as_str()).collect();
    let total: i64 = m.layers().iter().filter(|l| pooled.contains(&l.name.as_str())).map(|l| l.numel).sum();
    let mut kept = total;
    for level in 0..=3u32 {
        let rec = recs.iter().find(|r| r.level == level && r.stage == Stage::Main).unwrap();
        let pooled_kept: i64 = rec.layers.iter().filter(|l| pooled.contains(&l.name.as_str())).map(|l| l.kept).sum();
        assert_eq!(pooled_kept, kept, "level {level}: 0.8^L of the conv weights, one rounding per level");
        assert!((pooled_kept as f64 / total as f64 - 0.8f64.powi(level as i32)).abs() < 1e-3);
        let fc = rec.layers.iter().find(|l| !pooled.contains(&l.name.as_str())).unwrap();
        assert_eq!(fc.kept, fc.total, "the output layer is never pruned");
        kept -= common::prune::prune_count(0.2, kept);
        // Nothing but pruned weights is zero: biases and batch-norm parameters and statistics
        // are never masked (after training, none of their entries is exactly zero).
        let w = stage_weights(dir.path(), &cfg, level);
        let mask = Mask::load(&paths::stage_dir(&dir.path().join(cfg.hash()), 0, level, "main").join(paths::MASK), Device::Cpu).unwrap();
        for (name, t) in &w {
            let zeros = t.eq(0.0).sum(Kind::Int64).int64_value(&[]);
            match mask.0.get(name) {
                Some(mk) => assert_eq!(zeros, mk.eq(0.0).sum(Kind::Int64).int64_value(&[]), "level {level}: {name} is zero exactly where pruned"),
                None if name.ends_with("num_batches_tracked") => {}
                None => assert_eq!(zeros, 0, "level {level}: {name} (not prunable) has zeros"),
            }
        }
    }
}

/// Renda et al.'s retraining restores the optimizer state with the weights: weight rewinding
/// θ_k's momentum (saved during the dense run), learning-rate rewinding the trained network's
/// final momentum. By hand: the dense run continued from θ_k with its saved state reproduces
/// the dense run exactly (the state is the real one), and the engine's pruned levels equal the
/// same procedure with those states — which a fresh optimizer does not.
#[test]
fn retraining_restores_the_optimizer_state_saved_with_its_start_weights() {
    use common::config::{OptimizerStart, Retrain};
    let d = data();
    for retrain in [Retrain::WeightRewind, Retrain::LrRewind] {
        let k = 40;
        let fresh = ExperimentConfig { retrain, levels: 1, ..rewinding(k) };
        let cfg = ExperimentConfig { optimizer_start: OptimizerStart::WithWeights, ..fresh.clone() };
        assert_ne!(cfg.hash(), fresh.hash(), "the optimizer start is part of the identity");
        let dir = tempfile::tempdir().unwrap();
        run_imp(&cfg, &d, 1, dir.path());
        let level0 = paths::stage_dir(&dir.path().join(cfg.hash()), 0, 0, "main");

        let data_seed = derive_seed(cfg.seed, "data-order", &[0]);
        let spec = |start: u64, optimizer| RunSpec {
            data_seed,
            start,
            checkpoint: None,
            hooks: vec![],
            frozen: None,
            optimizer,
            keep_optimizer: None,
            kernels: Kernels::Auto,
        };
        let dense = stage_weights(dir.path(), &cfg, 0);
        let theta_k = checkpoint::load_weights(&level0.join(paths::REWIND)).unwrap();
        let (at_k, at_t) =
            (checkpoint::load_weights(&level0.join(paths::REWIND_OPTIMIZER)).unwrap(), checkpoint::load_weights(&level0.join(paths::FINAL_OPTIMIZER)).unwrap());
        assert!(at_k.values().any(|t| t.abs().sum(Kind::Double).double_value(&[]) > 0.0), "θ_k's momentum is not zero");
        // θ_k with its momentum, trained on from k with the dense data order: the dense network.
        let mut m = model(&cfg, &d, 0);
        m.restore(&theta_k).unwrap();
        let dense_mask = Mask::dense(&m);
        train::train(&mut m, &dense_mask, &d, &cfg.train, spec(k, Some(&at_k))).unwrap();
        assert_same(&m.snapshot(), &dense, "the dense run resumed from θ_k and its state");

        // Level 1 by hand: prune, start from θ_k (WR) or θ_T (LRR) with the state saved beside it.
        let mask = dense_mask.prune_magnitude(&dense, m.layers(), &cfg.prune);
        let (start, state) = if retrain == Retrain::WeightRewind { (&theta_k, &at_k) } else { (&dense, &at_t) };
        let by_hand = |optimizer| {
            let mut m = model(&cfg, &d, 0);
            m.restore(start).unwrap();
            train::train(&mut m, &mask, &d, &cfg.train, spec(k, optimizer)).unwrap();
            m.snapshot()
        };
        let engine = stage_weights(dir.path(), &cfg, 1);
        assert_same(&by_hand(Some(state)), &engine, &format!("{retrain:?}: level 1 with the restored state"));
        assert!(differs(&by_hand(None), &engine), "{retrain:?}: a fresh optimizer would have trained to the same weights");
    }
    // Plain SGD has no state: asking to restore it changes nothing, not even the identity.
    let mut plain = rewinding(40);
    plain.train.optimizer = OptimizerConfig::Sgd { lr: 0.05, momentum: 0.0, nesterov: false, weight_decay: 0.0 };
    assert_eq!(ExperimentConfig { optimizer_start: OptimizerStart::WithWeights, ..plain.clone() }.hash(), plain.hash());
}
