//! Zhou et al.'s tickets in the IMP trunk: a mask criterion, the survivors' start values and the
//! pruned weights' treatments, checked on the stored weights of a real run.

use crate::engine::{config, data, model, run_imp};
use common::config::ExperimentConfig;
use common::criteria::{self, Criterion, KeptValues};
use common::paths;
use common::prune::{Mask, PruneConfig};
use common::rng::derive_seed;
use common::ticket::{PrunedValues, TicketConfig};
use common::train::{self, checkpoint, Weights};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// One replicate, one pruned level, under `ticket`: (config, θ_0, level-0 final, level-1 mask,
/// level-1 final, level-1 first validation loss).
struct Level1 {
    cfg: ExperimentConfig,
    theta_0: Weights,
    trained: Weights,
    mask: Mask,
    end: Weights,
    first_val_loss: f64,
}

fn level1(ticket: TicketConfig) -> Level1 {
    let d = data();
    let mut cfg = config(1);
    cfg.branches.clear();
    cfg.replicates = 1;
    cfg.ticket = ticket;
    cfg.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 1, dir.path());
    let stage = |level: u32| paths::stage_dir(&dir.path().join(cfg.hash()), 0, level, "main");
    let weights = |level: u32, file: &str| checkpoint::load_weights(&stage(level).join(file)).unwrap();
    Level1 {
        theta_0: weights(0, paths::START),
        trained: weights(0, paths::FINAL),
        mask: Mask::load(&stage(1).join(paths::MASK), Device::Cpu).unwrap(),
        end: weights(1, paths::FINAL),
        first_val_loss: recs.iter().find(|r| r.level == 1).unwrap().outcome.log.val_loss()[0],
        cfg,
    }
}

fn ticket(criterion: Option<Criterion>, kept: KeptValues, pruned: PrunedValues) -> TicketConfig {
    TicketConfig { criterion, kept, pruned }
}

/// Entries of `t` where `select` is true.
fn at(t: &Tensor, select: &Tensor) -> Vec<f32> {
    Vec::try_from(t.masked_select(select)).unwrap()
}

#[test]
fn frozen_pruned_weights_hold_their_initial_values_while_the_survivors_train() {
    let r = level1(ticket(None, KeptValues::Rewind, PrunedValues::FreezeInit));
    for (name, m) in &r.mask.0 {
        let (pruned, kept) = (m.eq(0.0), m.eq(1.0));
        assert!(!at(&r.mask.0[name], &pruned).is_empty(), "{name} has pruned entries");
        assert_eq!(at(&r.end[name], &pruned), at(&r.theta_0[name], &pruned), "{name}: pruned weights stayed at w_i exactly");
        assert_ne!(at(&r.end[name], &kept), at(&r.theta_0[name], &kept), "{name}: the survivors trained");
    }
    // The same level with pruned weights at zero is another network.
    let zero = level1(TicketConfig::LOTTERY);
    assert_ne!(zero.first_val_loss.to_bits(), r.first_val_loss.to_bits());
}

#[test]
fn zeroing_the_weights_that_moved_toward_zero_follows_the_authors_two_variants() {
    for pruned in [PrunedValues::FreezeInitZeroMask, PrunedValues::FreezeInitZeroAll] {
        let r = level1(ticket(None, KeptValues::Rewind, pruned));
        let mut zeroed_survivors = 0;
        for (name, m) in &r.mask.0 {
            let (wi, wf) = (&r.theta_0[name], &r.trained[name]);
            let shrank = wi.abs().gt_tensor(&wf.abs());
            let pruned_mask = m.eq(0.0);
            // Pruned: 0 where |w_i| > |w_f|, w_i elsewhere — exactly, after training.
            let want = wi * shrank.logical_not().to_kind(Kind::Float);
            assert_eq!(at(&r.end[name], &pruned_mask), at(&want, &pruned_mask), "{pruned:?} {name}");
            zeroed_survivors += at(&shrank, &m.eq(1.0).logical_and(&shrank)).len();
        }
        assert!(zeroed_survivors > 0, "some survivors moved toward zero");
        // Variant 2 also starts those survivors at zero: its first evaluation differs from Variant 1's.
        if pruned == PrunedValues::FreezeInitZeroAll {
            let v1 = level1(ticket(None, KeptValues::Rewind, PrunedValues::FreezeInitZeroMask));
            assert_ne!(v1.first_val_loss.to_bits(), r.first_val_loss.to_bits());
            let start = r.cfg.ticket.start(&r.theta_0, &r.trained, &r.mask, 0);
            for (name, m) in &r.mask.0 {
                let survivors_that_shrank = m.eq(1.0).logical_and(&r.theta_0[name].abs().gt_tensor(&r.trained[name].abs()));
                assert!(at(&start.weights[name], &survivors_that_shrank).iter().all(|&x| x == 0.0), "{name}");
            }
        }
    }
}

#[test]
fn a_criterion_ticket_keeps_the_criterions_choice_and_starts_from_its_kept_values() {
    let t = ticket(Some(Criterion::MagnitudeIncrease), KeptValues::SignedConstant, PrunedValues::Zero);
    let r = level1(t);
    // The mask is the criterion's, from (θ_0, level-0 final) with the layer-wise counts.
    let m0 = model(&r.cfg, &data(), 0);
    let keep: BTreeMap<String, usize> = match r.cfg.kept_at(1, m0.layers()) {
        common::config::Kept::PerLayer(k) => m0.layers().iter().zip(k).map(|(l, k)| (l.name.clone(), k as usize)).collect(),
        other => panic!("layer-wise config: {other:?}"),
    };
    let want = criteria::mask(&Mask::dense(&m0), Criterion::MagnitudeIncrease, &r.theta_0, &r.trained, &keep, derive_seed(r.cfg.seed, "ticket-mask", &[0, 1]));
    for (name, m) in &r.mask.0 {
        assert!(m.equal(&want.0[name]), "{name}: the criterion's mask");
        assert_eq!(m.sum(Kind::Int64).int64_value(&[]) as usize, keep[name], "{name}: the layer-wise count");
    }
    let magnitude = level1(TicketConfig::LOTTERY);
    assert!(r.mask.0.iter().any(|(n, m)| !m.equal(&magnitude.mask.0[n])), "magnitude increase keeps other weights than large final");
    // Level 1 starts from sign(w_i)·σ_layer on the survivors: its first evaluation is that network's.
    let mut start = model(&r.cfg, &data(), 0);
    let mut w: Weights = r.theta_0.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
    for (li, (name, m)) in r.mask.0.iter().enumerate() {
        w.insert(
            name.clone(),
            criteria::kept_values(
                KeptValues::SignedConstant,
                &r.theta_0[name],
                m,
                derive_seed(derive_seed(r.cfg.seed, "ticket-values", &[0, 1]), "kept-values", &[li as u64]),
            ),
        );
    }
    start.restore(&w).unwrap();
    let (vl, _) = train::evaluate(&start, &data().validation);
    assert_eq!(vl.to_bits(), r.first_val_loss.to_bits());
}

#[test]
fn tickets_that_cannot_apply_are_one_line_errors() {
    let mut cfg = config(1);
    cfg.ticket = ticket(Some(Criterion::LargeFinal), KeptValues::Rewind, PrunedValues::Zero);
    cfg.prune = PruneConfig::Global { fraction: 0.2, roles: vec![common::models::LayerRole::Fc] };
    assert!(cfg.validate().unwrap_err().to_string().contains("use layer-wise pruning"));
    let mut cfg = config(1);
    cfg.ticket = ticket(None, KeptValues::Reshuffle, PrunedValues::FreezeInitZeroAll);
    assert!(cfg.validate().unwrap_err().to_string().contains("use kept = \"rewind\""));
    let mut cfg = config(1);
    cfg.ticket = ticket(None, KeptValues::Reinit, PrunedValues::Zero);
    cfg.retrain = common::config::Retrain::LrRewind;
    assert!(cfg.validate().unwrap_err().to_string().contains("weight-rewind"));
    // The default ticket leaves every existing config's identity unchanged (tested with the
    // pinned hash in engine.rs); a non-default one is part of it.
    let mut other = config(1);
    other.ticket = ticket(None, KeptValues::SignedReinit, PrunedValues::Zero);
    assert_ne!(other.hash(), config(1).hash());
}

#[test]
fn untrained_supermasks_are_the_levels_mask_on_theta_k_evaluated_once() {
    let d = data();
    let mut cfg = config(1);
    cfg.replicates = 1;
    cfg.branches = vec![
        common::config::BranchConfig::new(common::config::BranchKind::UNTRAINED, vec![1], 1),
        common::config::BranchConfig::new(common::config::BranchKind::UNTRAINED_SIGNED_CONSTANT, vec![1], 1),
    ];
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let stage = |s: &str| paths::stage_dir(&dir.path().join(cfg.hash()), 0, 1, s);
    let mask = Mask::load(&stage("main").join(paths::MASK), Device::Cpu).unwrap();
    let theta_0 = checkpoint::load_weights(&paths::stage_dir(&dir.path().join(cfg.hash()), 0, 0, "main").join(paths::START)).unwrap();
    for (name, values) in [("untrained_0", KeptValues::Rewind), ("untrained-signed-constant_0", KeptValues::SignedConstant)] {
        let rec = recs.iter().find(|r| r.stage.to_string() == name).unwrap();
        assert_eq!(rec.outcome.log.iteration, [0], "{name}: one evaluation, no training");
        assert!(!stage(name).join(paths::FINAL).exists(), "{name}: nothing trained, nothing saved");
        let mut m = model(&cfg, &d, 0);
        let mut w: Weights = theta_0.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
        for (layer, mk) in &mask.0 {
            w.insert(layer.clone(), criteria::kept_values(values, &theta_0[layer], mk, 0));
        }
        m.restore(&w).unwrap();
        let (_, acc) = train::evaluate(&m, &d.test);
        assert_eq!(acc.to_bits(), rec.outcome.log.test_acc()[0].to_bits(), "{name}: the masked start's accuracy");
    }
}

#[test]
fn a_learned_supermask_branch_learns_logits_over_the_levels_frozen_weights() {
    let d = data();
    let mut cfg = config(1);
    cfg.replicates = 1;
    let branch = common::config::BranchConfig::new(common::config::BranchKind::LEARNED_SUPERMASK, vec![0, 1], 1);
    let missing = branch.clone().with_params(common::stage::Params::new()).unwrap_err();
    assert!(format!("{missing:#}").contains("missing field `lr`"), "{missing:#}");
    let trunk_alone = cfg.hash();
    cfg.branches = vec![branch.with_params(learned_supermask_params()).unwrap()];
    cfg.validate().unwrap();
    assert_eq!(cfg.hash(), trunk_alone, "the supermask's settings leave the trunk's identity");
    let label = cfg.branches[0].kind.label();
    assert!(label.starts_with("learned-supermask-") && label.len() == "learned-supermask-".len() + 8, "{label}");
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    for level in [0, 1] {
        let rec = recs.iter().find(|r| r.level == level && r.stage.to_string() == format!("{label}_0")).unwrap();
        assert_eq!(rec.outcome.log.iteration, [0, 100, 200]);
        let acc = &rec.outcome.log.test_acc();
        assert!(acc[2] > acc[0] + 0.1, "level {level}: the mask learns ({acc:?})");
        assert!(rec.pruning.is_none(), "no weight was trained");
        let stage = paths::stage_dir(&dir.path().join(cfg.hash()), 0, level, &format!("{label}_0"));
        let logits = checkpoint::load_weights(&stage.join(paths::LOGITS)).unwrap();
        let mask = Mask::load(&stage.join(paths::MASK), Device::Cpu).unwrap();
        assert_eq!(logits.keys().collect::<Vec<_>>(), mask.0.keys().collect::<Vec<_>>(), "one logit tensor per prunable layer");
        assert!(!stage.join(paths::FINAL).exists());
    }
}

/// A learned supermask's settings as branch params (dynamic weight rescaling, the rest at the
/// authors' MNIST values but for a short run).
pub fn learned_supermask_params() -> common::stage::Params {
    common::stage::to_params(&common::supermask::SupermaskConfig {
        lr: 100.0,
        momentum: 0.9,
        batch_size: 64,
        iterations: 200,
        eval_every: 100,
        score_init: 0.0,
        signed_constant: false,
        dynamic_scaling: true,
    })
}
