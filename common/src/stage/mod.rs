//! What a stage does, one kind per file behind [`Kind`], and the fixed pipeline every stage runs
//! through ([`train_stage`]): start (weights, mask, frozen values, training schedule) → save the
//! mask → run (train, evaluate or learn a mask) → keep the final weights if the kind's
//! dependents read them → measure (the spawned pair's interpolation, stability to pruning) →
//! record, atomically.
//!
//! The trunk ([`trunk::Trunk`], stage `main`) is one kind; every branch kind is registered by
//! name ([`BranchKind`], [`register`]). Adding a kind is one file and one line in
//! [`registry`]'s built-in list (or a [`register`] call for a paper's or a test's own), with no
//! edit to [`crate::imp`] or [`crate::config`].

pub mod at_init;
pub mod early_bird;
pub mod learned_supermask;
pub mod oneshot;
pub mod perturbed;
pub mod pretrained;
pub mod random_prune;
pub mod registry;
pub mod reinit;
pub mod spawn;
pub mod statistics;
pub mod trunk;
pub mod untrained;

pub use registry::{register, BranchKind, ParamsId};

/// A branch's parameters as its config states them (a TOML table, `params = { … }`); each kind
/// reads its own, typed ([`Kind::params`], [`StageCx::params`]).
pub type Params = serde_json::Map<String, serde_json::Value>;

/// A kind's typed parameters written as branch params.
pub fn to_params<T: serde::Serialize>(value: &T) -> Params {
    match serde_json::to_value(value).expect("parameters serialise") {
        serde_json::Value::Object(m) => m,
        other => panic!("parameters serialise to a table, not {other}"),
    }
}

/// A kind's typed parameters read from a branch's `params`.
pub fn from_params<T: serde::de::DeserializeOwned>(params: &Params) -> serde_json::Result<T> {
    serde_json::from_value(serde_json::Value::Object(params.clone()))
}

/// [`from_params`] for a kind's [`Kind::params`]: an error reads "`<whose>` params: <what serde
/// found>; <usage>", `usage` saying what the kind takes.
pub fn read_params<T: serde::de::DeserializeOwned>(params: &Params, whose: &str, usage: &str) -> Result<T> {
    from_params(params).map_err(|e| anyhow::format_err!("{whose} params: {e}; {usage}"))
}

use crate::config::{BranchConfig, ExperimentConfig, OptimizerStart, RetrainStart};
use crate::imp::{Experiment, JobId, Stage, StageRecord};
use crate::interpolate::PairRecord;
use crate::models::Model;
use crate::paths;
use crate::progress::Progress;
use crate::prune::Mask;
use crate::rng::derive_seed;
use crate::train::hooks::{CountSteps, Hook, SaveWeightsAt};
use crate::train::{self, checkpoint, Status, TrainConfig, TrainOutcome, Weights};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// One kind of stage: how it starts, what it depends on, how it runs and what it measures.
///
/// Its [`Kind::name`] and the purpose strings of its random streams are an API boundary: stored
/// stages are found by them, so they never change (a new behaviour is a new kind).
pub trait Kind: Sync + Send {
    /// Folder, HDF5 group and config name (`reinit`, `spawn-reinit`).
    fn name(&self) -> &'static str;

    /// The stage name of copy `copy` of the branch labelled `label` (the kind's name, with
    /// `-<params>` when it has parameters): `reinit_2`.
    fn stage_name(&self, label: &str, copy: u32) -> String {
        format!("{label}_{copy}")
    }

    /// The canonical form of a branch's `params`: checked, typed, and with every parameter at
    /// its default left out, so that stating a default keeps the folder name. Default: the kind
    /// takes none. A kind with parameters parses them into its own type (unknown keys are
    /// errors) and writes back the non-default ones.
    fn params(&self, params: &Params) -> Result<Params> {
        if let Some(key) = params.keys().next() {
            anyhow::bail!("branch kind `{}` takes no parameters, but its params set `{key}`; remove it", self.name());
        }
        Ok(Params::new())
    }

    /// How many copies a branch asking for `asked` gets (one-shot pruning: always one).
    fn copies(&self, asked: u32) -> u32 {
        asked
    }

    /// Stages that must finish before `job` of an experiment configured as `cfg` starts
    /// (default: its trunk level; a branch drawing from another branch finds it in `cfg`).
    fn parents(&self, job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        vec![job.trunk(job.level)]
    }

    /// Whether the stage reads of its parents only how many weights each layer of their masks
    /// keeps (random pruning at a level's per-layer counts), not their weights or which weights
    /// survive: a recorded stage of such a kind stays valid when its parent is retrained with other
    /// numbers but the same counts ([`crate::imp::stale_after_retraining`]). Default: false.
    fn reads_only_parent_counts(&self) -> bool {
        false
    }

    /// Whether the stage trains weights (untrained and learned supermasks do not).
    fn trains_weights(&self) -> bool {
        true
    }

    /// Whether its record measures stability to pruning (every stage that trains weights, but
    /// the trunk's dense level).
    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        self.trains_weights()
    }

    /// Whether dependents read its final weights (`final.pt` is kept in the stage folder).
    fn keeps_final_weights(&self) -> bool {
        false
    }

    /// The iteration training starts from (default: the rewind iteration k).
    fn first_iteration(&self, _job: JobId, cfg: &ExperimentConfig) -> u64 {
        cfg.rewind_iteration
    }

    /// Checks a branch of this kind against the config it is part of.
    fn validate(&self, _branch: &BranchConfig, _cfg: &ExperimentConfig) -> Result<()> {
        Ok(())
    }

    /// The stage's start: weights (in the model), mask, frozen values and schedule.
    fn start(&self, cx: &StageCx) -> Result<Start>;

    /// Seed of its data order and augmentation (default: the replicate's).
    fn data_seed(&self, cx: &StageCx) -> u64 {
        derive_seed(cx.config().seed, "data-order", &[cx.job.replicate as u64])
    }

    /// Trains (default: the training loop from [`Kind::first_iteration`] under the start's mask).
    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        cx.train(start, self.data_seed(cx), None)
    }

    /// The interpolation from a partner's final weights to `model`'s (the second copy of a
    /// spawned pair); `None` for every other stage.
    fn pair(&self, _cx: &StageCx, _model: &mut Model) -> Result<Option<PairRecord>> {
        Ok(None)
    }
}

/// Where a stage starts.
pub struct Start {
    /// The network, holding the start weights (unmasked; the pipeline masks them).
    pub model: Model,
    pub mask: Mask,
    /// Values the pruned weights hold instead of zero (Zhou et al.'s frozen treatments).
    pub frozen: Option<Weights>,
    /// The training config: the experiment's, or a retraining's (`cfg.retrain`).
    pub train: TrainConfig,
    /// The optimizer state to start from (`cfg.optimizer_start`); `None`: fresh.
    pub optimizer: Option<Weights>,
    /// Measurements made while starting, recorded by name ([`StageRecord::metrics`]).
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// The data the stage trains and evaluates on instead of the experiment's (a pretraining
    /// task, [`crate::data::pretext`]); `None`: the experiment's.
    pub data: Option<crate::data::Dataset>,
}

impl Start {
    /// `model` under `mask`, trained as the experiment says.
    pub fn new(model: Model, mask: Mask, cfg: &ExperimentConfig) -> Start {
        Start { model, mask, frozen: None, train: cfg.train.clone(), optimizer: None, metrics: BTreeMap::new(), data: None }
    }
}

/// What a kind sees of the stage it runs: the experiment, the job, its folder and the progress
/// bar.
pub struct StageCx<'a> {
    pub exp: &'a Experiment<'a>,
    pub job: JobId,
    /// The stage's own folder (created, locked).
    pub dir: &'a Path,
    pub progress: &'a Progress,
}

impl StageCx<'_> {
    pub fn config(&self) -> &ExperimentConfig {
        self.exp.config
    }

    /// This branch's parameters as the kind's type `T` (its defaults where the config states
    /// none; the trunk has none).
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let raw = match self.job.stage {
            Stage::Main => Params::new(),
            Stage::Branch(kind, _) => {
                let branch = self.config().branches.iter().find(|b| b.kind == kind);
                branch.map(|b| b.params.clone()).ok_or_else(|| anyhow::format_err!("no branch `{kind}` in the config"))?
            }
        };
        serde_json::from_value(serde_json::Value::Object(raw)).map_err(|e| anyhow::format_err!("branch {}: params: {e}", self.job.stage))
    }

    /// `(replicate, level)` as seed coordinates.
    pub fn coords(&self) -> (u64, u64) {
        (self.job.replicate as u64, self.job.level as u64)
    }

    /// The replicate's initialisation (θ_0's draw).
    pub fn init_seed(&self) -> u64 {
        derive_seed(self.config().seed, "init", &[self.job.replicate as u64])
    }

    /// A draw of `purpose` keyed by (replicate, level, copy).
    pub fn copy_seed(&self, purpose: &str, copy: u32) -> u64 {
        let (r, l) = self.coords();
        derive_seed(self.config().seed, purpose, &[r, l, copy as u64])
    }

    /// A new network from the experiment's initialiser, drawn with `seed`.
    pub fn fresh_model(&self, seed: u64) -> Result<Model> {
        self.exp.fresh_model(seed)
    }

    /// The training loop on `start` from [`Kind::first_iteration`], with resumable checkpoints
    /// in the stage folder, saving the weights at iteration `snapshot` (θ_k) when asked.
    pub fn train(&self, start: &mut Start, data_seed: u64, snapshot: Option<u64>) -> Result<TrainOutcome> {
        self.train_with(start, data_seed, snapshot, kind_of(self.job.stage).first_iteration(self.job, self.config()), Vec::new())
    }

    /// [`StageCx::train`] from iteration `first`, with the kind's own `hooks` (a loss term, a
    /// recorder) after the progress and θ_k hooks.
    pub fn train_with(&self, start: &mut Start, data_seed: u64, snapshot: Option<u64>, first: u64, extra: Vec<&mut dyn Hook>) -> Result<TrainOutcome> {
        let slot = self.exp.checkpoint_slot(self.dir);
        let rewind_path = self.dir.join(paths::REWIND);
        let (rewind_optimizer, final_optimizer) = (self.dir.join(paths::REWIND_OPTIMIZER), self.dir.join(paths::FINAL_OPTIMIZER));
        // A trunk stage keeps its optimizer state where a later retraining restores it.
        let keeps_optimizer = self.restores_optimizer() && self.job.stage == Stage::Main;
        let mut progress = CountSteps(|_| self.progress.inc(1));
        let mut theta_k =
            snapshot.map(|iteration| SaveWeightsAt { iteration, path: &rewind_path, optimizer: keeps_optimizer.then_some(rewind_optimizer.as_path()) });
        let mut hooks: Vec<&mut dyn Hook> = vec![&mut progress];
        if let Some(h) = theta_k.as_mut() {
            hooks.push(h);
        }
        for hook in extra {
            hooks.push(hook);
        }
        let spec = train::RunSpec {
            data_seed,
            start: first,
            checkpoint: Some(&slot),
            hooks,
            frozen: start.frozen.as_ref(),
            optimizer: start.optimizer.as_ref(),
            keep_optimizer: keeps_optimizer.then_some(final_optimizer.as_path()),
            kernels: self.exp.kernels,
        };
        self.config().task.train(&mut start.model, &start.mask, start.data.as_ref().unwrap_or(self.exp.data), &start.train, spec)
    }

    /// Whether retrainings restore the optimizer state saved with their start weights (the
    /// config asks, and the optimizer has state).
    fn restores_optimizer(&self) -> bool {
        self.config().optimizer_start == OptimizerStart::WithWeights && self.config().train.optimizer.has_state()
    }

    /// Starts a pruned network's retraining from level `from`'s weights as `cfg.retrain` says
    /// (θ_k, the trained weights it was pruned from, or new weights): its schedule, and the
    /// optimizer state saved with those weights where `cfg.optimizer_start` restores it (θ_0's
    /// is a fresh optimizer's).
    pub fn retrain(&self, model: &mut Model, from: u32) -> Result<Retraining> {
        let cfg = self.config();
        let trunk = |level: u32| self.exp.stage_dir(JobId { replicate: self.job.replicate, level, stage: Stage::Main });
        let saved =
            |path: std::path::PathBuf| -> Result<Option<Weights>> { Ok(if self.restores_optimizer() { Some(checkpoint::load_weights(&path)?) } else { None }) };
        let optimizer = match cfg.retrain.start() {
            RetrainStart::Rewound => {
                model.restore(&self.exp.rewind_weights(self.job.replicate)?)?;
                if cfg.rewind_iteration > 0 {
                    saved(trunk(0).join(paths::REWIND_OPTIMIZER))?
                } else {
                    None
                }
            }
            RetrainStart::Trained => {
                model.restore(&self.exp.read_main(self.job.replicate, from)?.1)?;
                saved(trunk(from).join(paths::FINAL_OPTIMIZER))?
            }
            RetrainStart::Reinitialised => {
                let (r, l) = self.coords();
                *model = self.fresh_model(derive_seed(cfg.seed, "retrain-reinit", &[r, l, u64::from(self.job.stage != Stage::Main)]))?;
                None
            }
        };
        Ok(Retraining { train: cfg.retrain.train_config(&cfg.train), optimizer })
    }
}

/// How a retraining starts: [`StageCx::retrain`].
pub struct Retraining {
    pub train: TrainConfig,
    pub optimizer: Option<Weights>,
}

/// The behaviour of a stage: the trunk's or its branch kind's.
pub fn kind_of(stage: Stage) -> &'static dyn Kind {
    match stage {
        Stage::Main => &trunk::Trunk,
        Stage::Branch(kind, _) => kind.get(),
    }
}

/// Runs one stage through the pipeline and writes its record (`outcome.json`) last.
pub(crate) fn train_stage(exp: &Experiment, job: JobId, dir: &Path, progress: &Progress) -> Result<StageRecord> {
    let kind = kind_of(job.stage);
    let cx = StageCx { exp, job, dir, progress };
    let mut start = kind.start(&cx)?;
    start.mask.save(&dir.join(paths::MASK))?;
    let outcome = kind.run(&cx, &mut start)?;
    if let Status::Diverged { iteration } = outcome.status {
        progress.println(&format!(
            "warning: replicate {} level {} {} diverged (non-finite loss at iteration {iteration}); recorded and skipped",
            job.replicate,
            job.level,
            job.stage.name()
        ));
    }
    let Start { mut model, mask, metrics, .. } = start;
    if kind.keeps_final_weights() {
        checkpoint::save_weights(&dir.join(paths::FINAL), &model.snapshot())?;
    }
    let pair = kind.pair(&cx, &mut model)?;
    let pruning = if kind.measures_pruning_distance(job) { Some(exp.pruning_distance(job.replicate, &mask, &model)?) } else { None };
    let record = StageRecord {
        replicate: job.replicate,
        level: job.level,
        stage: job.stage,
        density: mask.density(),
        layers: mask.report(),
        outcome,
        pair,
        pruning,
        metrics,
        device: crate::device::name(exp.device),
        trained: Some(crate::imp::TrainedBy::now(exp.device)),
    };
    crate::util::write_atomic(&dir.join(paths::OUTCOME), serde_json::to_string(&record)?.as_bytes())?;
    exp.checkpoint_slot(dir).clear();
    Ok(record)
}
