//! A stage kind defined outside the engine — this one file — and added with one registry line
//! (`stage::register`), with no edit to `imp.rs`, `config.rs` or any paper: configs name it,
//! the job set, dependencies, folders, the pipeline and the records take it as they take the
//! built-in kinds.

use crate::engine::{config, data, run_imp};
use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage};
use common::models::Model;
use common::paths;
use common::prune::Mask;
use common::stage::{self, Kind, StageCx, Start};
use common::train::{self, checkpoint, TrainOutcome};
use tch::Device;

/// `negated`: the level's mask on −θ_k, evaluated once without training.
struct Negated;

impl Kind for Negated {
    fn name(&self) -> &'static str {
        "negated"
    }

    fn trains_weights(&self) -> bool {
        false
    }

    fn start(&self, cx: &StageCx) -> anyhow::Result<Start> {
        let mut model = cx.fresh_model(cx.init_seed())?;
        let negated = cx.exp.rewind_weights(cx.job.replicate)?.into_iter().map(|(k, v)| (k, -v)).collect();
        model.restore(&negated)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> anyhow::Result<TrainOutcome> {
        Ok(train::evaluate_untrained(&mut start.model, &start.mask, cx.exp.data, cx.config().rewind_iteration))
    }
}

fn negated() -> BranchKind {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| stage::register(&Negated).expect("a new name"));
    BranchKind::named("negated").unwrap()
}

#[test]
fn a_stage_kind_added_in_one_file_runs_through_the_engine() {
    let kind = negated();
    let d = data();
    let mut cfg = config(2);
    let trunk_hash = cfg.hash();
    cfg.replicates = 1;
    cfg.branches = vec![BranchConfig { kind, levels: vec![0, 2], copies: 2 }];
    // A config file names it; the branch leaves the trunk's identity alone.
    let back: ExperimentConfig = toml::from_str(&cfg.to_toml()).unwrap();
    assert_eq!(back, cfg);
    assert!(cfg.to_toml().contains("kind = \"negated\""));
    assert_eq!(cfg.hash(), trunk_hash);
    let runs = tempfile::tempdir().unwrap();
    let records = run_imp(&cfg, &d, 2, runs.path());
    let ours: Vec<String> =
        records.iter().filter(|r| r.stage.kind() == common::imp::StageKind::Branch(kind)).map(|r| format!("{}/{}", r.level, r.stage)).collect();
    assert_eq!(ours, ["0/negated_0", "0/negated_1", "2/negated_0", "2/negated_1"]);
    assert_eq!(
        common::imp::dependencies(JobId { replicate: 0, level: 2, stage: Stage::Branch(kind, 1) }),
        [JobId { replicate: 0, level: 2, stage: Stage::Main }]
    );
    // Its record is −θ_0 under the level's mask, evaluated by hand.
    let dir = runs.path().join(cfg.hash());
    let level2 = paths::stage_dir(&dir, 0, 2, "negated_1");
    let mask = Mask::load(&level2.join(paths::MASK), Device::Cpu).unwrap();
    let theta0 = checkpoint::load_weights(&paths::stage_dir(&dir, 0, 0, "main").join(paths::START)).unwrap();
    let mut m = Model::new(&cfg.model, d.shape, d.num_classes, 0, Device::Cpu).unwrap();
    m.restore(&theta0.into_iter().map(|(k, v)| (k, -v)).collect()).unwrap();
    mask.apply(&m);
    let (_, acc) = train::evaluate(&m, &d.test);
    let record = records.iter().find(|r| r.level == 2 && r.stage.name() == "negated_1").unwrap();
    assert_eq!(record.outcome.log.test_acc, [acc]);
    assert!(record.pruning.is_none(), "a kind that trains no weight measures no stability to pruning");
    assert!((record.density - 0.8f64.powi(2)).abs() < 0.05, "the level's mask: density {}", record.density);
}

#[test]
fn an_unknown_or_doubly_registered_kind_is_a_clear_error() {
    negated();
    let e = BranchKind::named("negatd").unwrap_err().to_string();
    assert!(e.contains("unknown branch kind `negatd`") && e.contains("negated") && e.contains("reinit"), "{e}");
    let e = stage::register(&Negated).unwrap_err().to_string();
    assert!(e.contains("registered twice"), "{e}");
}
