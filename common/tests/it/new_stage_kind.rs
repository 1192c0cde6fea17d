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
    cfg.branches = vec![BranchConfig::new(kind, vec![0, 2], 2)];
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
        common::imp::dependencies(JobId { replicate: 0, level: 2, stage: Stage::Branch(kind, 1) }, &cfg),
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
    assert_eq!(record.outcome.log.test_acc(), [acc]);
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

/// `scaled`: the level's mask on `factor` × θ_k, evaluated once without training — a kind with a
/// typed parameter (default 1).
struct Scaled;

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Factor {
    #[serde(default = "one", skip_serializing_if = "is_one")]
    factor: f64,
}

fn one() -> f64 {
    1.0
}

fn is_one(f: &f64) -> bool {
    *f == 1.0
}

impl Kind for Scaled {
    fn name(&self) -> &'static str {
        "scaled"
    }

    fn trains_weights(&self) -> bool {
        false
    }

    fn params(&self, params: &stage::Params) -> anyhow::Result<stage::Params> {
        let typed: Factor = serde_json::from_value(serde_json::Value::Object(params.clone()))?;
        let serde_json::Value::Object(canonical) = serde_json::to_value(typed)? else { unreachable!("a struct") };
        Ok(canonical)
    }

    fn start(&self, cx: &StageCx) -> anyhow::Result<Start> {
        let Factor { factor } = cx.params()?;
        let mut model = cx.fresh_model(cx.init_seed())?;
        let scaled = cx.exp.rewind_weights(cx.job.replicate)?.into_iter().map(|(k, v)| (k, v * factor)).collect();
        model.restore(&scaled)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> anyhow::Result<TrainOutcome> {
        Ok(train::evaluate_untrained(&mut start.model, &start.mask, cx.exp.data, cx.config().rewind_iteration))
    }
}

fn scaled(factor: Option<f64>) -> anyhow::Result<BranchConfig> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| stage::register(&Scaled).expect("a new name"));
    let params = factor.map(|f| serde_json::json!({ "factor": f }).as_object().unwrap().clone()).unwrap_or_default();
    BranchConfig::new(BranchKind::named("scaled")?, vec![1], 1).with_params(params)
}

#[test]
fn a_kinds_parameters_name_its_folders_and_leave_the_trunk_alone() {
    let d = data();
    let mut cfg = config(1);
    cfg.replicates = 1;
    let trunk_hash = cfg.hash();
    let (default, stated_default, negated) = (scaled(None).unwrap(), scaled(Some(1.0)).unwrap(), scaled(Some(-1.0)).unwrap());
    assert_eq!(default, stated_default, "a parameter stated at its default is no parameter");
    assert_ne!(default.kind, negated.kind);
    cfg.branches = vec![default, negated.clone()];
    assert_eq!(cfg.hash(), trunk_hash, "branch parameters are not the trunk's identity");
    // A config file states them as a table beside the kind, and reads back the same.
    let text = cfg.to_toml();
    assert!(text.contains("[branches.params]\nfactor = -1.0"), "{text}");
    assert_eq!(toml::from_str::<ExperimentConfig>(&text).unwrap(), cfg);
    let runs = tempfile::tempdir().unwrap();
    let records = run_imp(&cfg, &d, 2, runs.path());
    let label = negated.kind.label();
    assert!(label.starts_with("scaled-") && label.len() == "scaled-".len() + 8, "{label}");
    let ours: Vec<String> = records.iter().filter(|r| r.stage.kind().name().starts_with("scaled")).map(|r| r.stage.name()).collect();
    assert_eq!(ours, ["scaled_0".to_string(), format!("{label}_0")]);
    let folder = paths::stage_dir(&runs.path().join(cfg.hash()), 0, 1, &format!("{label}_0"));
    assert!(folder.join(paths::OUTCOME).exists(), "{} holds the stage", folder.display());
    assert_eq!(Stage::parse(&format!("{label}_0")).unwrap(), Stage::Branch(negated.kind, 0));
    // The factor reached the start: −1 × θ_0 under the level's mask is `negated`'s start.
    let acc = |name: &str| records.iter().find(|r| r.stage.name() == name).unwrap().outcome.log.test_acc().to_vec();
    let theta0 = checkpoint::load_weights(&paths::stage_dir(&runs.path().join(cfg.hash()), 0, 0, "main").join(paths::START)).unwrap();
    let mask = Mask::load(&folder.join(paths::MASK), Device::Cpu).unwrap();
    let mut m = Model::new(&cfg.model, d.shape, d.num_classes, 0, Device::Cpu).unwrap();
    m.restore(&theta0.into_iter().map(|(k, v)| (k, -v)).collect()).unwrap();
    mask.apply(&m);
    assert_eq!(acc(&format!("{label}_0")), [train::evaluate(&m, &d.test).1]);
    assert_ne!(acc("scaled_0"), acc(&format!("{label}_0")));
}

#[test]
fn a_parameter_a_kind_does_not_take_is_refused() {
    let e = scaled(None).unwrap().with_params(serde_json::json!({ "factr": 2.0 }).as_object().unwrap().clone()).unwrap_err();
    assert!(format!("{e:#}").contains("unknown field `factr`"), "{e:#}");
    let e = BranchConfig::new(BranchKind::REINIT, vec![1], 1).with_params(serde_json::json!({ "lr": 0.1 }).as_object().unwrap().clone()).unwrap_err();
    assert!(format!("{e:#}").contains("takes no parameters"), "{e:#}");
}
