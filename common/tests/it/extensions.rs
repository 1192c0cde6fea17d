//! The engine's extension points for the papers after Frankle & Carbin: retraining modes
//! (Renda et al.), spawned copies and interpolation (linear mode connectivity), mask criteria
//! (Zhou et al.), and the global-pruning ladder.

use crate::engine::{config, data, model, run_imp};
use common::config::{BranchConfig, BranchKind, Retrain};
use common::criteria::{self, Criterion, KeptValues};
use common::imp::Stage;
use common::interpolate;
use common::models::{Arch, InitKind, LayerRole, Model, ModelConfig};
use common::paths;
use common::prune::{Mask, PruneConfig};
use common::supermask::{self, SupermaskConfig};
use common::train::{self, checkpoint};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// One replicate of a level-1 IMP run retrained by `retrain` from k = 40 (a drop at 60): its
/// config, records and run folder.
fn retrained(d: &common::data::Dataset, retrain: Retrain) -> (common::config::ExperimentConfig, Vec<common::imp::StageRecord>, tempfile::TempDir) {
    let mut cfg = config(1);
    cfg.branches.clear();
    cfg.replicates = 1;
    cfg.rewind_iteration = 40;
    cfg.retrain = retrain;
    cfg.train.schedule.milestones = vec![60];
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, d, 1, dir.path());
    (cfg, recs, dir)
}

#[test]
fn learning_rate_rewinding_and_fine_tuning_retrain_from_the_pruned_final_weights() {
    let d = data();
    for retrain in [Retrain::LrRewind, Retrain::FineTune] {
        let (cfg, recs, dir) = retrained(&d, retrain);
        let exp = dir.path().join(cfg.hash());
        // Level 1 starts at k from level 0's final weights under its mask (not from θ_k).
        let final0 = checkpoint::load_weights(&paths::stage_dir(&exp, 0, 0, "main").join(paths::FINAL)).unwrap();
        let mut m = model(&cfg, &d, 0);
        m.restore(&final0).unwrap();
        Mask::load(&paths::stage_dir(&exp, 0, 1, "main").join(paths::MASK), Device::Cpu).unwrap().apply(&m);
        let (vl, _) = train::evaluate(&m, &d.validation);
        let level1 = recs.iter().find(|r| r.level == 1).unwrap();
        assert_eq!(level1.outcome.log.iteration[0], 40);
        assert_eq!(vl.to_bits(), level1.outcome.log.val_loss()[0].to_bits(), "{retrain:?}: level 1 starts from final weights ⊙ mask");
    }
    // Fine-tuning trains at the schedule's last rate, constant; the others keep the schedule.
    let mut cfg = config(1);
    cfg.train.schedule.milestones = vec![60];
    let ft = Retrain::FineTune.train_config(&cfg.train);
    assert!((ft.optimizer.lr() - 2e-4).abs() < 1e-12 && ft.schedule.milestones.is_empty());
    assert_eq!(Retrain::LrRewind.train_config(&cfg.train), cfg.train);
    // A default retrain mode leaves the trunk identity of existing configs unchanged.
    let mut lrr = cfg.clone();
    lrr.retrain = Retrain::LrRewind;
    assert_ne!(lrr.hash(), cfg.hash());
    let json = serde_json::to_value(&cfg).unwrap();
    assert_eq!(json["retrain"], "weight-rewind");
}

#[test]
fn spawned_copies_start_from_theta_k_and_see_their_own_data_order() {
    let d = data();
    let mut cfg = config(0);
    cfg.replicates = 1;
    cfg.rewind_iteration = 20;
    cfg.branches = vec![BranchConfig::new(BranchKind::SPAWN, vec![0], 2)];
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let spawn = |c| recs.iter().find(|r| r.stage == Stage::Branch(BranchKind::SPAWN, c)).unwrap();
    let main = recs.iter().find(|r| r.stage == Stage::Main).unwrap();
    let at20 = main.outcome.log.iteration.iter().position(|&i| i == 20).unwrap();
    for c in [0, 1] {
        assert_eq!(spawn(c).outcome.log.iteration[0], 20);
        assert_eq!(spawn(c).outcome.log.val_loss()[0].to_bits(), main.outcome.log.val_loss()[at20].to_bits(), "copy {c} starts from θ_k");
    }
    assert_ne!(spawn(0).outcome.log.val_loss().last(), spawn(1).outcome.log.val_loss().last(), "independent data orders");

    // The pair's record: its ends are the two copies' own evaluated test errors, exactly.
    assert!(spawn(0).pair.is_none());
    let pair = spawn(1).pair.as_ref().expect("the second copy records the pair");
    assert_eq!(pair.partner, 0);
    assert_eq!(pair.test.len(), interpolate::PAPER_POINTS);
    let final_error = |c| 1.0 - spawn(c).outcome.log.test_acc().last().unwrap();
    assert_eq!(pair.test[0].error.to_bits(), final_error(0).to_bits(), "α = 0 is copy 0");
    assert_eq!(pair.test.last().unwrap().error.to_bits(), final_error(1).to_bits(), "α = 1 is copy 1");
    assert!(pair.distance > 0.0, "different data orders give different weights");
    assert!(pair.test_instability() >= 0.0 && pair.train_instability() >= 0.0);

    // The two copies' endpoints: the path reproduces each end and measures a barrier.
    let exp = dir.path().join(cfg.hash());
    let mut m = model(&cfg, &d, 0);
    let a = checkpoint::load_weights(&paths::stage_dir(&exp, 0, 0, "main").join(paths::FINAL)).unwrap();
    let b = checkpoint::load_weights(&paths::stage_dir(&exp, 0, 0, "main").join(paths::START)).unwrap();
    let path = interpolate::path(&mut m, &a, &b, 5, &d.test).unwrap();
    assert_eq!(path.iter().map(|p| p.alpha).collect::<Vec<_>>(), [0.0, 0.25, 0.5, 0.75, 1.0]);
    m.restore(&a).unwrap();
    let (_, acc_a) = train::evaluate(&m, &d.test);
    assert!((path[0].error - (1.0 - acc_a)).abs() < 1e-12, "α = 0 is the first network");
    let inst = interpolate::instability(&path);
    let sup = path.iter().map(|p| p.error).fold(0.0, f64::max);
    assert!((inst - (sup - 0.5 * (path[0].error + path[4].error))).abs() < 1e-12);
    assert!(interpolate::path(&mut m, &a, &b, 1, &d.test).is_err());
}

#[test]
fn spawned_controls_pair_up_on_one_start_with_two_data_orders() {
    let d = data();
    let mut cfg = config(1);
    cfg.branches = vec![
        BranchConfig::new(BranchKind::REINIT, vec![1], 1),
        BranchConfig::new(BranchKind::SPAWN_REINIT, vec![1], 2),
        BranchConfig::new(BranchKind::SPAWN_RANDOM_PRUNE, vec![1], 2),
    ];
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let get = |kind, c| recs.iter().find(|r| r.replicate == 0 && r.level == 1 && r.stage == Stage::Branch(kind, c)).unwrap();
    let first_loss = |kind, c| get(kind, c).outcome.log.val_loss()[0].to_bits();
    // Both copies of spawn-reinit pair 0 start as reinit_0 does; their data orders differ.
    for c in [0, 1] {
        assert_eq!(first_loss(BranchKind::SPAWN_REINIT, c), first_loss(BranchKind::REINIT, 0), "copy {c} starts from reinit_0's weights");
    }
    assert_ne!(get(BranchKind::SPAWN_REINIT, 0).outcome.log.val_loss().last(), get(BranchKind::SPAWN_REINIT, 1).outcome.log.val_loss().last());
    // Both copies of a random-pruning pair share one random mask and one start.
    let exp = dir.path().join(cfg.hash());
    let mask = |c| Mask::load(&paths::stage_dir(&exp, 0, 1, &format!("spawn-random-prune_{c}")).join(paths::MASK), Device::Cpu).unwrap();
    for (name, m) in &mask(0).0 {
        assert!(m.equal(&mask(1).0[name]), "{name}: one mask per pair");
    }
    assert_eq!(first_loss(BranchKind::SPAWN_RANDOM_PRUNE, 0), first_loss(BranchKind::SPAWN_RANDOM_PRUNE, 1));
    assert!(get(BranchKind::SPAWN_RANDOM_PRUNE, 1).pair.is_some() && get(BranchKind::SPAWN_REINIT, 1).pair.is_some());
}

#[test]
fn interpolating_a_network_with_itself_is_flat() {
    let d = data();
    let cfg = config(0);
    let mut m = model(&cfg, &d, 3);
    let w = m.snapshot();
    let path = interpolate::path(&mut m, &w, &w, interpolate::PAPER_POINTS, &d.test).unwrap();
    assert_eq!(path.len(), 30);
    assert!(path.iter().all(|p| p.error.to_bits() == path[0].error.to_bits()));
    assert_eq!(interpolate::instability(&path), 0.0);
}

#[test]
fn recomputed_batch_norm_statistics_are_the_average_over_batches_of_each_batchs_own() {
    let d = data();
    let size = d.train.images.size();
    let shape = [size[1], size[2], size[3]];
    let m = Model::new(&ModelConfig { arch: Arch::Resnet20 { width: 8 }, init: InitKind::KaimingNormal }, shape, 10, 1, Device::Cpu).unwrap();
    interpolate::recompute_norm_statistics(&m, &d.train);
    let p = m.parameters();
    // The stem's batch norm sees the stem convolution's output: per channel, each batch's mean
    // and unbiased variance over (examples, rows, columns), averaged over the batches of 128
    // (the last one shorter, weighing as much as the others).
    let conv = d.train.images.conv2d(&p["conv.weight"].contiguous(), None::<&Tensor>, [1, 1], [1, 1], [1, 1], 1);
    let n = size[0];
    let starts: Vec<i64> = (0..n).step_by(interpolate::STATISTICS_BATCH as usize).collect();
    assert!(n % interpolate::STATISTICS_BATCH != 0, "the test covers a short last batch");
    let (mut mean, mut var) = (Tensor::zeros([8], (Kind::Float, Device::Cpu)), Tensor::zeros([8], (Kind::Float, Device::Cpu)));
    for &start in &starts {
        let batch = conv.narrow(0, start, (n - start).min(interpolate::STATISTICS_BATCH));
        mean += batch.mean_dim([0i64, 2, 3].as_slice(), false, Kind::Float) / starts.len() as f64;
        var += batch.var_dim([0i64, 2, 3].as_slice(), true, false) / starts.len() as f64;
    }
    let close = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]) < 1e-4 * (1.0 + b.abs().max().double_value(&[]));
    assert!(close(&p["bn.running_mean"], &mean), "{} vs {}", p["bn.running_mean"], mean);
    assert!(close(&p["bn.running_var"], &var), "{} vs {}", p["bn.running_var"], var);
    // A network without batch norm is left exactly as it is.
    let lenet = model(&config(0), &d, 1);
    let before = lenet.snapshot();
    interpolate::recompute_norm_statistics(&lenet, &d.train);
    assert!(lenet.parameters().iter().all(|(k, v)| v.equal(&before[k])));
}

fn layer(v: &[f32]) -> BTreeMap<String, Tensor> {
    BTreeMap::from([("w".to_string(), Tensor::from_slice(v))])
}

#[test]
fn mask_criteria_keep_the_highest_scores_with_the_authors_intersection_rule() {
    let init = layer(&[0.1, -0.9, 0.5, -0.25, 0.8, 0.05]);
    let fin = layer(&[0.7, -0.1, -0.6, 0.5, 0.95, 0.02]);
    let dense = Mask(BTreeMap::from([("w".to_string(), Tensor::ones([6], (Kind::Float, Device::Cpu)))]));
    let keep = BTreeMap::from([("w".to_string(), 3usize)]);
    let kept = |c: Criterion| -> Vec<i64> {
        let m = criteria::mask(&dense, c, &init, &fin, &keep, 1);
        let v: Vec<f32> = Vec::try_from(&m.0["w"]).unwrap();
        (0..6).filter(|&i| v[i] != 0.0).map(|i| i as i64).collect()
    };
    assert_eq!(kept(Criterion::LargeFinal), [0, 2, 4]);
    assert_eq!(kept(Criterion::SmallFinal), [1, 3, 5]);
    assert_eq!(kept(Criterion::LargeInit), [1, 2, 4]);
    // |w_f| − |w_i| = 0.6, −0.8, 0.1, 0.25, 0.15, −0.03.
    assert_eq!(kept(Criterion::MagnitudeIncrease), [0, 3, 4]);
    // |w_f − w_i| = 0.6, 0.8, 1.1, 0.75, 0.15, 0.03.
    assert_eq!(kept(Criterion::Movement), [1, 2, 3]);
    // Same sign at 0, 1, 4, 5 (score |w_f|); 2 and 3 flipped (score 0).
    assert_eq!(kept(Criterion::LargeFinalSameSign), [0, 1, 4]);
    // The top 3 of |w_i| ({1, 4, 2}) and of |w_f| ({4, 0, 2}) share only 2 and 4; the top 4
    // ({1, 4, 2, 3} and {4, 0, 2, 3}) share 3: the common percentile the authors search for.
    assert_eq!(kept(Criterion::LargeInitLargeFinal), [2, 3, 4]);
    // −|w_i|: the three smallest initial magnitudes (0.05, 0.1, 0.25).
    assert_eq!(kept(Criterion::SmallInit), [0, 3, 5]);
    // Bottom 3 of |w_i| ({5, 0, 3}) and of |w_f| ({5, 1, 3}) share 2; bottom 4 ({5, 0, 3, 2},
    // {5, 1, 3, 2}) share 3.
    assert_eq!(kept(Criterion::SmallInitSmallFinal), [2, 3, 5]);
    // Same sign at 0, 1, 4, 5: |w_f| − |w_i| = 0.6, −0.8, 0.15, −0.03; flipped ones rank last.
    assert_eq!(kept(Criterion::MagnitudeIncreaseSameSign), [0, 4, 5]);
    // Ties: only 2 and 3 flipped sign, so the third survivor of the diff-sign criteria is a tie
    // among the four others (score 0, or the lowest score), broken by the seeded random key —
    // never by position.
    for c in [Criterion::LargeFinalDiffSign, Criterion::MagnitudeIncreaseDiffSign] {
        let mut third = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let m = criteria::mask(&dense, c, &init, &fin, &keep, seed);
            let v: Vec<f32> = Vec::try_from(&m.0["w"]).unwrap();
            assert!(v[2] == 1.0 && v[3] == 1.0 && v.iter().sum::<f32>() == 3.0, "{c:?} seed {seed}: {v:?}");
            third.extend([0usize, 1, 4, 5].into_iter().filter(|&i| v[i] == 1.0));
        }
        assert!(third.len() >= 2, "{c:?}: ties go to different weights under different seeds ({third:?})");
    }
    // Only survivors are kept; random keeps the requested count, reproducibly.
    let half = criteria::mask(&dense, Criterion::LargeFinal, &init, &fin, &keep, 0);
    let two = BTreeMap::from([("w".to_string(), 2usize)]);
    let child = criteria::mask(&half, Criterion::SmallFinal, &init, &fin, &two, 0);
    let v: Vec<f32> = Vec::try_from(&child.0["w"]).unwrap();
    assert_eq!(v, [1.0, 0.0, 1.0, 0.0, 0.0, 0.0], "the two smallest of the survivors {{0, 2, 4}}");
    let r1 = criteria::mask(&dense, Criterion::Random, &init, &fin, &keep, 9);
    let r2 = criteria::mask(&dense, Criterion::Random, &init, &fin, &keep, 9);
    assert!(r1.0["w"].equal(&r2.0["w"]));
    assert_eq!(r1.0["w"].sum(Kind::Int64).int64_value(&[]), 3);
}

#[test]
fn global_pruning_follows_the_paper_ladder_of_twenty_percent_per_level() {
    // ResNet-20 (width 16), global 20 % of conv + fc weights per level: Pm = 0.8^L up to
    // rounding of one weight per level, the ladder open_lth and Frankle et al. (2020) quote
    // (100, 80, 64, 51.2, 41.0, 32.8, 26.2, 21.0, 16.8, 13.4, 10.7 %).
    crate::init();
    let cfg = ModelConfig { arch: Arch::Resnet20 { width: 16 }, init: InitKind::KaimingNormal };
    let m = Model::new(&cfg, [3, 32, 32], 10, 0, Device::Cpu).unwrap();
    let prune = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Fc, LayerRole::Output, LayerRole::Shortcut] };
    let mut e = config(10);
    e.model = cfg;
    e.prune = prune.clone();
    let ladder = e.ladder(m.layers());
    let mut mask = Mask::dense(&m);
    let weights = m.snapshot();
    let total: i64 = mask.report().iter().map(|l| l.total).sum();
    for (level, want) in [100.0, 80.0, 64.0, 51.2, 41.0, 32.8, 26.2, 21.0, 16.8, 13.4, 10.7].iter().enumerate() {
        let pm = 100.0 * mask.density();
        assert!((pm - want).abs() < 0.05, "level {level}: Pm {pm:.2} % vs the paper's {want} %");
        assert!((ladder[level] - mask.density()).abs() < 1e-12, "config ladder agrees with the pruner at level {level}");
        mask = mask.prune_magnitude(&weights, m.layers(), &prune);
    }
    assert!(total > 250_000, "ResNet-20 has ~270K prunable weights, got {total}");
}

#[test]
fn kept_values_rewind_reshuffle_and_keep_signs_as_the_authors_define_them() {
    let init = Tensor::from_slice(&[0.5f32, -0.2, 0.1, -0.7, 0.3, 0.9]);
    let mask = Tensor::from_slice(&[1.0f32, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let v = |a| -> Vec<f32> { Vec::try_from(&criteria::kept_values(a, &init, &mask, 4)).unwrap() };
    assert_eq!(v(KeptValues::Rewind), [0.5, -0.2, 0.0, -0.7, 0.0, 0.9]);
    let mut shuffled: Vec<f32> = [0, 1, 3, 5].iter().map(|&i| v(KeptValues::Reshuffle)[i]).collect();
    shuffled.sort_by(f32::total_cmp);
    assert_eq!(shuffled, [-0.7, -0.2, 0.5, 0.9], "a permutation of the kept initial values");
    let signs = |x: &[f32]| -> Vec<bool> { [0, 1, 3, 5].iter().map(|&i| x[i] >= 0.0).collect() };
    let original = signs(&v(KeptValues::Rewind));
    for a in [KeptValues::SignedReinit, KeptValues::SignedReshuffle, KeptValues::SignedConstant] {
        let x = v(a);
        assert_eq!(signs(&x), original, "{a:?} keeps each weight's sign");
        assert!(x[2] == 0.0 && x[4] == 0.0, "{a:?}: pruned weights are 0");
    }
    let std = init.std(true).double_value(&[]) as f32;
    assert!(v(KeptValues::SignedConstant).iter().enumerate().all(|(i, x)| i == 2 || i == 4 || (x.abs() - std).abs() < 1e-6));
    assert_eq!(v(KeptValues::Reinit), v(KeptValues::Reinit), "seeded");
}

#[test]
fn a_learned_supermask_classifies_far_above_chance_without_training_a_weight() {
    crate::init();
    let d = data();
    let cfg = ModelConfig { arch: Arch::Lenet { hidden: vec![128, 64] }, init: InitKind::GlorotNormal };
    let sm = SupermaskConfig {
        lr: 100.0,
        momentum: 0.9,
        batch_size: 64,
        iterations: 300,
        eval_every: 100,
        score_init: 0.0,
        signed_constant: true,
        dynamic_scaling: true,
    };
    let run = || {
        let mut m = Model::new(&cfg, d.shape, d.num_classes, 5, Device::Cpu).unwrap();
        let before = m.snapshot();
        let (log, logits) = supermask::train(&mut m, &d, &sm, 1).unwrap();
        (before, m.snapshot(), log, logits)
    };
    let (before, after, log, logits) = run();
    assert_eq!(log.iteration, [0, 100, 200, 300]);
    let last = *log.test_acc().last().unwrap();
    assert!(last > 0.3 && last > log.test_acc()[0] + 0.1, "a supermask learns: test accuracy {:?}", log.test_acc());
    // Biases are frozen; weights are only ever their frozen value (±σ here) times the mask and
    // the rescaling factor: zero or ± a layer constant.
    for (name, w) in &after {
        if name.ends_with("bias") {
            assert!(w.equal(&before[name]), "{name} changed");
        } else {
            let distinct: std::collections::BTreeSet<u32> = Vec::<f32>::try_from(w.abs().flatten(0, -1)).unwrap().into_iter().map(f32::to_bits).collect();
            assert!(distinct.len() <= 2, "{name}: {} distinct magnitudes", distinct.len());
        }
    }
    assert!(logits.keys().all(|k| k.ends_with("weight")));
    assert_eq!(run().2, log, "seeded: the same run gives the same numbers");
}

#[test]
fn a_transferred_ticket_brings_mask_and_theta_k_and_reinitialises_a_mismatched_output_layer() {
    let d = data();
    let mut cfg = config(1);
    cfg.branches.clear();
    cfg.replicates = 1;
    let dir = tempfile::tempdir().unwrap();
    run_imp(&cfg, &d, 1, dir.path());
    let source = dir.path().join(cfg.hash());
    let theta0 = checkpoint::load_weights(&paths::stage_dir(&source, 0, 0, "main").join(paths::START)).unwrap();
    let source_mask = Mask::load(&paths::stage_dir(&source, 0, 1, "main").join(paths::MASK), Device::Cpu).unwrap();
    // A target with 5 classes: the output layer cannot be transferred.
    let mut target = Model::new(&cfg.model, d.shape, 5, 77, Device::Cpu).unwrap();
    let fresh = target.snapshot();
    let ticket = common::transfer::load_ticket(&source, 0, 1, 0, true, &mut target).unwrap();
    let now = target.snapshot();
    let output = target.layers().iter().find(|l| l.role == LayerRole::Output).unwrap().name.clone();
    for l in target.layers() {
        if l.name == output {
            assert!(now[&l.name].equal(&fresh[&l.name]), "the output layer keeps the target's initialisation");
            assert_eq!(ticket.mask.0[&l.name].sum(Kind::Int64).int64_value(&[]), now[&l.name].numel() as i64, "and is dense");
        } else {
            assert!(ticket.mask.0[&l.name].equal(&source_mask.0[&l.name]), "{}: the source's mask", l.name);
            assert!(now[&l.name].equal(&(&theta0[&l.name] * &source_mask.0[&l.name])), "{}: θ_0 under the mask", l.name);
        }
    }
    assert!(!ticket.copied.contains(&output));
    // A missing source level is named with the fix.
    let e = common::transfer::load_ticket(&source, 0, 5, 0, true, &mut target).err().unwrap();
    assert!(format!("{e:#}").contains("train the source experiment first"), "{e:#}");
}

#[test]
fn one_shot_pruning_needs_only_the_dense_network_and_keeps_imps_counts() {
    use common::imp::{dependencies, JobId};
    let oneshot = JobId { replicate: 0, level: 3, stage: Stage::Branch(BranchKind::ONESHOT, 0) };
    assert_eq!(dependencies(oneshot, &config(3)), [JobId { replicate: 0, level: 0, stage: Stage::Main }]);
    let d = data();
    for prune in [PruneConfig::layer_wise(0.1, 0.2, 0.1), PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc, LayerRole::Output] }] {
        let mut cfg = config(3);
        cfg.replicates = 1;
        cfg.prune = prune;
        cfg.branches = vec![BranchConfig::new(BranchKind::ONESHOT, vec![2, 3], 1)];
        let dir = tempfile::tempdir().unwrap();
        let recs = run_imp(&cfg, &d, 2, dir.path());
        for level in [2, 3] {
            let get = |stage| recs.iter().find(|r| r.level == level && r.stage == stage).unwrap();
            let (imp, one) = (get(Stage::Main), get(Stage::Branch(BranchKind::ONESHOT, 0)));
            match &cfg.prune {
                PruneConfig::LayerWise { .. } => assert_eq!(imp.layers, one.layers, "level {level}: the same count per layer"),
                PruneConfig::Global { .. } => assert_eq!(imp.density.to_bits(), one.density.to_bits(), "level {level}: the same total"),
            }
        }
    }
}

#[test]
fn renda_ablations_restart_from_theta_k_at_the_final_rate_or_from_new_weights() {
    let d = data();
    let run = |retrain: Retrain| retrained(&d, retrain).1.into_iter().find(|r| r.level == 1).unwrap().outcome.log;
    let (wr, low, reinit) = (run(Retrain::WeightRewind), run(Retrain::LowLrWeightRewind), run(Retrain::Reinit));
    // Low-LR weight rewinding starts where weight rewinding does (θ_k under the mask) ...
    assert_eq!(low.val_loss()[0].to_bits(), wr.val_loss()[0].to_bits());
    // ... and trains otherwise (the final rate throughout); reinitialising starts elsewhere.
    assert_ne!(low.val_loss().last(), wr.val_loss().last());
    assert_ne!(reinit.val_loss()[0].to_bits(), wr.val_loss()[0].to_bits());
    assert_eq!(reinit.iteration[0], 40, "it trains t = T − k iterations");
    let low_cfg = Retrain::LowLrWeightRewind.train_config(&config(1).train);
    assert!(low_cfg.schedule.milestones.is_empty());
}
