//! The command line every paper binary shares: flags, subcommands, one-line errors, exit codes.
//!
//! Exit codes: 0 success; 2 bad input or a failed run (one line `error: …` naming the problem
//! and the fix); 101 an internal failure (a bug: one line, no backtrace).

use crate::paper::{ExperimentSpec, Paper, Scale};
use crate::{report, runner};
use anyhow::{bail, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use common::config::{ExperimentConfig, MAX_REPLICATES};
use common::data::DatasetName;
use common::imp::JobId;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    opts: Opts,
    #[command(subcommand)]
    command: Command,
}

/// Flags shared by every paper binary. Every count has a bound that names itself in the error.
#[derive(Args, Debug, Clone)]
pub struct Opts {
    /// Protocol scale: `paper` = the paper's protocol unchanged (meant for a GPU); `small` = same
    /// protocol, fewer trials/iterations/levels (a 2-core laptop); `smoke` = seconds, for tests
    #[arg(long, value_enum, default_value = "small", global = true)]
    pub scale: Scale,
    /// Compute device: auto (a CUDA GPU when libtorch sees one, else CPU), cpu, or cuda
    #[arg(long, default_value = "auto", global = true)]
    pub device: String,
    /// Run seed; every random stream (init, data order, split, masks) derives from it [default: 0,
    /// or the seed in a --config file]
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Trials (replicates) per experiment [default: the preset's; see `config NAME`]
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(0..=MAX_REPLICATES as i64))]
    pub trials: Option<u32>,
    /// Dataset for every experiment: mnist, fashion-mnist, cifar-10, cifar-100 or synthetic [default: the
    /// paper's, falling back from CIFAR-10 to Fashion-MNIST when CIFAR-10 is absent]
    #[arg(long, global = true)]
    pub dataset: Option<String>,
    /// Replace a preset by a TOML experiment config (print one with `config NAME`), matched to its
    /// experiment by the config's `name`: `NAME` or `NAME-<its dataset>`, exactly; --seed,
    /// --trials and --dataset still apply
    #[arg(long, global = true)]
    pub config: Vec<PathBuf>,
    /// Train (or report) only these of the figures' experiments, comma-separated (e.g. `conv-2,conv-4`);
    /// figures are then drawn from the results files as they stand, a figure lacking some of its
    /// experiments' files from those present, its caption saying so [default: all of them]
    #[arg(long, global = true, value_delimiter = ',')]
    pub experiments: Vec<String>,
    /// Folder for run caches and checkpoints (resumable; safe to delete once results exist)
    #[arg(long, default_value = "runs", global = true)]
    pub runs_dir: PathBuf,
    /// Folder for the HDF5 results [default: results/<paper>; a `<scale>/` subfolder is used]
    #[arg(long, global = true)]
    pub results_dir: Option<PathBuf>,
    /// Folder for the figures, PNG and SVG [default: figures/<paper>; a `<scale>/` subfolder is used]
    #[arg(long, global = true)]
    pub figures_dir: Option<PathBuf>,
    /// Folder holding (or receiving) the datasets
    #[arg(long, default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Independent stages (replicates, branches) trained concurrently [default: CPU cores; on CUDA one per visible GPU, 4 per GPU when every network is a LeNet; stages spread over every visible GPU]
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// libtorch intra-op threads per job [default: 1, so a run's numbers are the same on any
    /// machine with the same CPU kernels, whatever its core count]
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Arithmetic of LeNet stages on the CPU: `auto` = sparse kernels below 20 % of the weights
    /// kept (a fixed rule; faster, equal to dense up to summation order), dense above; `dense` =
    /// masked dense products everywhere; `sparse` = sparse kernels at every density. Part of the
    /// run folder's identity and of the results' run information
    #[arg(long, value_enum, default_value = "auto", global = true)]
    pub kernels: KernelChoice,
    /// How CUDA kernels may compute: `deterministic` = cuDNN's deterministic algorithms, TF32
    /// off, cuBLAS's fixed workspace (a GPU run repeats itself bit for bit); `fast` = libtorch's
    /// defaults (nondeterministic cuDNN algorithms allowed). No effect on the CPU; recorded in
    /// the results' run information
    #[arg(long, value_enum, default_value = "deterministic", global = true)]
    pub gpu_numerics: GpuNumericsChoice,
    /// Save a resumable checkpoint every N evaluations (0 = never)
    #[arg(long, default_value_t = 10, global = true, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub checkpoint_every: u32,
    /// Print only warnings and errors
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Where `run` trains the stages: `local` (this process) or `slurm` (one sbatch job per
    /// stage with afterok dependencies, and a final job writing results and figures)
    #[arg(long, value_enum, default_value = "local", global = true)]
    pub executor: Executor,
    #[command(flatten)]
    pub slurm: crate::slurm::SlurmOpts,
}

/// `--gpu-numerics` ([`common::device::GpuNumerics`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GpuNumericsChoice {
    Deterministic,
    Fast,
}

impl GpuNumericsChoice {
    pub fn get(self) -> common::device::GpuNumerics {
        match self {
            Self::Deterministic => common::device::GpuNumerics::Deterministic,
            Self::Fast => common::device::GpuNumerics::Fast,
        }
    }
}

/// `--kernels` ([`common::sparse::Kernels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KernelChoice {
    Auto,
    Dense,
    Sparse,
}

impl KernelChoice {
    pub fn kernels(self) -> common::sparse::Kernels {
        match self {
            KernelChoice::Auto => common::sparse::Kernels::Auto,
            KernelChoice::Dense => common::sparse::Kernels::Dense,
            KernelChoice::Sparse => common::sparse::Kernels::Sparse,
        }
    }
}

/// Where stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Executor {
    Local,
    Slurm,
}

#[derive(Subcommand)]
enum Command {
    /// Train what the figures need (reusing finished stages), add them to the results files, draw
    Run {
        #[arg(default_value = "all")]
        figures: Vec<String>,
    },
    /// Redraw figures from the results files only (no training)
    Plot {
        #[arg(default_value = "all")]
        figures: Vec<String>,
    },
    /// Early-stop iteration and accuracies per level and stage kind, from the results files
    Summary {
        /// Machine-readable JSON
        #[arg(long)]
        json: bool,
        /// The paper's headline claims beside ours, with tolerances and verdicts (Markdown)
        #[arg(long, conflicts_with = "json")]
        headline: bool,
    },
    /// Print the resolved experiment config (TOML) of one experiment
    Config { experiment: String },
    /// For each experiment the figures draw: its stages done, running (with Slurm job ids),
    /// submitted, failed and not started, from the run folders alone
    Status {
        #[arg(default_value = "all")]
        figures: Vec<String>,
    },
    /// Train one stage in the shared run folder (what a Slurm job runs; its parents must be done)
    #[command(hide = true)]
    RunStage { experiment: String, replicate: u32, level: u32, stage: String },
}

impl Opts {
    pub fn results_dir<P: Paper>(&self) -> PathBuf {
        self.results_dir.clone().unwrap_or_else(|| PathBuf::from("results").join(P::ID)).join(self.scale.as_str())
    }
    pub fn figures_dir<P: Paper>(&self) -> PathBuf {
        self.figures_dir.clone().unwrap_or_else(|| PathBuf::from("figures").join(P::ID)).join(self.scale.as_str())
    }
    pub fn dataset_override(&self) -> Result<Option<DatasetName>> {
        self.dataset.as_deref().map(DatasetName::parse).transpose()
    }
}

/// The entry point of a paper binary: `fn main() -> ExitCode { harness::main(MyPaper) }`.
pub fn main<P: Paper>(paper: P) -> ExitCode {
    common::device::keep_freed_memory();
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<String>().cloned().or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
        let first = msg.lines().next().unwrap_or("").to_string();
        eprintln!("error: internal failure: {first} (please report this with the command you ran)");
    }));
    let cli = match parse::<P>(&paper) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            eprintln!("{}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(&paper, cli))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(101),
    }
}

/// Parses the command line, with the paper's name, help and figure names.
fn parse<P: Paper>(paper: &P) -> Result<Cli, clap::Error> {
    let mut names: Vec<&'static str> = paper.figures().iter().map(|f| f.name).collect();
    names.push("all");
    let figures = |c: clap::Command| c.mut_arg("figures", |a| a.value_parser(PossibleValuesParser::new(names.clone())));
    let cmd = Cli::command()
        .name(P::ID)
        .bin_name(P::ID)
        .about(P::ABOUT)
        .version(env!("CARGO_PKG_VERSION"))
        .mut_subcommand("run", figures)
        .mut_subcommand("plot", figures)
        .mut_subcommand("status", figures);
    Cli::from_arg_matches(&cmd.try_get_matches()?)
}

/// clap's first line plus the valid values, if it lists them, as one line.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let mut line = text.lines().next().unwrap_or("error: invalid arguments").trim().to_string();
    if let Some(values) = text.lines().find(|l| l.contains("[possible values:")) {
        line = format!("{line} {}", values.trim());
    }
    format!("{line}; see --help")
}

/// The figures named on the command line (`all` = every figure), in the paper's order.
fn expand<P: Paper>(paper: &P, names: &[String]) -> Vec<&'static str> {
    let all = names.iter().any(|n| n == "all");
    paper.figures().iter().map(|f| f.name).filter(|f| all || names.iter().any(|n| n == f)).collect()
}

fn dispatch<P: Paper>(paper: &P, cli: Cli) -> Result<()> {
    let o = &cli.opts;
    common::progress::set_quiet(o.quiet);
    o.dataset_override()?;
    common::device::DeviceChoice::parse(&o.device)?;
    match &cli.command {
        Command::Config { experiment } => {
            let spec = runner::spec(paper, experiment)?;
            if !paper.runs_at(spec.id, o.scale) {
                bail!("experiment `{experiment}` is not part of scale {}; try --scale paper", o.scale.as_str());
            }
            let cfg = resolve_config(paper, o, &spec, o.dataset_override()?.unwrap_or(spec.dataset))?;
            print!("{}", cfg.to_toml());
            Ok(())
        }
        Command::Run { figures } => runner::run(paper, o, &expand(paper, figures)),
        Command::Status { figures } => runner::status(paper, o, &expand(paper, figures)),
        Command::RunStage { experiment, replicate, level, stage } => {
            let stage = common::imp::Stage::parse(stage)?;
            runner::run_stage(paper, o, experiment, JobId { replicate: *replicate, level: *level, stage })
        }
        Command::Plot { figures } => runner::plot(paper, o, &expand(paper, figures), !figures.iter().any(|f| f == "all")),
        Command::Summary { json, headline } => {
            let results = runner::load_results(paper, &o.results_dir::<P>())?;
            if results.is_empty() {
                bail!("no results in {}; run `{} --scale {} run` first", o.results_dir::<P>().display(), P::ID, o.scale.as_str());
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&report::summary_json(&results)?)?);
            } else if *headline {
                print!("{}", crate::claims::markdown(P::CITATION, &paper.claims(&results)?));
            } else {
                print!("{}", report::summary_text(&results)?);
            }
            Ok(())
        }
    }
}

/// Whether a config file is `experiment`'s: its `name` is the experiment's, exactly, or the
/// experiment's followed by the config's own dataset (`lenet-large-final-mnist`, as `config
/// NAME` prints it). `lenet-large-final-same-sign-mnist` is never `lenet-large-final`'s.
pub fn config_is_for(cfg: &ExperimentConfig, experiment: &str) -> bool {
    cfg.name == experiment || cfg.name == format!("{experiment}-{}", cfg.dataset.as_str())
}

/// Every `--config` file read, each checked to belong to one of the paper's experiments: a file
/// that would be silently ignored is an error that says how to name it.
fn config_files<P: Paper>(paper: &P, o: &Opts) -> Result<Vec<(ExperimentConfig, PathBuf)>> {
    let mut out = Vec::new();
    for path in &o.config {
        let cfg = ExperimentConfig::from_toml_file(path)?;
        if !paper.experiments().iter().any(|e| config_is_for(&cfg, e.name)) {
            bail!(
                "config {} is named `{}`, which is no experiment of {} (name it `<experiment>-{}`, as `config NAME` prints it)",
                path.display(),
                cfg.name,
                P::ID,
                cfg.dataset.as_str()
            );
        }
        out.push((cfg, path.clone()));
    }
    Ok(out)
}

/// The preset of `experiment` (or the user's `--config` file for it), with `--seed`, `--trials`
/// and `--dataset` applied, validated.
pub fn resolve_config<P: Paper>(paper: &P, o: &Opts, experiment: &ExperimentSpec<P::Experiment>, dataset: DatasetName) -> Result<ExperimentConfig> {
    let from_file = config_files(paper, o)?.into_iter().find(|(cfg, _)| config_is_for(cfg, experiment.name));
    let (mut cfg, origin) = match from_file {
        Some((cfg, path)) => (cfg, format!("config {}", path.display())),
        None => (paper.preset(experiment.id, o.scale, dataset), format!("preset {}", experiment.name)),
    };
    if let Some(seed) = o.seed {
        cfg.seed = seed;
    }
    if let Some(t) = o.trials {
        cfg.replicates = t;
    }
    if let Some(d) = o.dataset_override()? {
        cfg.dataset = d;
    }
    // A transfer source is the named experiment exactly as this run resolves it.
    if let Some(t) = cfg.transfer.as_mut() {
        let source = crate::runner::spec(paper, &t.experiment).map_err(|e| anyhow::format_err!("{origin}: transfer source: {e:#}"))?;
        *t.source = resolve_config(paper, o, &source, crate::runner::dataset_for(o, &source)?)?;
    }
    cfg.validate().map_err(|e| anyhow::format_err!("{origin}: {e:#}"))?;
    Ok(cfg)
}
