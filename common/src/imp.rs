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

use crate::config::{BranchKind, ExperimentConfig, Kept, RetrainStart};
use crate::interpolate::PairRecord;
use crate::data::Dataset;
use crate::models::Model;
use crate::paths;
use crate::progress::Progress;
use crate::prune::{LayerDensity, Mask};
use crate::rng::derive_seed;
use crate::stability::PruningDistance;
use crate::ticket::TicketConfig;
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
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Main => "main",
            StageKind::Branch(k) => k.as_str(),
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        if s == "main" {
            return Ok(StageKind::Main);
        }
        BranchKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .map(StageKind::Branch)
            .ok_or_else(|| anyhow::format_err!("unknown stage kind `{s}`"))
    }
}

impl Stage {
    /// Folder and HDF5 group name.
    pub fn name(self) -> String {
        match self {
            Stage::Main => "main".into(),
            Stage::Branch(BranchKind::Oneshot, 0) => "oneshot".into(),
            Stage::Branch(k, c) => format!("{}_{c}", k.as_str()),
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
    /// Level 0 of the trunk: trains the dense network from iteration 0 (passing through k to
    /// record θ_k); every other stage trains from the rewind iteration k.
    fn first_iteration(self, cfg: &ExperimentConfig) -> u64 {
        if self.stage == Stage::Main && self.level == 0 {
            0
        } else {
            cfg.rewind_iteration
        }
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
}

/// `wanted` and every stage it depends on, transitively, in canonical order.
pub fn close_under_dependencies(wanted: &[JobId]) -> Vec<JobId> {
    let mut out: BTreeSet<JobId> = BTreeSet::new();
    let mut todo: Vec<JobId> = wanted.to_vec();
    while let Some(j) = todo.pop() {
        if out.insert(j) {
            todo.extend(dependencies(j));
        }
    }
    out.into_iter().collect()
}

/// Every job of `cfg`, in canonical order (replicate, level, stage).
pub fn jobs(cfg: &ExperimentConfig) -> Vec<JobId> {
    let mut out = BTreeSet::new();
    for replicate in 0..cfg.replicates {
        for level in 0..=cfg.levels {
            out.insert(JobId { replicate, level, stage: Stage::Main });
        }
        for b in &cfg.branches {
            let copies = if b.kind == BranchKind::Oneshot { 1 } else { b.copies };
            for &level in &b.levels {
                for c in 0..copies {
                    out.insert(JobId { replicate, level, stage: Stage::Branch(b.kind, c) });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Jobs that must finish before `job` starts.
pub fn dependencies(job: JobId) -> Vec<JobId> {
    let main = |level| JobId { replicate: job.replicate, level, stage: Stage::Main };
    match job.stage {
        Stage::Main if job.level == 0 => vec![],
        Stage::Main => vec![main(job.level - 1)],
        // One-shot pruning needs the dense network only: its counts come from the config.
        Stage::Branch(BranchKind::Oneshot | BranchKind::OneshotReinit, _) => vec![main(0)],
        // The second copy of a spawned pair compares itself with the first.
        Stage::Branch(kind, c) if kind.is_spawn() && c % 2 == 1 => vec![main(job.level), JobId { stage: Stage::Branch(kind, c - 1), ..job }],
        Stage::Branch(..) => vec![main(job.level)],
    }
}

/// The copy of a spawned control whose start (weights, and random mask) pair `c / 2` shares:
/// `spawn-reinit_c` starts as `reinit_{c/2}`, `spawn-random-prune_c` as `random-prune_{c/2}`.
fn start_of(stage: Stage) -> Stage {
    match stage {
        Stage::Branch(BranchKind::SpawnReinit, c) => Stage::Branch(BranchKind::Reinit, c / 2),
        Stage::Branch(BranchKind::SpawnRandomPrune, c) => Stage::Branch(BranchKind::RandomPrune, c / 2),
        other => other,
    }
}

/// Identity of an experiment's run folder (12 hex digits): the config's trunk identity
/// ([`ExperimentConfig::hash`]) and the data's [`Provenance::fingerprint`], so that the same
/// config on other data (the 10,000-digit MNIST subset, say) never reuses cached stages. A
/// transfer experiment's identity also carries its source's run folder name (`source`), so a
/// source trained on other data gives another target folder.
///
/// [`Provenance::fingerprint`]: crate::data::Provenance::fingerprint
pub fn run_identity(cfg: &ExperimentConfig, data: &crate::data::Provenance, source: Option<&Path>) -> String {
    let mut key = format!("{}|{}", cfg.hash(), data.fingerprint());
    if let Some(dir) = source.and_then(|d| d.file_name()) {
        key.push_str(&format!("|{}", dir.to_string_lossy()));
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
}

impl Experiment<'_> {
    fn stage_dir(&self, j: JobId) -> PathBuf {
        paths::stage_dir(&self.dir, j.replicate, j.level, &j.stage.name())
    }

    fn fresh_model(&self, seed: u64) -> Result<Model> {
        Model::new(&self.config.model, self.data.shape, self.data.num_classes, seed, self.device)
    }

    /// θ_k of a replicate (θ_0 when k = 0), as saved by its level-0 stage.
    fn rewind_weights(&self, replicate: u32) -> Result<train::Weights> {
        let d = self.stage_dir(JobId { replicate, level: 0, stage: Stage::Main });
        let file = if self.config.rewind_iteration == 0 { paths::START } else { paths::REWIND };
        checkpoint::load_weights(&d.join(file))
    }

    fn read_main(&self, replicate: u32, level: u32) -> Result<(Mask, train::Weights)> {
        let d = self.stage_dir(JobId { replicate, level, stage: Stage::Main });
        Ok((Mask::load(&d.join(paths::MASK), self.device)?, checkpoint::load_weights(&d.join(paths::FINAL))?))
    }

    /// One-shot mask for `level`: the dense final weights of level 0 pruned by magnitude to the
    /// survivor counts IMP has at `level` (per layer; global: in total over the pruned roles),
    /// which the config alone determines ([`ExperimentConfig::kept_at`]).
    fn oneshot_mask(&self, replicate: u32, level: u32, dense: &Mask, layers: &[crate::models::LayerInfo]) -> Result<Mask> {
        let (_, final0) = self.read_main(replicate, 0)?;
        Ok(match (&self.config.prune, self.config.kept_at(level, layers)) {
            (crate::prune::PruneConfig::Global { roles, .. }, Kept::Pooled(kept)) => {
                let pooled: Vec<&crate::models::LayerInfo> = layers.iter().filter(|l| roles.contains(&l.role)).collect();
                let total: i64 = pooled.iter().map(|l| l.numel).sum();
                let names: Vec<String> = pooled.iter().map(|l| l.name.clone()).collect();
                dense.prune_global(&final0, &names, 1.0 - kept as f64 / total as f64)
            }
            (_, Kept::PerLayer(kept)) => {
                let fractions = layers.iter().zip(kept).map(|(l, k)| (l.name.clone(), (l.numel - k) as f64 / l.numel as f64)).collect();
                dense.prune_layerwise(&final0, &fractions)
            }
            (_, Kept::Pooled(_)) => unreachable!("pooled counts come from global pruning"),
        })
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
        let outcome_path = dir.join(paths::OUTCOME);
        // Another process may have finished it while this one waited for the lock.
        if let Some(r) = read_record(&outcome_path)? {
            return Ok(r);
        }
        let dir = dir.to_path_buf();
        let cfg = self.config;
        let seed = cfg.seed;
        let (r, l) = (job.replicate as u64, job.level as u64);
        let trunk_start = job.stage == Stage::Main && job.level == 0;
        // The trunk and one-shot start from the replicate's θ_0 (or θ_k); other branches draw new
        // weights from the same initialiser, keyed by (replicate, level, copy).
        let start_stage = start_of(job.stage);
        let weights_seed = match start_stage {
            // A transfer's own draw (its re-initialised output layer) is independent of the
            // source's initialisation, even under the same seed.
            Stage::Main if cfg.transfer.is_some() => derive_seed(seed, "transfer-init", &[r]),
            Stage::Main | Stage::Branch(BranchKind::Oneshot | BranchKind::Spawn, _) => derive_seed(seed, "init", &[r]),
            Stage::Branch(kind, c) => derive_seed(seed, &format!("{}-init", kind.as_str()), &[r, l, c as u64]),
        };
        let mut model = self.fresh_model(weights_seed)?;
        let dense = Mask::dense(&model);
        // Pruned trunk levels and one-shot branches retrain (`cfg.retrain`) from θ_k or from the
        // weights they were pruned from (level L − 1's final weights; the dense final weights).
        let mut frozen = None;
        let (mask, retrain_from) = match start_stage {
            Stage::Main if cfg.transfer.is_some() => {
                // Morcos et al.: the source's level-L mask and θ_k, the output layer re-drawn.
                let t = cfg.transfer.as_ref().expect("checked");
                let source = self.source.as_deref().context("a transfer experiment needs its source's run folder")?;
                let ticket = crate::transfer::load_ticket(source, job.replicate, job.level, t.source.rewind_iteration, t.reinit_output, &mut model)?;
                if trunk_start {
                    checkpoint::save_weights(&dir.join(paths::START), &model.snapshot())?;
                }
                (ticket.mask, None)
            }
            Stage::Main if trunk_start => {
                checkpoint::save_weights(&dir.join(paths::START), &model.snapshot())?;
                (dense, None)
            }
            Stage::Main if cfg.ticket != TicketConfig::LOTTERY => {
                // Zhou et al.'s tickets: the criterion's mask, the survivors' and pruned weights'
                // start values, from θ_k and the weights the level is pruned from.
                let (prev_mask, prev_final) = self.read_main(job.replicate, job.level - 1)?;
                let rewind = self.rewind_weights(job.replicate)?;
                let mask = cfg.ticket.mask(cfg, job.level, &prev_mask, &rewind, &prev_final, model.layers(), derive_seed(seed, "ticket-mask", &[r, l]));
                let start = cfg.ticket.start(&rewind, &prev_final, &mask, derive_seed(seed, "ticket-values", &[r, l]));
                model.restore(&start.weights)?;
                frozen = start.frozen;
                (mask, None)
            }
            Stage::Main => {
                let (prev_mask, prev_final) = self.read_main(job.replicate, job.level - 1)?;
                (prev_mask.prune_magnitude(&prev_final, model.layers(), &cfg.prune), Some(job.level - 1))
            }
            Stage::Branch(BranchKind::Reinit, _) => (self.read_main(job.replicate, job.level)?.0, None),
            Stage::Branch(BranchKind::SpawnReinit | BranchKind::SpawnRandomPrune, _) => unreachable!("mapped by start_of"),
            Stage::Branch(BranchKind::Spawn | BranchKind::Untrained | BranchKind::LearnedSupermask, _) => {
                model.restore(&self.rewind_weights(job.replicate)?)?;
                (self.read_main(job.replicate, job.level)?.0, None)
            }
            Stage::Branch(BranchKind::UntrainedSignedConstant, _) => {
                let (mask, rewind) = (self.read_main(job.replicate, job.level)?.0, self.rewind_weights(job.replicate)?);
                let mut start = rewind.iter().map(|(k, v)| (k.clone(), v.copy())).collect::<train::Weights>();
                for (name, m) in &mask.0 {
                    // No random choice is involved: the seed is unused.
                    start.insert(name.clone(), crate::criteria::kept_values(crate::criteria::KeptValues::SignedConstant, &rewind[name], m, 0));
                }
                model.restore(&start)?;
                (mask, None)
            }
            Stage::Branch(BranchKind::RandomPrune, c) => {
                let target = self.read_main(job.replicate, job.level)?.0;
                (dense.prune_random_like(&target, derive_seed(seed, "random-prune-mask", &[r, l, c as u64])), None)
            }
            Stage::Branch(BranchKind::Oneshot, _) => (self.oneshot_mask(job.replicate, job.level, &dense, model.layers())?, Some(0)),
            Stage::Branch(BranchKind::OneshotReinit, _) => (self.oneshot_mask(job.replicate, job.level, &dense, model.layers())?, None),
        };
        let train_cfg = match retrain_from {
            None => cfg.train.clone(),
            Some(from_level) => {
                match cfg.retrain.start() {
                    RetrainStart::Rewound => model.restore(&self.rewind_weights(job.replicate)?)?,
                    RetrainStart::Trained => model.restore(&self.read_main(job.replicate, from_level)?.1)?,
                    RetrainStart::Reinitialised => {
                        model = self.fresh_model(derive_seed(seed, "retrain-reinit", &[r, l, u64::from(job.stage != Stage::Main)]))?
                    }
                }
                cfg.retrain.train_config(&cfg.train)
            }
        };
        mask.save(&dir.join(paths::MASK))?;
        let start = cfg.rewind_iteration;
        let slot = checkpoint::Slot { dir: dir.clone(), config_hash: run_identity(cfg, &self.data.provenance, self.source.as_deref()), every: self.checkpoint_every };
        let rewind_path = dir.join(paths::REWIND);
        let snapshot_at = (trunk_start && start > 0).then_some((start, rewind_path.as_path()));
        let first = job.first_iteration(cfg);
        // Spawned copies see their own data order (copy c of every spawned kind the same one);
        // every other stage the replicate's.
        let data_seed = match job.stage {
            Stage::Branch(kind, c) if kind.is_spawn() => derive_seed(seed, "spawn-data-order", &[r, l, c as u64]),
            _ => derive_seed(seed, "data-order", &[r]),
        };
        let on_step = |_t: u64| progress.inc(1);
        let outcome = match job.stage {
            Stage::Branch(BranchKind::Untrained | BranchKind::UntrainedSignedConstant, _) => train::evaluate_untrained(&mut model, &mask, self.data, first),
            Stage::Branch(BranchKind::LearnedSupermask, c) => {
                let how = cfg.supermask.as_ref().context("learned-supermask needs the config's supermask table")?;
                let started = std::time::Instant::now();
                mask.to_device(self.device).apply(&model);
                let (log, logits) = crate::supermask::train(&mut model, self.data, how, derive_seed(seed, "learned-supermask", &[r, l, c as u64]))?;
                crate::util::write_tensors(&dir.join(paths::LOGITS), &logits.into_iter().collect::<Vec<_>>())?;
                log.outcome(started.elapsed().as_secs_f64())
            }
            _ => train::train(
                &mut model,
                &mask,
                self.data,
                &train_cfg,
                train::RunSpec { data_seed, start: first, snapshot_at, checkpoint: Some(&slot), on_step: &on_step, frozen: frozen.as_ref() },
            )?,
        };
        if let Status::Diverged { iteration } = outcome.status {
            progress.println(&format!(
                "warning: replicate {} level {} {} diverged (non-finite loss at iteration {iteration}); recorded and skipped",
                job.replicate, job.level, job.stage.name()
            ));
        }
        let spawned = matches!(job.stage, Stage::Branch(kind, _) if kind.is_spawn());
        if job.stage == Stage::Main || spawned {
            checkpoint::save_weights(&dir.join(paths::FINAL), &model.snapshot())?;
        }
        let pair = match job.stage {
            Stage::Branch(kind, c) if spawned && c % 2 == 1 => {
                let first = checkpoint::load_weights(&self.stage_dir(JobId { stage: Stage::Branch(kind, c - 1), ..job }).join(paths::FINAL))?;
                let own = model.snapshot();
                Some(crate::interpolate::compare(&mut model, c - 1, &first, &own, self.data, &cfg.interpolation)?)
            }
            _ => None,
        };
        let pruning = match job.stage {
            Stage::Main if job.level == 0 => None,
            Stage::Branch(kind, _) if !kind.trains_weights() => None,
            _ => Some(self.pruning_distance(job.replicate, &mask, &model)?),
        };
        let record = StageRecord {
            replicate: job.replicate,
            level: job.level,
            stage: job.stage,
            density: mask.density(),
            layers: mask.report(),
            outcome,
            pair,
            pruning,
        };
        crate::util::write_atomic(&outcome_path, serde_json::to_string(&record)?.as_bytes())?;
        slot.clear();
        Ok(record)
    }

    /// Stability to pruning of `model` (trained under `mask`) against the replicate's full
    /// network: its level-0 final weights and θ_k, both on disk before any other stage starts.
    fn pruning_distance(&self, replicate: u32, mask: &Mask, model: &Model) -> Result<PruningDistance> {
        let (_, full) = self.read_main(replicate, 0)?;
        Ok(PruningDistance::measure(model.layers(), mask, &model.snapshot(), &full, &self.rewind_weights(replicate)?))
    }

    /// Iterations a job still has to run (for the progress bar).
    fn remaining(&self, job: JobId) -> u64 {
        let trains_nothing = matches!(job.stage, Stage::Branch(kind, _) if !kind.trains_weights());
        if trains_nothing || self.stage_dir(job).join(paths::OUTCOME).exists() {
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
            eprintln!("note: {} is damaged ({e}); kept it as {} and recomputing this stage", path.display(), aside.display());
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
    let all: Vec<JobId> = all.to_vec();
    if let Some((j, d)) = all.iter().find_map(|j| dependencies(*j).into_iter().find(|d| !all.contains(d)).map(|d| (j, d))) {
        bail!(
            "stage replicate {} level {} {} depends on replicate {} level {} {}, which is not in the job set; pass a set closed under dependencies (imp::close_under_dependencies)",
            j.replicate, j.level, j.stage, d.replicate, d.level, d.stage
        );
    }
    progress.set_total(all.iter().map(|&j| ctx.remaining(j)).sum());
    struct State {
        pending: Vec<JobId>,
        done: BTreeMap<JobId, StageRecord>,
        failed: BTreeMap<JobId, String>,
    }
    let state = Mutex::new(State { pending: all.clone(), done: BTreeMap::new(), failed: BTreeMap::new() });
    let cv = Condvar::new();
    let workers = workers.max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let data = ctx.data.shallow_clone();
            let (state, cv) = (&state, &cv);
            let (config, dir, device, checkpoint_every, source) = (ctx.config, ctx.dir.clone(), ctx.device, ctx.checkpoint_every, ctx.source.clone());
            s.spawn(move || {
                let local = Experiment { config, dir, data: &data, device, checkpoint_every, source };
                loop {
                    let job = {
                        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if st.pending.is_empty() {
                                return;
                            }
                            // Fail jobs whose dependencies failed.
                            let doomed: Vec<JobId> = st.pending.iter().copied().filter(|j| dependencies(*j).iter().any(|d| st.failed.contains_key(d))).collect();
                            for j in doomed {
                                st.pending.retain(|p| *p != j);
                                st.failed.insert(j, "skipped: a stage it depends on failed".into());
                                cv.notify_all();
                            }
                            let ready = st.pending.iter().position(|j| dependencies(*j).iter().all(|d| st.done.contains_key(d)));
                            match ready {
                                Some(i) => break st.pending.remove(i),
                                None if st.pending.is_empty() => return,
                                None => st = cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                            }
                        }
                    };
                    let result = local.run_job(job, progress);
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
pub struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    /// Whether another process holds the lock of `dir` now.
    pub fn is_held(dir: &Path) -> bool {
        use std::os::unix::io::AsRawFd;
        let Ok(file) = std::fs::OpenOptions::new().read(true).open(dir.join(paths::LOCK)) else { return false };
        // SAFETY: flock on a file descriptor we own; released when `file` closes.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) != 0 }
    }

    /// Locks `dir` (created if needed); `what` names it in the error ("experiment", "stage").
    pub fn acquire(dir: &Path, what: &str) -> Result<Self> {
        use std::os::unix::io::AsRawFd;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create run folder {} (check permissions or pass another --runs-dir)", dir.display()))?;
        let path = dir.join(paths::LOCK);
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).read(true).open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared with the kernel.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            bail!(
                "another process (pid {}) is running this {what} in {}; wait for it to finish, or use another --runs-dir",
                holder.trim(),
                dir.display()
            );
        }
        use std::io::Write;
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = write!(f, "{}", std::process::id());
        Ok(FolderLock { _file: file })
    }
}
