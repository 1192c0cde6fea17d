//! # frankle-carbin-2019
//!
//! Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
//! ICLR 2019 (arXiv 1803.03635 v5). Reproduces Figures 1, 3, 4 and 5: iterative magnitude
//! pruning with reset to initialisation (rewind iteration 0), random-reinitialisation and
//! random-sparsity controls, and one-shot pruning, for LeNet-300-100 (MNIST) and Conv-2/4/6
//! (CIFAR-10; Fashion-MNIST where CIFAR-10 cannot be had, and the figures say so).
//!
//! ```text
//! frankle-carbin-2019 run figure-3            # train what Figure 3 needs, write results + figure
//! frankle-carbin-2019 plot                    # redraw every figure from results/ only
//! frankle-carbin-2019 summary --json          # the headline numbers per Pm level
//! ```
//!
//! The binary only maps flags to configs ([`presets`]) and figures ([`figures`]); models,
//! training, pruning, IMP, results and plotting live in `common`.

mod figures;
mod presets;
mod report;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use common::config::ExperimentConfig;
use common::data::{self, DatasetName};
use common::device::{self, DeviceChoice};
use common::imp::{self, Experiment, ExperimentLock};
use common::progress::Progress;
use common::results::{self, RunInfo};
use figures::{FigureName, Loaded};
use presets::{Net, Scale};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(version, about = "Frankle & Carbin (ICLR 2019), The Lottery Ticket Hypothesis: Figures 1, 3, 4 and 5 end to end")]
struct Cli {
    #[command(flatten)]
    opts: Opts,
    #[command(subcommand)]
    command: Command,
}

/// Flags shared by every paper binary.
#[derive(Args)]
struct Opts {
    /// Protocol scale: `paper` = the paper's protocol unchanged (5 trials, full iterations, meant
    /// for a GPU); `small` = same protocol, fewer trials/iterations/levels (a 2-core laptop);
    /// `smoke` = seconds, for tests
    #[arg(long, value_enum, default_value = "small", global = true)]
    scale: Scale,
    /// Compute device: auto (a CUDA GPU when libtorch sees one, else CPU), cpu, or cuda
    #[arg(long, default_value = "auto", global = true)]
    device: String,
    /// Run seed; every random stream (init, data order, split, masks) derives from it
    #[arg(long, default_value_t = 0, global = true)]
    seed: u64,
    /// Trials (replicates) per experiment [default: 5 at paper scale, 2 (LeNet) / 1 (Conv) at small, 1 at smoke]
    #[arg(long, global = true)]
    trials: Option<u32>,
    /// Dataset override for every experiment: mnist, fashion-mnist, cifar-10 or synthetic
    /// [default: mnist for LeNet; cifar-10 for Conv-2/4/6, falling back to fashion-mnist when absent]
    #[arg(long, global = true)]
    dataset: Option<String>,
    /// Replace a preset by a TOML experiment config (print one with `config lenet`); matched to
    /// its network by the config's `name` prefix
    #[arg(long, global = true)]
    config: Vec<PathBuf>,
    /// Folder for run caches and checkpoints (resumable; safe to delete once results exist)
    #[arg(long, default_value = "runs", global = true)]
    runs_dir: PathBuf,
    /// Folder for the HDF5 results (a `<scale>/` subfolder is used)
    #[arg(long, default_value = "results/frankle-carbin-2019", global = true)]
    results_dir: PathBuf,
    /// Folder for the figures, PNG and SVG (a `<scale>/` subfolder is used)
    #[arg(long, default_value = "figures/frankle-carbin-2019", global = true)]
    figures_dir: PathBuf,
    /// Folder holding (or receiving) the datasets
    #[arg(long, default_value = "data", global = true)]
    data_dir: PathBuf,
    /// Independent jobs (replicates, branches) trained concurrently [default: CPU cores, 1 on a GPU]
    #[arg(long, global = true)]
    jobs: Option<usize>,
    /// libtorch intra-op threads [default: 1 when several jobs run, else all cores]
    #[arg(long, global = true)]
    threads: Option<i32>,
    /// Save a resumable checkpoint every N evaluations (0 = never)
    #[arg(long, default_value_t = 10, global = true)]
    checkpoint_every: usize,
    /// Print only warnings and errors
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Train what the figures need (reusing finished runs), write results, draw the figures
    Run {
        #[arg(value_enum, default_value = "all")]
        figures: Vec<FigureName>,
    },
    /// Redraw figures from the results files only (no training)
    Plot {
        #[arg(value_enum, default_value = "all")]
        figures: Vec<FigureName>,
    },
    /// Early-stop iteration and test accuracy per Pm level, from the results files
    Summary {
        /// Machine-readable JSON
        #[arg(long)]
        json: bool,
        /// The headline claims beside ours, as a Markdown table
        #[arg(long, conflicts_with = "json")]
        headline: bool,
    },
    /// Print the resolved experiment config (TOML) of a network: lenet, conv-2, conv-4, conv-6
    Config { net: String },
}

fn main() -> ExitCode {
    common::device::keep_freed_memory();
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<String>().cloned().or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
        let first = msg.lines().next().unwrap_or("").to_string();
        eprintln!("error: internal failure: {first} (please report this with the command you ran)");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line: clap's first line plus the valid values, if it lists them.
            let text = e.to_string();
            let mut line = text.lines().next().unwrap_or("error: invalid arguments").trim().to_string();
            if let Some(values) = text.lines().find(|l| l.contains("[possible values:")) {
                line = format!("{line} {}", values.trim());
            }
            eprintln!("{line}; see --help");
            return ExitCode::from(2);
        }
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(101),
    }
}

fn expand(figs: &[FigureName]) -> Vec<FigureName> {
    if figs.contains(&FigureName::All) {
        FigureName::EACH.to_vec()
    } else {
        let mut v = figs.to_vec();
        v.sort();
        v.dedup();
        v
    }
}

fn run(cli: Cli) -> Result<()> {
    let o = &cli.opts;
    let dataset_override = o.dataset.as_deref().map(DatasetName::parse).transpose()?;
    let device_choice = DeviceChoice::parse(&o.device)?;
    match &cli.command {
        Command::Config { net } => {
            let net = parse_net(net)?;
            let cfg = resolve_config(o, net, dataset_override.unwrap_or(net.default_dataset()))?;
            print!("{}", cfg.to_toml());
            Ok(())
        }
        Command::Run { figures } => {
            let figs = expand(figures);
            let device = device_choice.resolve()?;
            let results_dir = o.results_dir.join(o.scale.as_str());
            let figures_dir = o.figures_dir.join(o.scale.as_str());
            for d in [&results_dir, &figures_dir, &o.runs_dir] {
                ensure_writable(d)?;
            }
            let mut nets: Vec<Net> = figs.iter().flat_map(|f| f.nets()).collect();
            nets.sort();
            nets.dedup();
            for net in nets {
                train_net(o, net, &figs, dataset_override, device, &results_dir)?;
            }
            let loaded = load_results(&results_dir)?;
            for f in figs {
                figures::draw(f, &loaded, &figures_dir)?;
                if !o.quiet {
                    eprintln!("wrote {}.png and .svg", figures_dir.join(f.file_stem()).display());
                }
            }
            Ok(())
        }
        Command::Plot { figures } => {
            let results_dir = o.results_dir.join(o.scale.as_str());
            let figures_dir = o.figures_dir.join(o.scale.as_str());
            ensure_writable(&figures_dir)?;
            let loaded = load_results(&results_dir)?;
            if loaded.is_empty() {
                bail!("no results in {}; run `frankle-carbin-2019 --scale {} run` first", results_dir.display(), o.scale.as_str());
            }
            let explicit = !figures.contains(&FigureName::All);
            for f in expand(figures) {
                let have_all = f.nets().iter().all(|n| loaded.contains_key(n));
                if !have_all && !explicit {
                    eprintln!("skipping {}: its results are not in {}", f.file_stem(), results_dir.display());
                    continue;
                }
                figures::draw(f, &loaded, &figures_dir)?;
                if !o.quiet {
                    eprintln!("wrote {}.png and .svg", figures_dir.join(f.file_stem()).display());
                }
            }
            Ok(())
        }
        Command::Summary { json, headline } => {
            let results_dir = o.results_dir.join(o.scale.as_str());
            let loaded = load_results(&results_dir)?;
            if loaded.is_empty() {
                bail!("no results in {}; run `frankle-carbin-2019 --scale {} run` first", results_dir.display(), o.scale.as_str());
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&report::summary_json(&loaded)?)?);
            } else if *headline {
                print!("{}", report::headline_markdown(&loaded)?);
            } else {
                print!("{}", report::summary_text(&loaded)?);
            }
            Ok(())
        }
    }
}

fn parse_net(s: &str) -> Result<Net> {
    [Net::Lenet, Net::Conv2, Net::Conv4, Net::Conv6]
        .into_iter()
        .find(|n| n.name() == s)
        .ok_or_else(|| anyhow::format_err!("unknown network `{s}`; choose lenet, conv-2, conv-4 or conv-6"))
}

/// The preset (or the user's `--config` file) for `net` on `dataset`.
fn resolve_config(o: &Opts, net: Net, dataset: DatasetName) -> Result<ExperimentConfig> {
    for path in &o.config {
        let cfg = ExperimentConfig::from_toml_file(path)?;
        if cfg.name.starts_with(net.name()) {
            let mut cfg = cfg;
            if let Some(t) = o.trials {
                cfg.replicates = t;
            }
            cfg.validate().with_context(|| format!("config {}", path.display()))?;
            return Ok(cfg);
        }
    }
    let cfg = presets::experiment(net, o.scale, dataset, o.seed, o.trials);
    cfg.validate()?;
    Ok(cfg)
}

/// Creates `dir` if needed and proves it is writable, before any training starts.
fn ensure_writable(dir: &Path) -> Result<()> {
    let fix = "check its permissions or pass another folder";
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create output folder {} ({fix})", dir.display()))?;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable ({fix})", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Loads (fetching if needed) the dataset of `net`, falling back from CIFAR-10 to Fashion-MNIST
/// for the Conv nets when the user did not choose a dataset.
fn dataset_for(o: &Opts, net: Net, dataset_override: Option<DatasetName>) -> Result<DatasetName> {
    if let Some(d) = dataset_override {
        return Ok(d);
    }
    let d = net.default_dataset();
    if d == DatasetName::Cifar10 {
        if let Err(e) = data::ensure(d, &o.data_dir) {
            eprintln!(
                "note: CIFAR-10 is not available on this machine — running {} with the same protocol on Fashion-MNIST instead; its figures say so ({e:#})",
                net.label()
            );
            return Ok(DatasetName::FashionMnist);
        }
    }
    Ok(d)
}

fn train_net(o: &Opts, net: Net, figs: &[FigureName], dataset_override: Option<DatasetName>, device: tch::Device, results_dir: &Path) -> Result<()> {
    let dataset = dataset_for(o, net, dataset_override)?;
    let cfg = resolve_config(o, net, dataset)?;
    let data = data::load(cfg.dataset, &o.data_dir, imp::split_seed(&cfg))?;
    cfg.train.validate(data.train.len())?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let workers = o.jobs.unwrap_or(if device == tch::Device::Cpu { cores } else { 1 }).max(1);
    let threads = o.threads.unwrap_or(if workers > 1 { 1 } else { cores as i32 }).max(1);
    tch::set_num_threads(threads);
    let dir = common::paths::experiment_dir(&o.runs_dir, &cfg.name, &cfg.hash());
    let _lock = ExperimentLock::acquire(&dir)?;
    common::util::write_atomic(&dir.join(common::paths::CONFIG), serde_json::to_string_pretty(&cfg)?.as_bytes())?;
    let data = data.to_device(device);
    let exp = Experiment { config: &cfg, dir: dir.clone(), data: &data, device, checkpoint_every: o.checkpoint_every };
    let jobs: Vec<_> = imp::jobs(&cfg).into_iter().filter(|j| figs.iter().any(|f| f.needs(net, &cfg, j))).collect();
    if !o.quiet {
        eprintln!(
            "{}: {} on {} ({}), {} jobs, {} trials, {} iterations, {} workers x {} threads on {}; runs in {}",
            cfg.name, net.label(), cfg.dataset.as_str(), data.provenance.source, jobs.len(), cfg.replicates, cfg.train.iterations, workers, threads,
            device::describe(device), dir.display()
        );
    }
    let started = results::now_utc();
    let commit = results::git_commit();
    let progress = Progress::new(&cfg.name, o.quiet);
    let report = imp::run(&exp, &jobs, workers, &progress)?;
    progress.finish();
    let records = imp::collect(&exp)?;
    let info = RunInfo {
        git_commit: commit,
        libtorch_version: device::LIBTORCH_VERSION.into(),
        device: device::describe(device),
        intra_op_threads: threads as i64,
        workers,
        started_at: started,
        finished_at: results::now_utc(),
        tool: format!("frankle-carbin-2019 {}", env!("CARGO_PKG_VERSION")),
    };
    let path = results_dir.join(format!("{}.h5", net.name()));
    results::write(&path, &cfg, &data.provenance, &info, &records)?;
    if !o.quiet {
        eprintln!("wrote {} ({} stages)", path.display(), records.len());
    }
    if !report.failures.is_empty() {
        let (j, e) = &report.failures[0];
        bail!(
            "{} of {} stages failed (first: replicate {} level {} {}: {e}); finished stages are kept in {} — fix the cause and run the same command again to resume",
            report.failures.len(), jobs.len(), j.replicate, j.level, j.stage.name(), dir.display()
        );
    }
    Ok(())
}

/// Every results file present in `dir`, keyed by network.
fn load_results(dir: &Path) -> Result<BTreeMap<Net, Loaded>> {
    let mut out = BTreeMap::new();
    for net in [Net::Lenet, Net::Conv2, Net::Conv4, Net::Conv6] {
        let path = dir.join(format!("{}.h5", net.name()));
        if !path.exists() {
            continue;
        }
        let results = results::read(&path)?;
        let config = results.config()?;
        let prov = results.provenance()?;
        let dataset_line = format!(
            "{} from {} (train/val/test {}/{}/{})",
            prov.dataset, prov.source, prov.train_examples, prov.validation_examples, prov.test_examples
        );
        out.insert(net, Loaded { net, results, config, dataset_line });
    }
    Ok(out)
}
