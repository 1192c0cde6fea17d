//! Iterative magnitude pruning with rewinding, its branches, caching and the parallel job runner.
//!
//! For each replicate `r`, level 0 trains the dense network from θ_0 (drawn from the seed of
//! `r`) and keeps θ_k, the weights after `rewind_iteration` = k steps (θ_0 when k = 0). Level
//! `L > 0` prunes the final weights of level `L − 1` by magnitude under the config's rule and
//! retrains from iteration k to the end with a fresh optimizer, as `cfg.retrain` says: survivors
//! reset to θ_k and the schedule restarted at k (weight rewinding, the default, as open_lth), or
//! kept at their trained values with the schedule replayed from k (learning-rate rewinding) or
//! at its final rate (fine-tuning); a non-default `cfg.ticket` builds the level instead by a
//! mask criterion and Zhou et al.'s values for the kept and pruned weights (`crate::ticket`).
//! Branches off level `L` (reinit, random pruning, one-shot, spawned copies, …) reuse or
//! re-derive its mask and train once more; untrained and learned supermasks evaluate or mask
//! θ_k under it without training a weight.
//!
//! Each stage is a job with its own folder (see [`crate::paths`]); a stage whose `outcome.json`
//! exists is skipped, an interrupted stage resumes from its checkpoint. Independent jobs (other
//! replicates, branches) run concurrently on `jobs` worker threads; every random stream is keyed
//! by (seed, replicate, level, branch, copy), so results do not depend on scheduling.

use crate::config::{BranchKind, ExperimentConfig};
use crate::data::Dataset;
use crate::interpolate::PairRecord;
use crate::models::Model;
use crate::paths;
use crate::progress::Progress;
use crate::prune::{LayerDensity, Mask};
use crate::rng::derive_seed;
use crate::stability::PruningDistance;
use crate::stage::kind_of;
use crate::train::{self, checkpoint, Status, TrainOutcome};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use tch::Device;

/// What a stage trains: the IMP trunk or copy `c` of a branch. Stored by name (folder, HDF5
/// group, `outcome.json`): `main`, `reinit_0`, `oneshot`, `oneshot-reinit_2`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Stage {
    Main,
    Branch(BranchKind, u32),
}

/// A stage without its copy index: what replicates and copies are aggregated over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum StageKind {
    Main,
    Branch(BranchKind),
}

impl StageKind {
    /// `main`, or the branch's label (`reinit`; `perturb-1a2b3c4d` with parameters).
    pub fn name(self) -> String {
        match self {
            StageKind::Main => "main".into(),
            StageKind::Branch(k) => k.label(),
        }
    }

    /// Whether this is a branch of `kind`'s kind, whatever its parameters.
    pub fn is(self, kind: BranchKind) -> bool {
        matches!(self, StageKind::Branch(k) if k.same_kind(kind))
    }

    pub fn parse(s: &str) -> Result<Self> {
        if s == "main" {
            return Ok(StageKind::Main);
        }
        BranchKind::parse_label(s).map(StageKind::Branch)
    }
}

impl Stage {
    /// Folder and HDF5 group name (the kind's [`crate::stage::Kind::stage_name`]).
    pub fn name(self) -> String {
        kind_of(self).stage_name(&self.kind().name(), self.copy())
    }

    /// The copy index (0 for the trunk).
    pub fn copy(self) -> u32 {
        match self {
            Stage::Main => 0,
            Stage::Branch(_, c) => c,
        }
    }

    pub fn kind(self) -> StageKind {
        match self {
            Stage::Main => StageKind::Main,
            Stage::Branch(k, _) => StageKind::Branch(k),
        }
    }

    /// Inverse of [`Stage::name`].
    pub fn parse(s: &str) -> Result<Self> {
        let (kind, copy) = match s.rsplit_once('_') {
            Some((k, c)) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) => (k, c.parse::<u32>()?),
            _ => (s, 0),
        };
        let stage = match StageKind::parse(kind)? {
            StageKind::Main => Stage::Main,
            StageKind::Branch(k) => Stage::Branch(k, copy),
        };
        if stage.name() != s {
            bail!("`{s}` is not a stage name (expected e.g. main, reinit_0, oneshot)");
        }
        Ok(stage)
    }
}

macro_rules! string_conversions {
    ($t:ty) => {
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.name().to_string()
            }
        }
        impl TryFrom<String> for $t {
            type Error = anyhow::Error;
            fn try_from(s: String) -> Result<Self> {
                <$t>::parse(&s)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.name())
            }
        }
    };
}
string_conversions!(Stage);
string_conversions!(StageKind);

/// One unit of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId {
    pub replicate: u32,
    pub level: u32,
    pub stage: Stage,
}

impl JobId {
    /// The trunk stage of this job's replicate at `level`.
    pub fn trunk(self, level: u32) -> JobId {
        JobId { replicate: self.replicate, level, stage: Stage::Main }
    }

    /// The iteration the stage trains from: 0 for the trunk's dense level (passing through k
    /// to record θ_k), the rewind iteration k for every other stage.
    pub fn first_iteration(self, cfg: &ExperimentConfig) -> u64 {
        kind_of(self.stage).first_iteration(self, cfg)
    }
}

/// The finished stage, as stored in `outcome.json` and in the results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub replicate: u32,
    pub level: u32,
    pub stage: Stage,
    /// Fraction of prunable weights remaining.
    pub density: f64,
    pub layers: Vec<LayerDensity>,
    pub outcome: TrainOutcome,
    /// The second copy of a spawned pair: the interpolation from its partner to itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<PairRecord>,
    /// Every stage that trains weights, but the trunk's level 0: its final weights against the
    /// full network's under its mask (stability to pruning, [`crate::stability`]). `None`
    /// otherwise, and in records written before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningDistance>,
    /// Further measurements by name (`docs/results-schema.md` lists each and its shape): one
    /// value per prunable layer in sorted-name order (`score_sum`: a pruner's per-layer score
    /// sums at initialisation), or a stage kind's own vectors (`bn_scale`: an early-bird
    /// search's |γ| at every epoch start); empty for most stages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// Where the stage trained: `cpu` or `cuda:N` ([`crate::device::name`]); records written
    /// before it was recorded say `cpu` (no GPU had run this code then).
    #[serde(default = "crate::device::cpu_name", skip_serializing_if = "crate::device::is_cpu_name")]
    pub device: String,
    /// The build, machine and time that trained this stage. A results file gains stages over
    /// several runs (other commits, other machines), and its `run_json` names only the last:
    /// each record says where its own numbers came from. `None` in records written before it
    /// was recorded (2026-12-07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained: Option<TrainedBy>,
}

/// Where a stage's numbers came from ([`StageRecord::trained`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainedBy {
    /// `git rev-parse HEAD` where the binary ran, `+dirty` with uncommitted code
    /// ([`crate::results::git_commit`]).
    pub git_commit: String,
    /// The machine ([`crate::device::describe`]): `cpu (AMD EPYC, AVX-512, 2 logical cores)`.
    pub machine: String,
    /// When the stage finished, UTC (`2026-12-07T04:31:50Z`).
    pub finished_at: String,
}

impl TrainedBy {
    /// This process's commit and machine, now. The commit is read once per process.
    pub fn now(device: Device) -> TrainedBy {
        static COMMIT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        TrainedBy {
            git_commit: COMMIT.get_or_init(crate::results::git_commit).clone(),
            machine: crate::device::describe(device),
            finished_at: crate::results::now_utc(),
        }
    }
}

/// `wanted` and every stage it depends on, transitively, in canonical order.
pub fn close_under_dependencies(wanted: &[JobId], cfg: &ExperimentConfig) -> Vec<JobId> {
    let mut out: BTreeSet<JobId> = BTreeSet::new();
    let mut todo: Vec<JobId> = wanted.to_vec();
    while let Some(j) = todo.pop() {
        if out.insert(j) {
            todo.extend(dependencies(j, cfg));
        }
    }
    out.into_iter().collect()
}

/// `jobs` less those whose stage `recorded` (a results file's records) already holds, unless a
/// job still to train depends on it, transitively. A results file's stages are not trained
/// again when the run folder that trained them is gone — trials added later train only
/// themselves — while a recorded stage whose files a pending stage needs (a trunk level under a
/// branch added later) is trained again into the run folder and its new record replaces the
/// old ([`crate::results::union`]): the same numbers on the machine and build that trained it,
/// numbers equal only to rounding on another CPU (libtorch's kernels differ by instruction set;
/// the recorded stages that start from it are then trained again too, [`stale_after_retraining`]).
pub fn still_to_train(jobs: &[JobId], recorded: &[StageRecord], cfg: &ExperimentConfig) -> Vec<JobId> {
    let held: BTreeSet<JobId> = recorded.iter().map(|r| JobId { replicate: r.replicate, level: r.level, stage: r.stage }).collect();
    let pending: Vec<JobId> = jobs.iter().filter(|j| !held.contains(j)).copied().collect();
    let needed: BTreeSet<JobId> = close_under_dependencies(&pending, cfg).into_iter().collect();
    jobs.iter().filter(|j| needed.contains(j)).copied().collect()
}

/// The stages of a results file that a run must train again because a stage they start from was
/// retrained with other numbers: `recorded` is the file's records before the run, `trained` the
/// run folder's (this run's and earlier ones'). A recorded stage that `trained` lacks is stale
/// when one of its parents ([`dependencies`]) was retrained and evaluates differently, or is
/// itself stale, so that every branch in a file comes from the trunk the file records (a trunk
/// retrained on another CPU differs in rounding, and a reinitialised ticket kept from the old
/// trunk would carry another trunk's mask). A kind that reads only how many weights each layer
/// of its parents keeps ([`crate::stage::Kind::reads_only_parent_counts`]) is stale only where
/// those counts changed. In canonical order; empty when the run reproduced what it retrained.
pub fn stale_after_retraining(recorded: &[StageRecord], trained: &[StageRecord], cfg: &ExperimentConfig) -> Vec<JobId> {
    let id = |r: &StageRecord| JobId { replicate: r.replicate, level: r.level, stage: r.stage };
    let old: BTreeMap<JobId, &StageRecord> = recorded.iter().map(|r| (id(r), r)).collect();
    let new: BTreeMap<JobId, &StageRecord> = trained.iter().map(|r| (id(r), r)).collect();
    let kept: Vec<JobId> = old.keys().filter(|j| !new.contains_key(j)).copied().collect();
    let retrained = || old.iter().filter_map(|(j, a)| new.get(j).map(|b| (j, a, b)));
    let changed: BTreeSet<JobId> = retrained().filter(|(_, a, b)| !crate::results::same_evaluations(a, b)).map(|(j, _, _)| *j).collect();
    let counts_changed: BTreeSet<JobId> = retrained().filter(|(_, a, b)| a.layers != b.layers).map(|(j, _, _)| *j).collect();
    // Parents come before their children in canonical order but for a few kinds' cross-level
    // parents, so iterate to a fixed point.
    let mut stale: BTreeSet<JobId> = BTreeSet::new();
    loop {
        let before = stale.len();
        for j in &kept {
            let counts_only = kind_of(j.stage).reads_only_parent_counts();
            let moved = |p: &JobId| stale.contains(p) || if counts_only { counts_changed.contains(p) } else { changed.contains(p) };
            if dependencies(*j, cfg).iter().any(moved) {
                stale.insert(*j);
            }
        }
        if stale.len() == before {
            return stale.into_iter().collect();
        }
    }
}

/// Every job of `cfg`, in canonical order (replicate, level, stage).
pub fn jobs(cfg: &ExperimentConfig) -> Vec<JobId> {
    let mut out = BTreeSet::new();
    for replicate in 0..cfg.replicates {
        for level in 0..=cfg.levels {
            out.insert(JobId { replicate, level, stage: Stage::Main });
        }
        for b in &cfg.branches {
            let copies = b.kind.get().copies(b.copies);
            for &level in &b.levels {
                for c in 0..copies {
                    out.insert(JobId { replicate, level, stage: Stage::Branch(b.kind, c) });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Jobs that must finish before `job` of `cfg` starts (its kind's [`crate::stage::Kind::parents`]).
pub fn dependencies(job: JobId, cfg: &ExperimentConfig) -> Vec<JobId> {
    kind_of(job.stage).parents(job, cfg)
}

/// Identity of an experiment's run folder (12 hex digits): the config's trunk identity
/// ([`ExperimentConfig::hash`]) and the data's [`Provenance::fingerprint`], so that the same
/// config on other data (the 10,000-digit MNIST subset, say) never reuses cached stages. A
/// transfer experiment's identity also carries its source's run folder name (`source`), so a
/// source trained on other data gives another target folder. Kernels that can change a number
/// of this network ([`Kernels::identity`]: `auto` or `sparse` on a LeNet) add their name, so
/// the folder says which arithmetic produced its stages; dense ones add nothing.
///
/// [`Provenance::fingerprint`]: crate::data::Provenance::fingerprint
/// [`Kernels::identity`]: crate::sparse::Kernels::identity
pub fn run_identity(cfg: &ExperimentConfig, data: &crate::data::Provenance, source: Option<&Path>, kernels: crate::sparse::Kernels) -> String {
    let mut key = format!("{}|{}", cfg.hash(), data.fingerprint());
    if let Some(dir) = source.and_then(|d| d.file_name()) {
        key.push_str(&format!("|{}", dir.to_string_lossy()));
    }
    if let Some(tag) = kernels.identity(&cfg.model.arch) {
        key.push_str(&format!("|kernels={tag}"));
    }
    crate::util::sha256_hex(key.as_bytes())[..12].to_string()
}

/// The validation-split seed of an experiment (shared by all its replicates).
pub fn split_seed(cfg: &ExperimentConfig) -> u64 {
    derive_seed(cfg.seed, "validation-split", &[])
}

/// Everything a job needs besides its id.
pub struct Experiment<'a> {
    pub config: &'a ExperimentConfig,
    /// `<runs>/<name>-<hash>`.
    pub dir: PathBuf,
    pub data: &'a Dataset,
    pub device: Device,
    /// Save a resumable checkpoint every this many evaluations (0 = never).
    pub checkpoint_every: usize,
    /// A transfer experiment's source run folder (`config.transfer`), whose tickets it trains.
    pub source: Option<PathBuf>,
    /// Which arithmetic trains its stages (`--kernels`).
    pub kernels: crate::sparse::Kernels,
}

impl Experiment<'_> {
    /// The folder of stage `j`.
    pub fn stage_dir(&self, j: JobId) -> PathBuf {
        paths::stage_dir(&self.dir, j.replicate, j.level, &j.stage.name())
    }

    /// The run folder's identity ([`run_identity`]), which every checkpoint carries.
    pub fn identity(&self) -> String {
        run_identity(self.config, &self.data.provenance, self.source.as_deref(), self.kernels)
    }

    /// The resumable checkpoints of the stage whose folder is `dir`.
    pub fn checkpoint_slot(&self, dir: &Path) -> checkpoint::Slot {
        checkpoint::Slot { dir: dir.to_path_buf(), config_hash: self.identity(), every: self.checkpoint_every }
    }

    /// A new network from the config's initialiser, drawn with `seed`.
    pub fn fresh_model(&self, seed: u64) -> Result<Model> {
        Model::new(&self.config.model, self.data.shape, self.data.num_classes, seed, self.device)
    }

    /// θ_k of a replicate (θ_0 when k = 0), as saved by its level-0 stage.
    pub fn rewind_weights(&self, replicate: u32) -> Result<train::Weights> {
        let d = self.stage_dir(JobId { replicate, level: 0, stage: Stage::Main });
        let file = if self.config.rewind_iteration == 0 { paths::START } else { paths::REWIND };
        checkpoint::load_weights(&d.join(file))
    }

    /// The mask and final weights of trunk level `level` of a replicate.
    pub fn read_main(&self, replicate: u32, level: u32) -> Result<(Mask, train::Weights)> {
        let d = self.stage_dir(JobId { replicate, level, stage: Stage::Main });
        Ok((Mask::load(&d.join(paths::MASK), self.device)?, checkpoint::load_weights(&d.join(paths::FINAL))?))
    }

    /// Runs one stage (or returns its stored record) under the stage's own lock, so that two
    /// processes (two Slurm jobs, or a job and a local run) never train the same stage. A
    /// failure is left in the stage folder (`failed`) for `status`, and cleared by a success.
    pub fn run_job(&self, job: JobId, progress: &Progress) -> Result<StageRecord> {
        let dir = self.stage_dir(job);
        if let Some(r) = read_record(&dir.join(paths::OUTCOME))? {
            return Ok(r);
        }
        let _lock = FolderLock::acquire(&dir, "stage")?;
        let result = self.train_stage(job, &dir, progress);
        match &result {
            Ok(_) => {
                let _ = std::fs::remove_file(dir.join(paths::FAILED));
            }
            Err(e) => {
                let _ = std::fs::write(dir.join(paths::FAILED), format!("{e:#}"));
            }
        }
        result
    }

    fn train_stage(&self, job: JobId, dir: &Path, progress: &Progress) -> Result<StageRecord> {
        // Another process may have finished it while this one waited for the lock.
        if let Some(r) = read_record(&dir.join(paths::OUTCOME))? {
            return Ok(r);
        }
        crate::stage::train_stage(self, job, dir, progress)
    }

    /// Stability to pruning of `model` (trained under `mask`) against the replicate's full
    /// network: its level-0 final weights and θ_k, both on disk before any other stage starts.
    pub(crate) fn pruning_distance(&self, replicate: u32, mask: &Mask, model: &Model) -> Result<PruningDistance> {
        let (_, full) = self.read_main(replicate, 0)?;
        Ok(PruningDistance::measure(model.layers(), mask, &model.snapshot(), &full, &self.rewind_weights(replicate)?))
    }

    /// Iterations a job still has to run (for the progress bar).
    fn remaining(&self, job: JobId) -> u64 {
        if !kind_of(job.stage).trains_weights() || self.stage_dir(job).join(paths::OUTCOME).exists() {
            return 0;
        }
        self.config.train.iterations - job.first_iteration(self.config)
    }
}

/// Reads a stage's stored record; a damaged file is named and treated as absent (recomputed).
pub fn read_record(path: &Path) -> Result<Option<StageRecord>> {
    if !path.exists() {
        return Ok(None);
    }
    match serde_json::from_slice::<StageRecord>(&std::fs::read(path)?) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            let aside = path.with_extension(format!("json.corrupt-{}", std::process::id()));
            std::fs::rename(path, &aside)?;
            crate::progress::note(&format!("{} is damaged ({e}); kept it as {} and recomputing this stage", path.display(), aside.display()));
            Ok(None)
        }
    }
}

/// Every finished stage of the experiment's jobs, sorted by (replicate, level, stage).
pub fn collect(ctx: &Experiment) -> Result<Vec<StageRecord>> {
    let mut out = Vec::new();
    for j in jobs(ctx.config) {
        if let Some(r) = read_record(&ctx.stage_dir(j).join(paths::OUTCOME))? {
            out.push(r);
        }
    }
    out.sort_by_key(|r| (r.replicate, r.level, r.stage));
    Ok(out)
}

/// Result of running an experiment: the stages that failed, with why (empty when all finished).
pub struct RunReport {
    pub failures: Vec<(JobId, String)>,
}

/// Runs the jobs `all` on `workers` threads (one libtorch intra-op thread setting for all; set it
/// before calling), respecting dependencies. `all` must hold every stage its jobs depend on
/// (see [`close_under_dependencies`]); otherwise nothing runs and the missing stage is named.
/// A failed job fails its dependents; other jobs continue.
pub fn run(ctx: &Experiment, all: &[JobId], workers: usize, progress: &Progress) -> Result<RunReport> {
    run_sharing(ctx, all, &Slots::new(workers), progress)
}

/// Training slots shared by experiments trained side by side: a stage trains only while it
/// holds one, so `n` slots bound the stages training at once over all of them, and an
/// experiment whose other stages wait on a trunk level leaves its slot to another's ready
/// stages instead of a core idling.
///
/// Slots are numbered `0..n`; a stage trains on its slot's device
/// ([`crate::device::placement`]: on a machine with several GPUs, slot i on cuda:(i mod GPUs)).
pub struct Slots {
    free: Mutex<Vec<usize>>,
    cv: Condvar,
    total: usize,
}

impl Slots {
    pub fn new(n: usize) -> Slots {
        let n = n.max(1);
        Slots { free: Mutex::new((0..n).rev().collect()), cv: Condvar::new(), total: n }
    }

    /// How many there are.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Runs `f` holding a slot (waiting for one to be free), with the slot's number.
    fn with<T>(&self, f: impl FnOnce(usize) -> T) -> T {
        let slot = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match free.pop() {
                    Some(slot) => break slot,
                    None => free = self.cv.wait(free).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        let out = f(slot);
        self.free.lock().unwrap_or_else(|e| e.into_inner()).push(slot);
        self.cv.notify_one();
        out
    }
}

/// [`run`] with its stages training in `slots` shared with other experiments (one worker per
/// slot, each waiting for a free slot before it trains the stage it picked).
pub fn run_sharing(ctx: &Experiment, all: &[JobId], slots: &Slots, progress: &Progress) -> Result<RunReport> {
    let workers = slots.total();
    let all: Vec<JobId> = all.to_vec();
    if let Some((j, d)) = all.iter().find_map(|j| dependencies(*j, ctx.config).into_iter().find(|d| !all.contains(d)).map(|d| (j, d))) {
        bail!(
            "stage replicate {} level {} {} depends on replicate {} level {} {}, which is not in the job set; pass a set closed under dependencies (imp::close_under_dependencies)",
            j.replicate, j.level, j.stage, d.replicate, d.level, d.stage
        );
    }
    progress.add_total(all.iter().map(|&j| ctx.remaining(j)).sum());
    struct State {
        pending: Vec<JobId>,
        done: BTreeMap<JobId, StageRecord>,
        failed: BTreeMap<JobId, String>,
    }
    let state = Mutex::new(State { pending: all.clone(), done: BTreeMap::new(), failed: BTreeMap::new() });
    let cv = Condvar::new();
    let gpus = crate::device::visible_gpus(ctx.device);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let data = ctx.data.shallow_clone();
            let (state, cv) = (&state, &cv);
            let (config, dir, base, checkpoint_every, source, kernels) =
                (ctx.config, ctx.dir.clone(), ctx.device, ctx.checkpoint_every, ctx.source.clone(), ctx.kernels);
            s.spawn(move || {
                // The data on every other GPU this worker's stages land on, copied there once.
                let mut copies: BTreeMap<usize, crate::data::Dataset> = BTreeMap::new();
                let mut train = |slot: usize, job: JobId| {
                    let device = crate::device::placement(base, slot, gpus);
                    let data = match device {
                        Device::Cuda(i) if device != base => &*copies.entry(i).or_insert_with(|| data.to_device(device)),
                        _ => &data,
                    };
                    let local = Experiment { config, dir: dir.clone(), data, device, checkpoint_every, source: source.clone(), kernels };
                    local.run_job(job, progress)
                };
                loop {
                    let job = {
                        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if st.pending.is_empty() {
                                return;
                            }
                            // Fail jobs whose dependencies failed.
                            let doomed: Vec<JobId> =
                                st.pending.iter().copied().filter(|j| dependencies(*j, config).iter().any(|d| st.failed.contains_key(d))).collect();
                            for j in doomed {
                                st.pending.retain(|p| *p != j);
                                st.failed.insert(j, "skipped: a stage it depends on failed".into());
                                cv.notify_all();
                            }
                            match next_ready(&st.pending, |d| st.done.contains_key(d), config) {
                                Some(i) => break st.pending.remove(i),
                                None if st.pending.is_empty() => return,
                                None => st = cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                            }
                        }
                    };
                    let result = slots.with(|slot| train(slot, job));
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(rec) if matches!(rec.outcome.status, Status::Diverged { .. }) && job.stage == Stage::Main => {
                            st.failed.insert(job, "diverged".into());
                            st.done.insert(job, rec);
                        }
                        Ok(rec) => {
                            st.done.insert(job, rec);
                        }
                        Err(e) => {
                            progress.println(&format!("error: replicate {} level {} {}: {e:#}", job.replicate, job.level, job.stage.name()));
                            st.failed.insert(job, format!("{e:#}"));
                        }
                    }
                    cv.notify_all();
                }
            });
        }
    });
    let st = state.into_inner().unwrap_or_else(|e| e.into_inner());
    let failures = st.failed.into_iter().filter(|(j, _)| !st.done.contains_key(j)).collect();
    Ok(RunReport { failures })
}

/// The index in `pending` of the job to train next: the first whose dependencies are all `done`,
/// trunk levels before branches — every later level and its branches wait on the trunk, so a
/// free slot never leaves it queued behind a branch (the order changes wall time, not numbers).
fn next_ready(pending: &[JobId], done: impl Fn(&JobId) -> bool, cfg: &ExperimentConfig) -> Option<usize> {
    let ready = |j: &JobId| dependencies(*j, cfg).iter().all(&done);
    pending.iter().position(|j| j.stage == Stage::Main && ready(j)).or_else(|| pending.iter().position(ready))
}

/// Where a stage stands, from its folder alone (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageState {
    /// `outcome.json` exists.
    Done,
    /// A process holds the stage's lock (with the Slurm job id it was submitted as, if any).
    Running(Option<String>),
    /// The last attempt failed, with why.
    Failed(String),
    /// Submitted to Slurm and not started (or not yet seen to start).
    Submitted(String),
    NotStarted,
}

impl Experiment<'_> {
    /// The state of `job` in this experiment's run folder.
    pub fn stage_state(&self, job: JobId) -> StageState {
        stage_state(&self.stage_dir(job))
    }
}

/// The state of the stage whose folder is `dir`.
pub fn stage_state(dir: &Path) -> StageState {
    let submitted = std::fs::read_to_string(dir.join(paths::SLURM_JOB)).ok().map(|s| s.trim().to_string());
    if dir.join(paths::OUTCOME).exists() {
        StageState::Done
    } else if FolderLock::is_held(dir) {
        StageState::Running(submitted)
    } else if let Ok(why) = std::fs::read_to_string(dir.join(paths::FAILED)) {
        StageState::Failed(why.lines().next().unwrap_or("").to_string())
    } else if let Some(id) = submitted {
        StageState::Submitted(id)
    } else {
        StageState::NotStarted
    }
}

/// An exclusive lock on a folder (an experiment's, held by `run`; a stage's, held while it
/// trains) for the life of the value; a second process gets a clear error naming the holder's
/// pid instead of corrupting the run. The kernel drops it when the process dies.
///
/// It is an open-file-description lock (`F_OFD_SETLK` on `<dir>/lock`): it conflicts between
/// processes and between two acquisitions in one process alike, and [`FolderLock::is_held`] can
/// test it (`F_OFD_GETLK`) without ever holding it, so `status` never makes a starting stage fail.
pub struct FolderLock {
    _file: std::fs::File,
}

/// A write lock over the whole file, as `fcntl` takes it.
fn whole_file(kind: libc::c_int) -> libc::flock {
    // SAFETY: `flock` is a plain C struct; all-zero is a valid value (l_pid must be 0 for OFD locks).
    let mut l: libc::flock = unsafe { std::mem::zeroed() };
    l.l_type = kind as libc::c_short;
    l.l_whence = libc::SEEK_SET as libc::c_short;
    l
}

impl FolderLock {
    /// Whether some process (this one included) holds the lock of `dir` now; never takes it.
    pub fn is_held(dir: &Path) -> bool {
        use std::os::unix::io::AsRawFd;
        let Ok(file) = std::fs::File::open(dir.join(paths::LOCK)) else { return false };
        let mut probe = whole_file(libc::F_WRLCK);
        // SAFETY: fcntl on a file descriptor we own, with a pointer to a live `flock`.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut probe) };
        rc == 0 && probe.l_type != libc::F_UNLCK as libc::c_short
    }

    /// Locks `dir` (created if needed); `what` names it in the error ("experiment", "stage").
    pub fn acquire(dir: &Path, what: &str) -> Result<Self> {
        use std::os::unix::io::AsRawFd;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create run folder {} (check permissions or pass another --runs-dir)", dir.display()))?;
        let path = dir.join(paths::LOCK);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .read(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let lock = whole_file(libc::F_WRLCK);
        // SAFETY: fcntl on a file descriptor we own, with a pointer to a live `flock`.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) } != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            bail!("another process (pid {}) is running this {what} in {}; wait for it to finish, or use another --runs-dir", holder.trim(), dir.display());
        }
        use std::io::Write;
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = write!(f, "{}", std::process::id());
        Ok(FolderLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::{jobs, next_ready, JobId, Slots, Stage};
    use crate::config::{BranchConfig, BranchKind, ExperimentConfig};
    use crate::data::DatasetName;
    use crate::models::{Arch, InitKind, ModelConfig};
    use crate::prune::PruneConfig;
    use crate::train::TrainConfig;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Once a trunk level is done, the next trunk level trains before that level's branches,
    /// which nothing else waits on; branches fill the slots the trunk leaves.
    #[test]
    fn the_next_trunk_level_goes_before_branches() {
        let model = ModelConfig { arch: Arch::Lenet { hidden: vec![8] }, init: InitKind::GlorotNormal };
        let cfg = ExperimentConfig {
            branches: vec![BranchConfig::new(BranchKind::REINIT, vec![1, 2], 2)],
            ..ExperimentConfig::new(
                "t".into(),
                "smoke",
                DatasetName::Synthetic,
                model,
                TrainConfig::lenet_adam(10, 5),
                PruneConfig::layer_wise(0.0, 0.2, 0.1),
                2,
            )
        };
        let all = jobs(&cfg);
        let trunk = |level| JobId { replicate: 0, level, stage: Stage::Main };
        let done = [trunk(0), trunk(1)];
        let mut pending: Vec<JobId> = all.iter().copied().filter(|j| !done.contains(j)).collect();
        let first = next_ready(&pending, |d| done.contains(d), &cfg).map(|i| pending[i]);
        assert_eq!(first, Some(trunk(2)), "level 1's reinitialisations are ready too, but the trunk comes first");
        pending.retain(|j| *j != trunk(2));
        let second = next_ready(&pending, |d| done.contains(d), &cfg).map(|i| pending[i]);
        assert!(second.is_some_and(|j| j.level == 1 && j.stage != Stage::Main), "then a branch of level 1: {second:?}");
    }

    /// However many workers wait, no more stages train at once than there are slots, and every
    /// one of them gets to train.
    #[test]
    fn slots_bound_the_stages_training_at_once() {
        let slots = Slots::new(2);
        let (active, peak, ran) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    slots.with(|_| {
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        active.fetch_sub(1, Ordering::SeqCst);
                        ran.fetch_add(1, Ordering::SeqCst);
                    })
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 2, "{} at once", peak.load(Ordering::SeqCst));
        assert_eq!(ran.load(Ordering::SeqCst), 8);
        assert_eq!(Slots::new(0).total(), 1, "at least one slot");
    }
}
