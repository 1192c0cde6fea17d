//! `run` and `plot` for any paper: choose data, lock the run folder, train the stages the
//! figures need (and what they depend on), add them to the results files, draw.

use crate::cli::{resolve_config, Executor, Opts};
use crate::paper::{grouped, ExperimentSpec, Loaded, Paper, Results, Scale};
use anyhow::{bail, Context, Result};
use common::config::ExperimentConfig;
use common::data::{self, DatasetName};
use common::device::{self, DeviceChoice};
use common::imp::{self, Experiment, FolderLock, JobId};
use common::progress::Progress;
use common::results::{self, RunInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The experiment called `name`, or an error listing the paper's experiments.
pub fn spec<P: Paper>(paper: &P, name: &str) -> Result<ExperimentSpec<P::Experiment>> {
    paper.experiments().iter().copied().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = paper.experiments().iter().map(|e| e.name).collect();
        anyhow::format_err!("unknown experiment `{name}`; choose one of {}", names.join(", "))
    })
}

/// The spec of experiment `id` (one the paper's figures name, so one of its experiments).
fn spec_of<P: Paper>(paper: &P, id: P::Experiment) -> Result<ExperimentSpec<P::Experiment>> {
    paper.experiments().iter().copied().find(|e| e.id == id).with_context(|| format!("a figure names {id:?}, which is no experiment of {}", P::ID))
}

/// Experiments of which `figures` draw some stage at this scale, in the paper's order (a scale
/// may leave an experiment out, or a figure draw none of its stages at this scale).
/// `--experiments` narrows them to the named ones (each must be an experiment of the paper).
fn experiments_of<P: Paper>(paper: &P, o: &Opts, figures: &[&str]) -> Result<Vec<ExperimentSpec<P::Experiment>>> {
    let mut wanted: Vec<P::Experiment> = paper.figures().iter().filter(|f| figures.contains(&f.name)).flat_map(|f| f.experiments.iter().copied()).collect();
    if !o.experiments.is_empty() {
        let only: Vec<ExperimentSpec<P::Experiment>> = o.experiments.iter().map(|name| spec(paper, name)).collect::<Result<_>>()?;
        if let Some(e) = only.iter().find(|e| !wanted.contains(&e.id)) {
            let drawn: Vec<&ExperimentSpec<P::Experiment>> = paper.experiments().iter().filter(|d| wanted.contains(&d.id)).collect();
            let users: Vec<&str> = drawn.iter().filter(|d| transfers_from(paper, o, d, e.name)).map(|d| d.name).collect();
            if !users.is_empty() {
                bail!(
                    "--experiments names `{}`, which {} does not draw itself: it trains as the source of {}; name {} instead (its source's stages train with it)",
                    e.name,
                    figures.join(" "),
                    users.join(", "),
                    if users.len() == 1 { "that one" } else { "those" }
                );
            }
            let names: BTreeSet<&str> = drawn.iter().map(|d| d.name).collect();
            bail!(
                "--experiments names `{}`, which {} does not draw; name one of {}",
                e.name,
                figures.join(" "),
                names.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        wanted.retain(|w| only.iter().any(|e| e.id == *w));
    }
    let mut out = Vec::new();
    for e in paper.experiments().iter().filter(|e| wanted.contains(&e.id)) {
        if draws(paper, o, figures, e)? {
            out.push(*e);
        }
    }
    Ok(out)
}

/// Whether experiment `e`'s config (at this scale and data) transfers a ticket from the
/// experiment called `source`; a config that cannot be resolved transfers nothing.
fn transfers_from<P: Paper>(paper: &P, o: &Opts, e: &ExperimentSpec<P::Experiment>, source: &str) -> bool {
    let dataset = o.dataset_override().ok().flatten().unwrap_or(e.dataset);
    resolve_config(paper, o, e, dataset).is_ok_and(|c| c.transfer.is_some_and(|t| t.experiment == source))
}

/// Whether `figures` draw any stage of experiment `e` at this scale (the paper's dataset stands
/// in for a fallback: which stages a figure draws does not depend on the data).
fn draws<P: Paper>(paper: &P, o: &Opts, figures: &[&str], e: &ExperimentSpec<P::Experiment>) -> Result<bool> {
    if !paper.runs_at(e.id, o.scale) {
        return Ok(false);
    }
    let cfg = resolve_config(paper, o, e, o.dataset_override()?.unwrap_or(e.dataset))?;
    Ok(!needed_jobs(paper, figures, e, &cfg).is_empty())
}

/// The stages `figures` draw from `experiment`, closed under dependencies.
pub fn needed_jobs<P: Paper>(paper: &P, figures: &[&str], experiment: &ExperimentSpec<P::Experiment>, cfg: &ExperimentConfig) -> Vec<JobId> {
    let drawn: Vec<&str> = paper.figures().iter().filter(|f| figures.contains(&f.name) && f.experiments.contains(&experiment.id)).map(|f| f.name).collect();
    let wanted: Vec<JobId> = imp::jobs(cfg).into_iter().filter(|j| drawn.iter().any(|f| paper.needs(f, experiment.id, cfg, j))).collect();
    imp::close_under_dependencies(&wanted, cfg)
}

/// Creates `dir` if needed and proves it is writable, before any training starts.
pub fn ensure_writable(dir: &Path) -> Result<()> {
    let fix = "check its permissions or pass another folder";
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {} ({fix})", dir.display()))?;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable ({fix})", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// `run`: trains every experiment the figures draw, then draws them.
pub fn run<P: Paper>(paper: &P, o: &Opts, figures: &[&str]) -> Result<()> {
    // The device is checked where training happens: a Slurm submission (or its dry run) from a
    // login node without a GPU passes `--device cuda` on to the compute nodes' `run-stage`.
    let choice = DeviceChoice::parse(&o.device)?;
    let (results_dir, figures_dir) = (o.results_dir::<P>(), o.figures_dir::<P>());
    // Resolve every config before anything is written or trained: a bad --config fails first.
    let mut plans = Vec::new();
    for spec in experiments_of(paper, o, figures)? {
        let dataset = dataset_for(o, &spec)?;
        let config = resolve_config(paper, o, &spec, dataset)?;
        let jobs = needed_jobs(paper, figures, &spec, &config);
        plans.push(Plan { spec, config, jobs });
    }
    // A dry run of the Slurm executor only prints job scripts: it creates nothing.
    if !(o.executor == Executor::Slurm && o.slurm.dry_run) {
        for d in [&results_dir, &figures_dir, &o.runs_dir] {
            ensure_writable(d)?;
        }
    }
    // Experiments train side by side (or as Slurm jobs): whatever can refuse one is checked for
    // all first, so that a bad input refuses the run before anything is trained or written.
    let trained: Vec<(&str, u32)> = plans.iter().map(|p| (p.spec.name, p.config.replicates)).collect();
    let specs: Vec<ExperimentSpec<P::Experiment>> = plans.iter().map(|p| p.spec).collect();
    let prepared = prepare(paper, plans, o, &results_dir)?;
    if o.executor == Executor::Slurm {
        let ordered: Vec<Prepared<P::Experiment>> = waves(prepared).into_iter().flatten().collect();
        return crate::slurm::submit::<P>(o, &ordered, figures);
    }
    let device = choice.resolve()?;
    o.gpu_numerics.get().apply(device);
    for p in &prepared {
        same_device(p, o, device, &results_dir)?;
    }
    for wave in waves(prepared) {
        train_all::<P>(o, wave, device, &results_dir)?;
    }
    // A run of fewer trials than its results files hold (trial by trial, as at `paper`) draws its
    // figures once every trial is in; until then it names what they lack, as `plot` does.
    let results = load_results(paper, &results_dir)?;
    let every_trial = trained.iter().all(|&(e, trials)| results.get(e).is_none_or(|l| l.config.replicates <= trials));
    draw(paper, o, &touched(paper, o, figures, &specs)?, &results, every_trial)
}

/// The `figures` a run of `trained` redraws: under `--experiments`, those drawing one of them
/// (`run all --experiments lenet-k0` leaves a ResNet-only figure as it is, with a note).
fn touched<'f, P: Paper>(paper: &P, o: &Opts, figures: &[&'f str], trained: &[ExperimentSpec<P::Experiment>]) -> Result<Vec<&'f str>> {
    let mut out = Vec::new();
    for &f in figures {
        let mut draws_one = o.experiments.is_empty();
        for e in trained {
            draws_one = draws_one || draws(paper, o, &[f], e)?;
        }
        if draws_one {
            out.push(f);
        } else {
            eprintln!("skipping {f}: it draws none of --experiments {}", o.experiments.join(","));
        }
    }
    Ok(out)
}

/// `plot`: redraws figures from the results files only. A figure whose stages are not all in
/// the results is refused when named, skipped with a note naming what is missing under `all`.
pub fn plot<P: Paper>(paper: &P, o: &Opts, figures: &[&str], named: bool) -> Result<()> {
    ensure_writable(&o.figures_dir::<P>())?;
    let results = load_results(paper, &o.results_dir::<P>())?;
    if results.is_empty() {
        bail!("no results in {}; run `{} --scale {} run` first", o.results_dir::<P>().display(), P::ID, o.scale.as_str());
    }
    draw(paper, o, figures, &results, named)
}

/// Draws `figures` from `results`; a figure missing stages is an error when `strict`, else
/// skipped with a note saying what it lacks. A figure with some of its experiments absent from
/// the results (not trained at this scale, or left out by `--experiments`) is drawn from those
/// present, and its caption says which it lacks. Every caption opens with the paper's
/// reference ([`Paper::REFERENCE`]) on a line of its own; the paper's caption follows.
fn draw<P: Paper>(paper: &P, o: &Opts, figures: &[&str], results: &Results<P::Experiment>, strict: bool) -> Result<()> {
    let dir = o.figures_dir::<P>();
    for &f in figures {
        let drawn = coverage(paper, o, f, results).and_then(|c| {
            let own = figure_stages(paper, f, results);
            let Some(line) = c.partial_line(paper, o) else { return paper.draw(f, &own) };
            let mut figure = paper
                .draw(f, &own)
                .with_context(|| format!("{f} cannot be drawn from {} alone ({} absent); {}", c.present.join(", "), c.absent.join(", "), c.train_rest))?;
            figure.caption.push('\n');
            figure.caption.push_str(&line);
            Ok(figure)
        });
        let figure = match drawn {
            Ok(mut figure) => {
                figure.caption = format!("Reproduction of {}.\n{}", P::REFERENCE, figure.caption);
                figure
            }
            Err(e) if strict => return Err(e),
            Err(e) => {
                eprintln!("skipping {f}: {e:#}");
                continue;
            }
        };
        figure.save(&dir.join(f))?;
        if !o.quiet {
            eprintln!("wrote {}.png and .svg", dir.join(f).display());
        }
    }
    Ok(())
}

/// `results` cut down to the stages `figure` draws ([`needed_jobs`] of each experiment it
/// draws): a figure — its series and the experiments, trials and commits its caption names —
/// comes from its own stages only, whatever other figures' stages the same files hold, so
/// `run FIGURE` alone on a fresh machine draws what `plot` draws from the full files.
fn figure_stages<P: Paper>(paper: &P, figure: &str, results: &Results<P::Experiment>) -> Results<P::Experiment> {
    let mut own = Results::new();
    for (&name, l) in results {
        let jobs: BTreeSet<(u32, u32, imp::Stage)> =
            needed_jobs(paper, &[figure], &l.spec, &l.config).into_iter().map(|j| (j.replicate, j.level, j.stage)).collect();
        if jobs.is_empty() {
            continue;
        }
        let mut results = l.results.clone();
        results.records.retain(|r| jobs.contains(&(r.replicate, r.level, r.stage)));
        own.insert(name, Loaded { results, config: l.config.clone(), dataset_line: l.dataset_line.clone(), ..*l });
    }
    own
}

/// Which of a figure's experiments (those it draws at this scale) the results hold.
struct Coverage {
    present: Vec<&'static str>,
    absent: Vec<&'static str>,
    /// "run `<paper> --scale S run FIGURE` to train them": how to train the absent ones.
    train_rest: String,
}

impl Coverage {
    /// The caption line of a figure drawn from part of its experiments (`None` when complete):
    /// "Partial figure: LeNet-300-100 only; Conv-2, Conv-4 are not in the results at scale `paper`."
    /// Experiments whose labels share a network ("ResNet-20, k = 0", "ResNet-20, k = 100") are
    /// named together where all of them are on the same side: "ResNet-20 (6 experiments)".
    fn partial_line<P: Paper>(&self, paper: &P, o: &Opts) -> Option<String> {
        if self.absent.is_empty() {
            return None;
        }
        let labels = |names: &[&'static str]| -> Vec<&'static str> { names.iter().map(|n| spec(paper, n).map(|s| s.label).unwrap_or(n)).collect() };
        let (present, absent) = (labels(&self.present), labels(&self.absent));
        let verb = if self.absent.len() == 1 { "is" } else { "are" };
        Some(format!(
            "Partial figure: {} only; {} {verb} not in the results at scale `{}`.",
            grouped(&present, &absent),
            grouped(&absent, &present),
            o.scale.as_str()
        ))
    }
}

/// Checks that the results hold every stage `figure` draws from each of its experiments they
/// hold, and at least one of them; the error names what is missing and the command to train it.
fn coverage<P: Paper>(paper: &P, o: &Opts, figure: &str, results: &Results<P::Experiment>) -> Result<Coverage> {
    let spec = paper.figures().iter().find(|f| f.name == figure).context("unknown figure")?;
    let rerun = |trials: Option<u32>| {
        let t = trials.map(|t| format!(" --trials {t}")).unwrap_or_default();
        format!("run `{} --scale {}{t} run {figure}` to train them", P::ID, o.scale.as_str())
    };
    let mut c = Coverage { present: Vec::new(), absent: Vec::new(), train_rest: rerun(None) };
    for &id in spec.experiments {
        let experiment = spec_of(paper, id)?;
        let e = experiment.name;
        if !draws(paper, o, &[figure], &experiment)? {
            continue;
        }
        let Some(l) = results.get(e) else {
            c.absent.push(e);
            continue;
        };
        c.present.push(e);
        let rerun = rerun(Some(l.config.replicates));
        let have: BTreeSet<(u32, u32, imp::Stage)> = l.results.records.iter().map(|r| (r.replicate, r.level, r.stage)).collect();
        let missing: Vec<JobId> =
            needed_jobs(paper, &[figure], &experiment, &l.config).into_iter().filter(|j| !have.contains(&(j.replicate, j.level, j.stage))).collect();
        if let Some(m) = missing.first() {
            bail!(
                "{figure} is incomplete: {e}.h5 lacks {} of the stages it draws (e.g. replicate {} level {} {}); {rerun}",
                missing.len(),
                m.replicate,
                m.level,
                m.stage
            );
        }
    }
    if c.present.is_empty() {
        bail!("{figure} needs the {} results, which are not in {}; {}", c.absent.join(", "), o.results_dir::<P>().display(), c.train_rest);
    }
    Ok(c)
}

/// The dataset an experiment runs on: the user's, else the paper's, else (with a note) the
/// experiment's fallback when the paper's cannot be had.
pub(crate) fn dataset_for<E>(o: &Opts, spec: &ExperimentSpec<E>) -> Result<DatasetName> {
    if let Some(d) = o.dataset_override()? {
        return Ok(d);
    }
    if let Some(fallback) = spec.fallback {
        if let Err(e) = data::ensure(spec.dataset, &o.data_dir) {
            eprintln!(
                "note: {} is not available on this machine — running {} with the same protocol on {} instead; its figures say so ({e:#})",
                spec.dataset.as_str(),
                spec.label,
                fallback.as_str()
            );
            return Ok(fallback);
        }
    }
    Ok(spec.dataset)
}

/// Stages trained at once: `--jobs`, default [`default_jobs`].
fn workers(o: &Opts, device: tch::Device, small_models: bool) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    o.jobs.map(usize::from).unwrap_or_else(|| default_jobs(device, cores, common::device::visible_gpus(device), small_models))
}

/// Intra-op threads per job: `--threads` (default 1: measured fastest per core for these
/// models, and the numbers of a run depend on the intra-op thread count, so a fixed default
/// keeps them machine-independent).
fn threads(o: &Opts) -> i32 {
    o.threads.map(i32::from).unwrap_or(1)
}

/// Stages a GPU trains at once by default when every network of the run is a small fully
/// connected one (LeNet): its steps are a few tiny kernels each, so one stage alone leaves the
/// GPU idle between launches. Not yet measured on a GPU (none has run this code); `--jobs`
/// overrides it.
const SMALL_MODEL_JOBS_PER_GPU: usize = 4;

/// `--jobs` by default: one stage per CPU core; on CUDA one per visible GPU (stages spread over
/// them, [`common::device::placement`]), [`SMALL_MODEL_JOBS_PER_GPU`] per GPU for small models.
fn default_jobs(device: tch::Device, cores: usize, gpus: usize, small_models: bool) -> usize {
    match device {
        tch::Device::Cpu => cores,
        _ if small_models => gpus * SMALL_MODEL_JOBS_PER_GPU,
        _ => gpus,
    }
}

/// An experiment to run: its resolved config and the stages to train (closed under
/// dependencies).
pub struct Plan<E> {
    pub spec: ExperimentSpec<E>,
    pub config: ExperimentConfig,
    pub jobs: Vec<JobId>,
}

/// An experiment checked and ready to train: its config and stages, its data (one load per
/// dataset and validation split, shared between the experiments on it; its training subset
/// applied), the stages its results file holds, its run folder and a transfer source's.
pub struct Prepared<E> {
    pub spec: ExperimentSpec<E>,
    pub config: ExperimentConfig,
    pub jobs: Vec<JobId>,
    pub data: data::Dataset,
    pub prior: Vec<imp::StageRecord>,
    pub dir: PathBuf,
    pub source: Option<PathBuf>,
}

/// Datasets loaded once per (dataset, validation-split seed).
#[derive(Default)]
struct DataCache(Vec<((DatasetName, u64), data::Dataset)>);

impl DataCache {
    /// `cfg`'s data: its dataset with its validation split, restricted to its training subset,
    /// padded as it asks.
    fn get(&mut self, cfg: &ExperimentConfig, data_dir: &Path) -> Result<data::Dataset> {
        let key = (cfg.dataset, imp::split_seed(cfg));
        let full = match self.0.iter().find(|(k, _)| *k == key) {
            Some((_, d)) => d.shallow_clone(),
            None => {
                let d = data::load(cfg.dataset, data_dir, key.1)?;
                self.0.push((key, d.shallow_clone()));
                d
            }
        };
        Ok(full.restricted(cfg.train_subset).padded(cfg.input_padding))
    }

    /// `cfg`'s data, its run folder under `runs`, and its transfer source's run folder.
    fn locate(&mut self, cfg: &ExperimentConfig, o: &Opts) -> Result<(data::Dataset, PathBuf, Option<PathBuf>)> {
        let source = match &cfg.transfer {
            Some(t) => Some(self.locate(&t.source, o)?.1),
            None => None,
        };
        let data = self.get(cfg, &o.data_dir)?;
        let dir = common::paths::experiment_dir(&o.runs_dir, &cfg.name, &imp::run_identity(cfg, &data.provenance, source.as_deref(), o.kernels.kernels()));
        Ok((data, dir, source))
    }
}

/// Loads and checks every planned experiment: its data against its training config, its results
/// file (an error when it holds another experiment or is damaged). Stages its results file holds
/// are not trained again, except a transfer source's that a pending transfer stage reads from the
/// source's run folder: each source's trunk is added, up to the levels and trials its targets
/// still train. A source no figure draws is planned before its targets (and checked like every
/// experiment) even when they train nothing.
fn prepare<P: Paper>(paper: &P, plans: Vec<Plan<P::Experiment>>, o: &Opts, results_dir: &Path) -> Result<Vec<Prepared<P::Experiment>>> {
    let mut cache = DataCache::default();
    let mut out = Vec::new();
    for Plan { spec, config, jobs } in plans {
        out.push(prepare_one(spec, config, jobs, &mut cache, o, results_dir)?);
    }
    let wanted: Vec<(ExperimentConfig, String, Vec<JobId>)> = out
        .iter()
        .filter_map(|p| {
            let t = p.config.transfer.as_ref()?;
            let trunk = p.jobs.iter().filter(|j| j.stage == imp::Stage::Main).copied().collect();
            Some(((*t.source).clone(), t.experiment.clone(), trunk))
        })
        .collect();
    for (config, experiment, trunk) in wanted {
        let at = match out.iter().position(|p| p.spec.name == experiment && p.config == config) {
            Some(i) => i,
            None => {
                out.insert(0, prepare_one(spec(paper, &experiment)?, config, vec![], &mut cache, o, results_dir)?);
                0
            }
        };
        let mut jobs: BTreeSet<JobId> = out[at].jobs.iter().copied().collect();
        jobs.extend(imp::close_under_dependencies(&trunk, &out[at].config));
        out[at].jobs = jobs.into_iter().collect();
    }
    Ok(out)
}

/// One experiment checked and located, with the stages of `jobs` its results file lacks (and
/// what those need).
fn prepare_one<E>(
    spec: ExperimentSpec<E>,
    config: ExperimentConfig,
    jobs: Vec<JobId>,
    cache: &mut DataCache,
    o: &Opts,
    results_dir: &Path,
) -> Result<Prepared<E>> {
    let (data, dir, source) = cache.locate(&config, o)?;
    config.task.name.get().validate(&config, &data)?;
    let prior = results::existing(&results_dir.join(format!("{}.h5", spec.name)), &config, &data.provenance)?;
    let jobs = imp::still_to_train(&jobs, &prior, &config);
    Ok(Prepared { spec, config, jobs, data, prior, dir, source })
}

/// Refuses to train `p` on `device` when its results file or its run folder holds stages trained
/// on another kind of device (CPU and GPU arithmetic never mix in one file or folder), before
/// anything is written.
fn same_device<E>(p: &Prepared<E>, o: &Opts, device: tch::Device, results_dir: &Path) -> Result<()> {
    let this = common::device::name(device);
    let differs = |r: &&imp::StageRecord| common::device::class(&r.device) != common::device::class(&this);
    let exp = Experiment {
        config: &p.config,
        dir: p.dir.clone(),
        data: &p.data,
        device,
        checkpoint_every: 0,
        source: p.source.clone(),
        kernels: o.kernels.kernels(),
    };
    let finished = if p.dir.exists() { imp::collect(&exp)? } else { Vec::new() };
    let found = match (p.prior.iter().find(differs), finished.iter().find(differs)) {
        (Some(r), _) => Some((results_dir.join(format!("{}.h5", p.spec.name)).display().to_string(), r)),
        (None, Some(r)) => Some((p.dir.display().to_string(), r)),
        (None, None) => None,
    };
    if let Some((place, r)) = found {
        bail!(
            "{place} holds stages trained on {}, and this run trains on {this}; their numbers would mix — run with --device {} or use another --runs-dir and --results-dir",
            r.device,
            common::device::class(&r.device)
        );
    }
    Ok(())
}

/// `prepared` in the order they can train: every experiment that transfers no ticket first
/// (the sources among them), then the transfer experiments (chained transfers are refused by
/// the config's validation, so two waves suffice).
pub(crate) fn waves<E>(prepared: Vec<Prepared<E>>) -> Vec<Vec<Prepared<E>>> {
    let (transfers, others): (Vec<Prepared<E>>, Vec<Prepared<E>>) = prepared.into_iter().partition(|p| p.source.is_some());
    [others, transfers].into_iter().filter(|w| !w.is_empty()).collect()
}

/// Trains the prepared experiments side by side: up to `--jobs` experiments at once, their
/// stages sharing `--jobs` training slots (an IMP trunk trains its levels one after another,
/// so one experiment alone leaves cores idle when a paper has many; and when the last
/// experiment is left, all the slots are its). After an error no further experiment starts;
/// those under way finish, and the first error in the paper's order is returned.
fn train_all<P: Paper>(o: &Opts, prepared: Vec<Prepared<P::Experiment>>, device: tch::Device, results_dir: &Path) -> Result<()> {
    let small = prepared.iter().all(|p| matches!(p.config.model.arch, common::models::Arch::Lenet { .. }));
    let workers = self::workers(o, device, small);
    let lanes = workers.min(prepared.len()).max(1);
    let slots = imp::Slots::new(workers);
    let queue = Mutex::new(prepared.into_iter().enumerate().collect::<std::collections::VecDeque<_>>());
    let failed = AtomicBool::new(false);
    let errors: Mutex<Vec<(usize, anyhow::Error)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..lanes {
            s.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                let Some((i, p)) = next.filter(|_| !failed.load(Ordering::SeqCst)) else { return };
                if let Err(e) = train_experiment::<P>(o, p, device, results_dir, &slots) {
                    failed.store(true, Ordering::SeqCst);
                    errors.lock().unwrap_or_else(|e| e.into_inner()).push((i, e));
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

fn train_experiment<P: Paper>(o: &Opts, p: Prepared<P::Experiment>, device: tch::Device, results_dir: &Path, slots: &imp::Slots) -> Result<()> {
    let workers = slots.total();
    let Prepared { spec, config, jobs, data, prior, dir, source } = p;
    let (spec, cfg) = (&spec, &config);
    let path = results_dir.join(format!("{}.h5", spec.name));
    let threads = threads(o);
    tch::set_num_threads(threads);
    let _lock = FolderLock::acquire(&dir, "experiment")?;
    common::util::write_atomic(&dir.join(common::paths::CONFIG), serde_json::to_string_pretty(cfg)?.as_bytes())?;
    let data = data.to_device(device);
    let exp =
        Experiment { config: cfg, dir: dir.clone(), data: &data, device, checkpoint_every: o.checkpoint_every as usize, source, kernels: o.kernels.kernels() };
    if !o.quiet {
        eprintln!(
            "{}: {} on {} ({}), {} stages, {}, {} iterations, {workers} jobs (shared by the experiments training at once) x {threads} threads on {}; runs in {}",
            cfg.name,
            spec.label,
            cfg.dataset.as_str(),
            data.provenance.source,
            jobs.len(),
            crate::trials(cfg.replicates),
            cfg.train.iterations,
            device::describe(device),
            dir.display()
        );
    }
    let started = results::now_utc();
    let commit = results::git_commit();
    let progress = Progress::new(&cfg.name, o.quiet);
    let mut report = imp::run_sharing(&exp, &jobs, slots, &progress)?;
    // Every finished stage of this experiment in the run folder, this run's and earlier ones'.
    let mut trained = imp::collect(&exp)?;
    // A recorded stage that starts from one retrained with other numbers (a trunk retrained on
    // another CPU) is trained again from the new one: a file's branches come from its trunk.
    let stale = imp::stale_after_retraining(&prior, &trained, cfg);
    if let Some(j) = stale.first() {
        eprintln!(
            "{} recorded stages of {} start from stages retrained with other numbers (first: replicate {} level {} {}); training them again from the retrained ones",
            stale.len(),
            path.display(),
            j.replicate,
            j.level,
            j.stage
        );
        let again = imp::run_sharing(&exp, &imp::close_under_dependencies(&stale, cfg), slots, &progress)?;
        report.failures.extend(again.failures);
        trained = imp::collect(&exp)?;
    }
    progress.finish();
    let united = results::union(prior, trained);
    if let Some((r, l, s)) = united.changed.first() {
        eprintln!(
            "warning: {} stages recorded in {} were retrained with other evaluations (first: replicate {r} level {l} {s}); the file now holds the new records",
            united.changed.len(),
            path.display()
        );
    }
    let records = united.records;
    let info = RunInfo {
        git_commit: commit,
        libtorch_version: device::LIBTORCH_VERSION.into(),
        device: device::describe(device),
        intra_op_threads: threads as i64,
        kernels: o.kernels.kernels().as_str().into(),
        workers,
        gpu_numerics: device.is_cuda().then(|| o.gpu_numerics.get().as_str().into()),
        started_at: started,
        finished_at: results::now_utc(),
        tool: format!("{} {}", P::ID, env!("CARGO_PKG_VERSION")),
    };
    // The stored config covers every replicate the file holds.
    let mut stored = cfg.clone();
    stored.replicates = records.iter().map(|r| r.replicate + 1).max().unwrap_or(0).max(cfg.replicates);
    results::write(&path, &stored, &data.provenance, &info, &records)?;
    if !o.quiet {
        eprintln!("wrote {} ({} stages)", path.display(), records.len());
    }
    if let Some((j, e)) = report.failures.first() {
        bail!(
            "{} of {} stages failed (first: replicate {} level {} {}: {e}); finished stages are kept in {} — fix the cause and run the same command again to resume",
            report.failures.len(), jobs.len(), j.replicate, j.level, j.stage, dir.display()
        );
    }
    Ok(())
}

/// `run-stage`: trains one stage of `experiment` in the shared run folder, as a local worker
/// would (its own lock, its checkpoints); the stages it depends on must be done.
pub fn run_stage<P: Paper>(paper: &P, o: &Opts, experiment: &str, job: JobId) -> Result<()> {
    let spec = spec(paper, experiment)?;
    let cfg = resolve_config(paper, o, &spec, dataset_for(o, &spec)?)?;
    if !imp::jobs(&cfg).contains(&job) {
        bail!("{experiment} has no stage replicate {} level {} {}; see `config {experiment}`", job.replicate, job.level, job.stage);
    }
    let (data, dir, source) = DataCache::default().locate(&cfg, o)?;
    cfg.task.name.get().validate(&cfg, &data)?;
    let device = DeviceChoice::parse(&o.device)?.resolve()?;
    o.gpu_numerics.get().apply(device);
    tch::set_num_threads(threads(o));
    // Its own parents, and a transferred level's source level.
    let mut parents: Vec<(PathBuf, JobId, String)> = imp::dependencies(job, &cfg).into_iter().map(|d| (dir.clone(), d, String::new())).collect();
    if let (Some(source), imp::Stage::Main) = (&source, job.stage) {
        parents.push((source.clone(), job, format!(" of its transfer source {}", source.display())));
    }
    for (parent_dir, d, whose) in parents {
        let parent = common::paths::stage_dir(&parent_dir, d.replicate, d.level, &d.stage.name());
        if !parent.join(common::paths::OUTCOME).exists() {
            bail!(
                "stage replicate {} level {} {} needs replicate {} level {} {}{whose}, which is not done; train it first",
                job.replicate,
                job.level,
                job.stage,
                d.replicate,
                d.level,
                d.stage
            );
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create run folder {}", dir.display()))?;
    common::util::write_atomic(&dir.join(common::paths::CONFIG), serde_json::to_string_pretty(&cfg)?.as_bytes())?;
    let data = data.to_device(device);
    let exp = Experiment { config: &cfg, dir, data: &data, device, checkpoint_every: o.checkpoint_every as usize, source, kernels: o.kernels.kernels() };
    let progress = Progress::new(&format!("{}/{}", cfg.name, job.stage), o.quiet);
    let record = exp.run_job(job, &progress)?;
    progress.finish();
    if !o.quiet {
        eprintln!(
            "{experiment}: replicate {} level {} {} done, final test accuracy {:.4}",
            job.replicate,
            job.level,
            job.stage,
            record.outcome.log.last(common::train::metric::TEST_ACC).unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

/// `status`: for each experiment the figures draw, where its stages stand, from the run
/// folders alone (every folder of the experiment's config under `--runs-dir`, one per dataset
/// it ran on).
pub fn status<P: Paper>(paper: &P, o: &Opts, figures: &[&str]) -> Result<()> {
    for spec in experiments_of(paper, o, figures)? {
        let datasets: Vec<DatasetName> = match o.dataset_override()? {
            Some(d) => vec![d],
            None => std::iter::once(spec.dataset).chain(spec.fallback).collect(),
        };
        let mut found = false;
        for dataset in datasets {
            let cfg = resolve_config(paper, o, &spec, dataset)?;
            for dir in run_folders(&o.runs_dir, &cfg) {
                found = true;
                let jobs = needed_jobs(paper, figures, &spec, &cfg);
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                let (mut running, mut failed) = (Vec::new(), Vec::new());
                for j in &jobs {
                    let state = imp::stage_state(&common::paths::stage_dir(&dir, j.replicate, j.level, &j.stage.name()));
                    let key = match &state {
                        imp::StageState::Done => "done",
                        imp::StageState::Running(id) => {
                            running.push(id.clone().unwrap_or_else(|| "local".into()));
                            "running"
                        }
                        imp::StageState::Failed(why) => {
                            failed.push(format!("replicate {} level {} {}: {why}", j.replicate, j.level, j.stage));
                            "failed"
                        }
                        imp::StageState::Submitted(_) => "submitted",
                        imp::StageState::NotStarted => "not started",
                    };
                    *counts.entry(key).or_default() += 1;
                }
                let parts: Vec<String> =
                    ["done", "running", "submitted", "failed", "not started"].iter().filter_map(|k| counts.get(k).map(|n| format!("{n} {k}"))).collect();
                let jobs_line = if running.is_empty() { String::new() } else { format!(" (jobs {})", running.join(" ")) };
                println!("{}: {} stages: {}{jobs_line} — {}", spec.name, jobs.len(), parts.join(", "), dir.display());
                for f in failed {
                    println!("  failed: {f}");
                }
            }
        }
        if !found {
            println!("{}: not started (no run folder in {})", spec.name, o.runs_dir.display());
        }
    }
    Ok(())
}

/// The run folders of `cfg` under `runs`: `<name>-<identity>` holding this config (one per
/// dataset fingerprint it ran on).
fn run_folders(runs: &Path, cfg: &ExperimentConfig) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(runs) else { return vec![] };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.strip_prefix(&format!("{}-", cfg.name)).is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                && std::fs::read_to_string(p.join(common::paths::CONFIG))
                    .ok()
                    .and_then(|json| ExperimentConfig::from_stored_json(&json).ok())
                    .is_some_and(|c| c.hash() == cfg.hash())
        })
        .collect();
    out.sort();
    out
}

/// Every results file of the paper present in `dir`.
pub fn load_results<P: Paper>(paper: &P, dir: &Path) -> Result<Results<P::Experiment>> {
    let mut out = Results::new();
    for spec in paper.experiments() {
        let path: PathBuf = dir.join(format!("{}.h5", spec.name));
        if !path.exists() {
            continue;
        }
        let results = results::read(&path)?;
        let config = results.config()?;
        let prov = results.provenance()?;
        let subset = prov.train_subset.as_ref().map(|s| format!("; trained on {s}")).unwrap_or_default();
        let dataset_line = format!(
            "{} from {} (train/val/test {}/{}/{}{subset})",
            prov.dataset, prov.source, prov.train_examples, prov.validation_examples, prov.test_examples
        );
        let preset = Scale::named(&results.scale).map(|scale| paper.preset(spec.id, scale, config.dataset));
        let planned_trials = preset.map_or(config.replicates, |p| p.replicates.max(config.replicates));
        out.insert(spec.name, Loaded { spec: *spec, results, config, dataset_line, planned_trials });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{default_jobs, grouped};
    use tch::Device;

    #[test]
    fn a_partial_caption_names_a_network_once_where_all_its_experiments_are_on_one_side() {
        let lenet = ["LeNet-300-100, k = 0", "LeNet-300-100, k = 100"];
        let resnet = ["ResNet-20, k = 0", "ResNet-20, k = 100", "ResNet-20 (low lr), k = 0"];
        assert_eq!(grouped(&lenet, &resnet), "LeNet-300-100 (2 experiments)");
        assert_eq!(grouped(&resnet, &lenet), "ResNet-20 (2 experiments), ResNet-20 (low lr), k = 0");
        // A network on both sides is listed experiment by experiment; a bare label stays bare.
        assert_eq!(grouped(&lenet[..1], &lenet[1..]), "LeNet-300-100, k = 0");
        assert_eq!(grouped(&["Conv-2", "Conv-4"], &["LeNet-300-100"]), "Conv-2, Conv-4");
    }

    #[test]
    fn jobs_default_to_the_cores_on_the_cpu_and_fill_every_gpu() {
        assert_eq!(default_jobs(Device::Cpu, 16, 1, true), 16, "the CPU: a stage per core, whatever the model");
        assert_eq!(default_jobs(Device::Cuda(0), 16, 1, false), 1, "one GPU, a convolutional network: one stage");
        assert_eq!(default_jobs(Device::Cuda(0), 16, 4, false), 4, "a stage per visible GPU");
        assert_eq!(default_jobs(Device::Cuda(0), 16, 2, true), 8, "LeNet: several stages per GPU");
    }
}
