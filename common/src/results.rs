//! The results store: one HDF5 file per experiment. Only this module touches HDF5.
//!
//! Schema (version 2; documented for Python users in `docs/results-schema.md`):
//!
//! ```text
//! /                         attrs: schema_version, config_json, config_hash, provenance_json,
//!                                  run_json (git commit, libtorch, device, threads, --kernels,
//!                                  times), scale
//! /replicate_R/level_L/S    one group per finished stage S (main, reinit_0, oneshot, …)
//!     datasets: iteration (u64), layer_kept, layer_total (i64, per prunable layer in
//!               sorted-name order)
//!     group curves/: every curve the stage measured, by name (`crate::train::metric`: train_loss,
//!               val_loss, val_acc, test_loss, test_acc for image classification; a task's own,
//!               e.g. the actor–critic's reward, updates, env_steps), one f64 dataset each, one
//!               value per entry of `iteration`
//!     attrs:    density, early_stop_iteration (−1 if none), early_stop_val_loss,
//!               early_stop_test_acc, final_test_acc, wall_time_s (f64/i64),
//!               status ("completed" | "diverged"), diverged_at (−1 if not), layer_names (JSON),
//!               kernels ("dense" | "sparse": the arithmetic that trained the stage, `crate::sparse`;
//!               absent in files written before it existed, which were all dense), device
//!               ("cpu" | "cuda:N"; absent in files written before it existed, which were all cpu)
//!               git_commit, machine, finished_at: the build, machine and time that trained the
//!               stage (absent in stages recorded before 2026-12-07; the root's run_json names
//!               only the run that last wrote the file)
//!     only in the second copy of a spawned pair (spawn_1, spawn-reinit_3, …), the straight
//!     line from its partner (α = 0) to itself (α = 1):
//!     datasets: pair_alpha, pair_test_error, pair_test_loss, pair_train_error, pair_train_loss
//!     attrs:    pair_partner (copy index), pair_train_examples, pair_distance (L2, prunable
//!               weights), test_instability, train_instability (max error − mean of the ends)
//!     in every stage but the trunk's level 0 (stability to pruning, `crate::stability`):
//!     attrs:    pruning_distance (‖θ_stage − m ⊙ θ_T‖₂), pruning_travel (‖m ⊙ (θ_T − θ_k)‖₂)
//!     in stages that measure more (pruning at initialisation: `score_sum`), by name:
//!     group metrics/, one f64 dataset per metric, one value per prunable layer (layer_names)
//! ```
//!
//! Version 1 (every file written before 2026-12-06) is still read: each stage held the five
//! classification curves as datasets of its own group, NaN where a task did not measure them,
//! and `curves/` only for a task's own; they read as the curves they measured
//! ([`EvalLog::from_schema_1`]). A run that adds stages to such a file writes it as version 2.
//!
//! Root attribute `migrations_json` (only in files a migration rewrote): a JSON list of
//! `{name, at}`, e.g. `dataset-folder-relative-to-data` ([`MIGRATIONS`]).
//!
//! Files are written to a temporary sibling and renamed into place.

use crate::imp::{Stage, StageRecord, TrainedBy};
use crate::interpolate::{PairRecord, PathPoint};
use crate::prune::LayerDensity;
use crate::stability::PruningDistance;
use crate::train::{metric, EvalLog, Status, TrainOutcome};
use anyhow::{bail, Context, Result};
use hdf5::types::VarLenUnicode;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The oldest schema this build reads.
const OLDEST_READ: i64 = 1;

/// How, where and when the numbers were produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub git_commit: String,
    pub libtorch_version: String,
    pub device: String,
    pub intra_op_threads: i64,
    /// `--kernels` of the run that last wrote the file (files written before it existed: dense).
    #[serde(default = "dense_kernels")]
    pub kernels: String,
    pub workers: usize,
    /// `--gpu-numerics` of a run on CUDA (`deterministic` or `fast`); absent for CPU runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_numerics: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub tool: String,
}

fn dense_kernels() -> String {
    "dense".into()
}

/// Everything read back from a results file.
#[derive(Debug, Clone)]
pub struct ExperimentResults {
    pub config_json: String,
    pub config_hash: String,
    pub provenance_json: String,
    pub run: RunInfo,
    pub scale: String,
    pub records: Vec<StageRecord>,
}

impl ExperimentResults {
    pub fn config(&self) -> Result<crate::config::ExperimentConfig> {
        crate::config::ExperimentConfig::from_stored_json(&self.config_json).context("the results file's config")
    }
    pub fn provenance(&self) -> Result<crate::data::Provenance> {
        serde_json::from_str(&self.provenance_json).context("results file holds unreadable provenance")
    }
}

fn h5<T>(r: hdf5::Result<T>) -> Result<T> {
    r.map_err(|e| anyhow::format_err!("{e}"))
}

fn put_str(loc: &hdf5::Location, name: &str, value: &str) -> Result<()> {
    let v: VarLenUnicode = value.parse().map_err(|e| anyhow::format_err!("{e:?}"))?;
    h5(h5(loc.new_attr::<VarLenUnicode>().create(name))?.write_scalar(&v))
}

fn put<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str, value: T) -> Result<()> {
    h5(h5(loc.new_attr::<T>().create(name))?.write_scalar(&value))
}

fn get_str(loc: &hdf5::Location, name: &str) -> Result<String> {
    Ok(h5(h5(loc.attr(name))?.read_scalar::<VarLenUnicode>())?.as_str().to_string())
}

fn get<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str) -> Result<T> {
    h5(h5(loc.attr(name))?.read_scalar::<T>())
}

/// Writes the results of an experiment to `path` atomically.
pub fn write(
    path: &Path,
    config: &crate::config::ExperimentConfig,
    provenance: &crate::data::Provenance,
    run: &RunInfo,
    records: &[StageRecord],
) -> Result<()> {
    let root = [
        ("config_json", serde_json::to_string(config)?),
        ("config_hash", config.hash()),
        ("provenance_json", serde_json::to_string(provenance)?),
        ("run_json", serde_json::to_string(run)?),
        ("scale", config.scale.clone()),
    ];
    write_file(path, &root, records)
}

/// Writes a results file from its root string attributes (in order) and its stages.
fn write_file(path: &Path, root: &[(&str, String)], records: &[StageRecord]) -> Result<()> {
    crate::util::write_atomic_with(path, |tmp| {
        let f = h5(hdf5::File::create(tmp))?;
        put(&f, "schema_version", SCHEMA_VERSION)?;
        for (name, value) in root {
            put_str(&f, name, value)?;
        }
        for r in records {
            let g = {
                let group = |parent: &hdf5::Group, name: &str| h5(parent.group(name).or_else(|_| parent.create_group(name)));
                let rep = group(&f, &format!("replicate_{}", r.replicate))?;
                let lev = group(&rep, &format!("level_{}", r.level))?;
                h5(lev.create_group(&r.stage.name()))?
            };
            let log = &r.outcome.log;
            h5(g.new_dataset_builder().with_data(&log.iteration).create("iteration"))?;
            let kept: Vec<i64> = r.layers.iter().map(|l| l.kept).collect();
            let total: Vec<i64> = r.layers.iter().map(|l| l.total).collect();
            h5(g.new_dataset_builder().with_data(&kept).create("layer_kept"))?;
            h5(g.new_dataset_builder().with_data(&total).create("layer_total"))?;
            let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
            put_str(&g, "layer_names", &serde_json::to_string(&names)?)?;
            put(&g, "density", r.density)?;
            let es = log.early_stop_index();
            put(&g, "early_stop_iteration", es.map(|i| log.iteration[i] as i64).unwrap_or(-1))?;
            let at = |name: &str| es.and_then(|i| log.curve(name).get(i).copied()).unwrap_or(f64::NAN);
            put(&g, "early_stop_val_loss", at(metric::VAL_LOSS))?;
            put(&g, "early_stop_test_acc", at(metric::TEST_ACC))?;
            put(&g, "final_test_acc", log.last(metric::TEST_ACC).unwrap_or(f64::NAN))?;
            put(&g, "wall_time_s", r.outcome.wall_s)?;
            put_str(&g, "kernels", if r.outcome.sparse { "sparse" } else { "dense" })?;
            put_str(&g, "device", &r.device)?;
            if let Some(t) = &r.trained {
                put_str(&g, "git_commit", &t.git_commit)?;
                put_str(&g, "machine", &t.machine)?;
                put_str(&g, "finished_at", &t.finished_at)?;
            }
            let (status, at) = match r.outcome.status {
                Status::Completed => ("completed", -1),
                Status::Diverged { iteration } => ("diverged", iteration as i64),
            };
            put_str(&g, "status", status)?;
            put(&g, "diverged_at", at)?;
            if let Some(p) = &r.pair {
                write_pair(&g, p)?;
            }
            if let Some(p) = &r.pruning {
                put(&g, "pruning_distance", p.distance)?;
                put(&g, "pruning_travel", p.travel)?;
            }
            let metrics = r.metrics.iter().map(|(name, v)| (name.as_str(), v.as_slice()));
            write_named(&g, "metrics", metrics)?;
            write_named(&g, "curves", log.curves())?;
        }
        h5(f.flush())?;
        Ok(())
    })
}

/// One f64 dataset per `(name, values)` in group `group` of `g` (no group when there are none).
fn write_named<'a>(g: &hdf5::Group, group: &str, named: impl Iterator<Item = (&'a str, &'a [f64])>) -> Result<()> {
    let mut named = named.peekable();
    if named.peek().is_some() {
        let m = h5(g.create_group(group))?;
        for (name, v) in named {
            h5(m.new_dataset_builder().with_data(v).create(name))?;
        }
    }
    Ok(())
}

fn write_pair(g: &hdf5::Group, p: &PairRecord) -> Result<()> {
    let column = |path: &[PathPoint], f: fn(&PathPoint) -> f64| path.iter().map(f).collect::<Vec<f64>>();
    for (name, v) in [
        ("pair_alpha", column(&p.test, |q| q.alpha)),
        ("pair_test_error", column(&p.test, |q| q.error)),
        ("pair_test_loss", column(&p.test, |q| q.loss)),
        ("pair_train_error", column(&p.train, |q| q.error)),
        ("pair_train_loss", column(&p.train, |q| q.loss)),
    ] {
        h5(g.new_dataset_builder().with_data(v.as_slice()).create(name))?;
    }
    put(g, "pair_partner", p.partner)?;
    put(g, "pair_train_examples", p.train_examples)?;
    put(g, "pair_distance", p.distance)?;
    put(g, "test_instability", p.test_instability())?;
    put(g, "train_instability", p.train_instability())
}

fn read_pair(g: &hdf5::Group) -> Result<Option<PairRecord>> {
    if !g.link_exists("pair_alpha") {
        return Ok(None);
    }
    let ds = |n: &str| -> Result<Vec<f64>> { h5(h5(g.dataset(n))?.read_raw::<f64>()) };
    let alpha = ds("pair_alpha")?;
    let path = |error: Vec<f64>, loss: Vec<f64>| -> Vec<PathPoint> {
        alpha.iter().zip(error.into_iter().zip(loss)).map(|(&alpha, (error, loss))| PathPoint { alpha, loss, error }).collect()
    };
    Ok(Some(PairRecord {
        partner: get(g, "pair_partner")?,
        test: path(ds("pair_test_error")?, ds("pair_test_loss")?),
        train: path(ds("pair_train_error")?, ds("pair_train_loss")?),
        train_examples: get(g, "pair_train_examples")?,
        distance: get(g, "pair_distance")?,
    }))
}

/// The f64 datasets of group `name` under `g`, by name (empty when there is no such group).
fn read_named(g: &hdf5::Group, name: &str) -> Result<std::collections::BTreeMap<String, Vec<f64>>> {
    if !g.link_exists(name) {
        return Ok(Default::default());
    }
    let m = h5(g.group(name))?;
    h5(m.member_names())?.into_iter().map(|name| Ok((name.clone(), h5(h5(m.dataset(&name))?.read_raw::<f64>())?))).collect()
}

/// A stage's evaluation log, as schema `version` stores it.
fn read_log(g: &hdf5::Group, version: i64) -> Result<EvalLog> {
    let iteration = h5(h5(g.dataset("iteration"))?.read_raw::<u64>())?;
    let curves = read_named(g, "curves")?;
    if version >= 2 {
        return EvalLog::from_curves(iteration, curves);
    }
    let column = |name: &str| -> Result<Vec<f64>> { h5(h5(g.dataset(name))?.read_raw::<f64>()) };
    let [a, b, c, d, e] = metric::EVALUATION;
    EvalLog::from_schema_1(iteration, [column(a)?, column(b)?, column(c)?, column(d)?, column(e)?], curves)
}

fn read_sparse(g: &hdf5::Group) -> Result<bool> {
    Ok(h5(g.attr_names())?.iter().any(|n| n == "kernels") && get_str(g, "kernels")? == "sparse")
}

fn read_trained(g: &hdf5::Group) -> Result<Option<TrainedBy>> {
    if !h5(g.attr_names())?.iter().any(|n| n == "git_commit") {
        return Ok(None);
    }
    Ok(Some(TrainedBy { git_commit: get_str(g, "git_commit")?, machine: get_str(g, "machine")?, finished_at: get_str(g, "finished_at")? }))
}

fn read_pruning(g: &hdf5::Group) -> Result<Option<PruningDistance>> {
    if !h5(g.attr_names())?.iter().any(|n| n == "pruning_distance") {
        return Ok(None);
    }
    Ok(Some(PruningDistance { distance: get(g, "pruning_distance")?, travel: get(g, "pruning_travel")? }))
}

/// The stages already in the results file at `path` (none if it does not exist), provided it
/// holds the same experiment: same trunk identity and data. A file holding another experiment is
/// an error naming it — never replaced. Read it before training, so a run refuses early.
pub fn existing(path: &Path, config: &crate::config::ExperimentConfig, provenance: &crate::data::Provenance) -> Result<Vec<StageRecord>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let old = read(path)?;
    let (old_config, old_data) = (old.config()?, old.provenance()?);
    if old_config.hash() != config.hash() || old_data.fingerprint() != provenance.fingerprint() {
        bail!(
            "{} holds results of another experiment (config {} on {} from {}; this run: config {} on {} from {}); move it away or pass another --results-dir — it is never overwritten",
            path.display(),
            old_config.hash(),
            old_data.dataset,
            old_data.source,
            config.hash(),
            provenance.dataset,
            provenance.source
        );
    }
    Ok(old.records)
}

/// `old` united with `new`, a stage in both taking `new`'s record, sorted by (replicate, level,
/// stage): what a results file holds after a run (files only ever gain stages), with the stages
/// whose new record evaluates differently from the recorded one ([`United::changed`]).
pub fn union(old: Vec<StageRecord>, new: Vec<StageRecord>) -> United {
    let mut by_stage: std::collections::BTreeMap<(u32, u32, Stage), StageRecord> = old.into_iter().map(|r| ((r.replicate, r.level, r.stage), r)).collect();
    let mut changed = Vec::new();
    for r in new {
        let key = (r.replicate, r.level, r.stage);
        if by_stage.get(&key).is_some_and(|recorded| !same_evaluations(recorded, &r)) {
            changed.push(key);
        }
        by_stage.insert(key, r);
    }
    United { records: by_stage.into_values().collect(), changed }
}

/// What [`union`] made of a results file's records and a run's.
#[derive(Debug)]
pub struct United {
    /// Every stage, sorted by (replicate, level, stage).
    pub records: Vec<StageRecord>,
    /// The (replicate, level, stage) of each stage the file recorded whose new record evaluates
    /// differently — retrained on another CPU, another build or another branch. Empty when the run
    /// only added stages or reproduced the recorded ones.
    pub changed: Vec<(u32, u32, Stage)>,
}

/// Whether two records of a stage hold the same evaluations (every curve at every iteration;
/// the wall time and the kernels that ran it may differ).
pub(crate) fn same_evaluations(a: &StageRecord, b: &StageRecord) -> bool {
    let log = |r: &StageRecord| serde_json::to_string(&r.outcome.log).ok();
    a.density == b.density && log(a).is_some_and(|x| Some(x) == log(b))
}

/// Reads a results file written by [`write`], naming the file in every error.
pub fn read(path: &Path) -> Result<ExperimentResults> {
    let fix = "regenerate it by running the experiment again (finished stages are reused from runs/)";
    if !path.exists() {
        bail!("results file {} does not exist; run the experiment first", path.display());
    }
    let inner = || -> Result<ExperimentResults> {
        let f = h5(hdf5::File::open(path))?;
        let version: i64 = get(&f, "schema_version")?;
        if !(OLDEST_READ..=SCHEMA_VERSION).contains(&version) {
            bail!("schema version {version}, this build reads {OLDEST_READ} to {SCHEMA_VERSION}");
        }
        let run: RunInfo = serde_json::from_str(&get_str(&f, "run_json")?)?;
        let mut records = Vec::new();
        for rep in h5(f.member_names())? {
            let Some(r) = rep.strip_prefix("replicate_").and_then(|s| s.parse::<u32>().ok()) else { continue };
            let rg = h5(f.group(&rep))?;
            for lev in h5(rg.member_names())? {
                let Some(l) = lev.strip_prefix("level_").and_then(|s| s.parse::<u32>().ok()) else { continue };
                let lg = h5(rg.group(&lev))?;
                for stage in h5(lg.member_names())? {
                    let g = h5(lg.group(&stage))?;
                    let log = read_log(&g, version)?;
                    let names: Vec<String> = serde_json::from_str(&get_str(&g, "layer_names")?)?;
                    let kept = h5(h5(g.dataset("layer_kept"))?.read_raw::<i64>())?;
                    let total = h5(h5(g.dataset("layer_total"))?.read_raw::<i64>())?;
                    let layers = names.into_iter().zip(kept.into_iter().zip(total)).map(|(name, (kept, total))| LayerDensity { name, kept, total }).collect();
                    let status = match get_str(&g, "status")?.as_str() {
                        "diverged" => Status::Diverged { iteration: get::<i64>(&g, "diverged_at")? as u64 },
                        _ => Status::Completed,
                    };
                    records.push(StageRecord {
                        replicate: r,
                        level: l,
                        stage: Stage::parse(&stage)?,
                        density: get(&g, "density")?,
                        layers,
                        outcome: TrainOutcome { log, status, wall_s: get(&g, "wall_time_s")?, sparse: read_sparse(&g)? },
                        pair: read_pair(&g)?,
                        pruning: read_pruning(&g)?,
                        metrics: read_named(&g, "metrics")?,
                        device: if h5(g.attr_names())?.iter().any(|n| n == "device") { get_str(&g, "device")? } else { crate::device::cpu_name() },
                        trained: read_trained(&g)?,
                    });
                }
            }
        }
        records.sort_by_key(|r| (r.replicate, r.level, r.stage));
        Ok(ExperimentResults {
            config_json: get_str(&f, "config_json")?,
            config_hash: get_str(&f, "config_hash")?,
            provenance_json: get_str(&f, "provenance_json")?,
            scale: get_str(&f, "scale")?,
            run,
            records,
        })
    };
    inner().with_context(|| format!("results file {} is truncated, corrupt or not ours; {fix}", path.display()))
}

/// The migration that names dataset folders relative to the data folder.
pub const DATA_PATHS_MIGRATION: &str = "dataset-folder-relative-to-data";

/// The migration that moves the learned supermask's settings into its branch's parameters.
pub const SUPERMASK_PARAMS_MIGRATION: &str = "supermask-settings-into-branch-params";

/// The migration that moves the spawned pairs' interpolation settings into their branches'
/// parameters.
pub const INTERPOLATION_PARAMS_MIGRATION: &str = "interpolation-settings-into-branch-params";

/// A migration: rewrites the file at the path if it needs it, returning whether it did.
pub type Migration = fn(&Path) -> Result<bool>;

/// Every migration by name, in the order they were introduced (and are applied).
pub const MIGRATIONS: [(&str, Migration); 3] = [
    (DATA_PATHS_MIGRATION, migrate_data_paths),
    (SUPERMASK_PARAMS_MIGRATION, |p| move_into_branch_params(p, &crate::config::MOVED_SUPERMASK, SUPERMASK_PARAMS_MIGRATION)),
    (INTERPOLATION_PARAMS_MIGRATION, |p| move_into_branch_params(p, &crate::config::MOVED_INTERPOLATION, INTERPOLATION_PARAMS_MIGRATION)),
];

/// Rewrites the results file at `path` so that its provenance names the dataset folder
/// relative to the data folder (`found in /home/x/data/mnist` → `found in data/mnist`). Returns
/// whether anything changed (a second call changes nothing).
pub fn migrate_data_paths(path: &Path) -> Result<bool> {
    let results = read(path)?;
    let mut provenance: serde_json::Value = serde_json::from_str(&results.provenance_json)?;
    let Some(source) = provenance["source"].as_str().and_then(crate::data::sources::relative_source) else { return Ok(false) };
    provenance["source"] = source.into();
    rewrite(path, ExperimentResults { provenance_json: serde_json::to_string(&provenance)?, ..results }, DATA_PATHS_MIGRATION)?;
    Ok(true)
}

/// Rewrites the results file at `path` written when `moved` was a top-level setting of the
/// config (`supermask`, `interpolation`) holding other values than its default: the setting
/// becomes the `params` of each branch of its kinds, those branches' stages take the name of
/// the kind with those parameters (`spawn_1` → `spawn-<8 hex digits>_1`, as a run writes them
/// now), and `config_hash` becomes the trunk hash without the setting. Every number is copied
/// unchanged. Returns whether anything changed: a file without the setting, or with it at its
/// default (dropped on reading, [`crate::config::upgrade_stored`]), is left alone.
pub fn move_into_branch_params(path: &Path, moved: &crate::config::MovedSetting, migration: &str) -> Result<bool> {
    let results = read(path)?;
    let mut config: serde_json::Value = serde_json::from_str(&results.config_json)?;
    let Some(settings) = config.get(moved.key).cloned().filter(|s| !moved.is_default(s)) else { return Ok(false) };
    config.as_object_mut().expect("a config is a table").remove(moved.key);
    for branch in config["branches"].as_array_mut().into_iter().flatten() {
        if moved.kinds.iter().any(|k| branch["kind"] == k.as_str()) {
            branch["params"] = settings.clone();
        }
    }
    crate::config::upgrade_stored(&mut config)?;
    let config: crate::config::ExperimentConfig =
        serde_json::from_value(config).with_context(|| format!("its config does not read with `{}` as branch params", moved.key))?;
    let mut records = results.records;
    for r in &mut records {
        if let Stage::Branch(kind, copy) = r.stage {
            if let Some(with_params) = config.branches.iter().map(|b| b.kind).find(|k| moved.kinds.contains(&kind) && k.same_kind(kind)) {
                r.stage = Stage::Branch(with_params, copy);
            }
        }
    }
    let migrated = ExperimentResults { config_json: serde_json::to_string(&config)?, config_hash: config.hash(), records, ..results };
    rewrite(path, migrated, migration)?;
    Ok(true)
}

/// Writes `results` to `path` as a fresh file (HDF5 keeps a replaced attribute's old bytes),
/// atomically, recording `migration` in the root attribute `migrations_json` (a list of
/// `{name, at}`).
fn rewrite(path: &Path, results: ExperimentResults, migration: &str) -> Result<()> {
    let mut migrations: Vec<serde_json::Value> = match read_migrations(path)? {
        Some(json) => serde_json::from_str(&json)?,
        None => vec![],
    };
    migrations.push(serde_json::json!({ "name": migration, "at": now_utc() }));
    let root = [
        ("config_json", results.config_json),
        ("config_hash", results.config_hash),
        ("provenance_json", results.provenance_json),
        ("run_json", serde_json::to_string(&results.run)?),
        ("scale", results.scale),
        ("migrations_json", serde_json::to_string(&migrations)?),
    ];
    write_file(path, &root, &results.records)
}

/// The root attribute `migrations_json` of the file at `path`, when it has one.
pub fn read_migrations(path: &Path) -> Result<Option<String>> {
    let f = h5(hdf5::File::open(path))?;
    if !h5(f.attr_names())?.iter().any(|n| n == "migrations_json") {
        return Ok(None);
    }
    Ok(Some(get_str(&f, "migrations_json")?))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for now (UTC).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The git commit of the working tree (`+dirty` when tracked files outside `results/` and
/// `figures/` have uncommitted changes), or `unknown`.
pub fn git_commit() -> String {
    let run = |args: &[&str]| std::process::Command::new("git").args(args).output().ok().filter(|o| o.status.success());
    match run(&["rev-parse", "HEAD"]) {
        Some(o) => {
            let mut c = String::from_utf8_lossy(&o.stdout).trim().to_string();
            // Outputs a run writes itself (results, figures) do not make the code dirty: a run
            // writing several results files would otherwise mark all but the first.
            let code_changes = run(&["status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)results", ":(top,exclude)figures"]);
            if code_changes.is_some_and(|o| !o.stdout.is_empty()) {
                c.push_str("+dirty");
            }
            c
        }
        None => "unknown".into(),
    }
}
