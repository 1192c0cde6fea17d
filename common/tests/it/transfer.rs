//! Morcos et al.'s ticket transfer in the engine: a transfer experiment's levels start from its
//! source's masks and late-reset weights, the output layer drawn afresh; the source is part of
//! the target's identity. And the training subsets of the controls (halves, fractions).

use crate::engine::{config, run_imp};
use common::config::ExperimentConfig;
use common::data::{self, TrainSubset};
use common::imp::{self, Experiment};
use common::models::{LayerRole, Model};
use common::paths;
use common::progress::Progress;
use common::prune::Mask;
use common::rng::derive_seed;
use common::sparse::Kernels;
use common::train::optim::OptimizerConfig;
use common::train::{self, checkpoint};
use common::transfer::TransferConfig;
use tch::Device;

/// A late-reset IMP source (k = 20, two levels) on one synthetic dataset.
fn source() -> ExperimentConfig {
    let mut cfg = config(2);
    cfg.name = "source".into();
    cfg.branches.clear();
    cfg.replicates = 1;
    cfg.rewind_iteration = 20;
    cfg
}

/// The source's tickets trained on another dataset with SGD.
fn target(source: &ExperimentConfig) -> ExperimentConfig {
    let mut cfg = source.clone();
    cfg.name = "target".into();
    cfg.rewind_iteration = 0;
    cfg.train.optimizer = OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    cfg.transfer = Some(TransferConfig { experiment: "source".into(), source: Box::new(source.clone()), reinit_output: true });
    cfg
}

fn is_output(m: &Model, name: &str) -> bool {
    m.layers().iter().any(|l| l.role == LayerRole::Output && (l.name == name || name.strip_suffix("bias").is_some_and(|s| l.name.starts_with(s))))
}

#[test]
fn a_transferred_ticket_starts_from_the_sources_mask_and_late_reset_weights_with_a_fresh_output_layer() {
    crate::init();
    let runs = tempfile::tempdir().unwrap();
    let (src, src_data) = (source(), data::synthetic(5, 1_200, 300, 10));
    run_imp(&src, &src_data, 1, runs.path());
    let src_dir = runs.path().join(src.hash());
    let tgt = target(&src);
    tgt.validate().unwrap();
    let tgt_data = data::synthetic(9, 1_200, 300, 10);
    let exp = Experiment {
        config: &tgt,
        dir: runs.path().join("target"),
        data: &tgt_data,
        device: Device::Cpu,
        checkpoint_every: 0,
        source: Some(src_dir.clone()),
        kernels: Kernels::Auto,
    };
    let report = imp::run(&exp, &imp::jobs(&tgt), 1, &Progress::new("test", true)).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let records = imp::collect(&exp).unwrap();

    let stage = |dir: &std::path::Path, level| paths::stage_dir(dir, 0, level, "main");
    let theta_k = checkpoint::load_weights(&stage(&src_dir, 0).join(paths::REWIND)).unwrap();
    let theta_0 = checkpoint::load_weights(&stage(&src_dir, 0).join(paths::START)).unwrap();
    let fresh = Model::new(&tgt.model, tgt_data.shape, tgt_data.num_classes, derive_seed(tgt.seed, "transfer-init", &[0]), Device::Cpu).unwrap();
    // Level 0 starts from θ_k on every variable but the output layer, which is a new draw.
    let start = checkpoint::load_weights(&stage(&exp.dir, 0).join(paths::START)).unwrap();
    for (name, w) in &start {
        if is_output(&fresh, name) {
            // (Biases start at zero in both, so only the weight can differ from θ_0.)
            assert!(!w.equal(&theta_k[name]), "{name} is re-initialised, not the source's θ_k");
            assert!(name.ends_with("bias") || !w.equal(&theta_0[name]), "{name} is a new draw, not the source's θ_0");
            assert!(w.equal(&fresh.snapshot()[name]), "{name} is the target's own draw");
        } else {
            assert!(w.equal(&theta_k[name]), "{name} is the source's θ_k exactly");
        }
    }
    for level in 1..=2 {
        let (src_mask, tgt_mask) = [&src_dir, &exp.dir].map(|d| Mask::load(&stage(d, level).join(paths::MASK), Device::Cpu).unwrap()).into();
        for (name, m) in &tgt_mask.0 {
            if is_output(&fresh, name) {
                assert_eq!(m.sum(tch::Kind::Float).double_value(&[]), m.numel() as f64, "{name}: the re-initialised output layer is dense");
            } else {
                assert!(m.equal(&src_mask.0[name]), "level {level} {name}: the source's mask exactly");
            }
        }
        // Its first evaluation is the hand-built start: θ_k ⊙ m with the fresh output layer.
        let mut by_hand = Model::new(&tgt.model, tgt_data.shape, tgt_data.num_classes, derive_seed(tgt.seed, "transfer-init", &[0]), Device::Cpu).unwrap();
        let mut w = by_hand.snapshot();
        for (name, v) in w.iter_mut() {
            if !is_output(&by_hand, name) {
                *v = theta_k[name].copy();
            }
        }
        by_hand.restore(&w).unwrap();
        tgt_mask.apply(&by_hand);
        let (loss, _) = train::evaluate(&by_hand, &tgt_data.test);
        let rec = records.iter().find(|r| r.level == level && r.stage == imp::Stage::Main).unwrap();
        assert_eq!(rec.outcome.log.iteration[0], 0, "a transferred ticket trains the whole schedule");
        assert_eq!(rec.outcome.log.test_loss()[0].to_bits(), loss.to_bits(), "level {level}: starts exactly from the transferred ticket");
        assert!(rec.outcome.log.test_loss().last().unwrap() < &loss, "level {level} trains on the target");
    }
}

#[test]
fn the_source_is_part_of_the_targets_identity_and_a_bad_transfer_is_a_one_line_error() {
    let src = source();
    let tgt = target(&src);
    let mut longer = src.clone();
    longer.train.iterations += 20;
    assert_ne!(tgt.hash(), target(&longer).hash(), "another source config, another target hash");
    let mut more_trials = src.clone();
    more_trials.replicates = 3;
    assert_eq!(tgt.hash(), target(&more_trials).hash(), "the source's trials do not change its tickets");
    let d = data::synthetic(9, 1_200, 300, 10);
    let (a, b) = (std::path::Path::new("runs/source-aaaaaaaaaaaa"), std::path::Path::new("runs/source-bbbbbbbbbbbb"));
    assert_ne!(
        imp::run_identity(&tgt, &d.provenance, Some(a), Kernels::Auto),
        imp::run_identity(&tgt, &d.provenance, Some(b), Kernels::Auto),
        "the same source config on other data"
    );
    assert_eq!(imp::run_identity(&src, &d.provenance, None, Kernels::Auto), imp::run_identity(&src, &d.provenance, None, Kernels::Auto));

    let err = |cfg: ExperimentConfig| cfg.validate().unwrap_err().to_string();
    let mut deeper = target(&src);
    deeper.levels = 3;
    assert!(err(deeper).contains("transfer source source stops at level 2"));
    let mut late = target(&src);
    late.rewind_iteration = 10;
    assert!(err(late).contains("set rewind_iteration = 0"));
    let mut other_net = target(&src);
    other_net.model.arch = common::models::Arch::Lenet { hidden: vec![10] };
    assert!(err(other_net).contains("a ticket transfers to the same architecture"));
    let mut more_trials = target(&src);
    more_trials.replicates = 2;
    assert!(err(more_trials).contains("pass the same --trials to both"));
}

#[test]
fn halves_are_disjoint_and_cover_the_training_split_and_fractions_are_nested() {
    let n = 1_001;
    let (a, b) = (TrainSubset::HalfA.indices(n, 7), TrainSubset::HalfB.indices(n, 7));
    assert_eq!((a.len(), b.len()), (500, 501));
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..n as i64).collect::<Vec<_>>(), "disjoint, and together the whole split");
    assert_ne!(a, (0..500).collect::<Vec<i64>>(), "a seeded draw, not the first half");
    let (tenth, fifth) = (TrainSubset::Fraction(0.1).indices(n, 7), TrainSubset::Fraction(0.2).indices(n, 7));
    assert_eq!((tenth.len(), fifth.len()), (100, 200));
    assert!(tenth.iter().all(|i| fifth.contains(i)), "a fraction lies inside every larger one");
    assert_ne!(TrainSubset::HalfA.indices(n, 8), a, "another split seed, other halves");

    let d = data::synthetic(5, 1_200, 300, 10);
    let (val, test) = (d.validation.len(), d.test.len());
    let whole = d.provenance.fingerprint();
    let half = d.restricted(TrainSubset::HalfB);
    assert_eq!((half.train.len(), half.validation.len(), half.test.len()), (550, val, test), "only the training split shrinks");
    assert_eq!(half.provenance.train_examples, 550);
    assert!(half.provenance.train_subset.as_deref().unwrap().contains("half b"));
    assert_ne!(half.provenance.fingerprint(), whole);
    assert!(TrainSubset::Fraction(1.5).validate().unwrap_err().to_string().contains("strictly between 0 and 1"));
}
