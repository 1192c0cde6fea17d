//! What a paper binary supplies: its experiments, presets, figures and claims.

use crate::claims::Claim;
use anyhow::Result;
use common::config::{BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::imp::{JobId, StageKind, StageRecord};
use common::plot::Figure;
use common::results::ExperimentResults;
use std::collections::BTreeMap;

/// `smoke | small | paper`: `paper` is the paper's protocol unchanged (meant for a GPU); `small`
/// keeps the protocol with fewer trials/iterations/levels (a 2-core laptop, under an hour);
/// `smoke` runs in seconds, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    Smoke,
    Small,
    Paper,
}

impl Scale {
    pub const ALL: [Scale; 3] = [Scale::Smoke, Scale::Small, Scale::Paper];

    /// The scale a results file was written at (`smoke`, `small`, `paper`).
    pub fn named(name: &str) -> Option<Scale> {
        Scale::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Small => "small",
            Scale::Paper => "paper",
        }
    }
}

/// A paper's experiment as a value of the paper's own type — a network, a (variant, k) pair, a
/// network × ablation — what its presets, figures and claims take, so that nothing parses a name
/// back. Its name (`ExperimentSpec::name`) belongs to the command line and the files.
pub trait ExperimentId: Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static {}

impl<T: Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static> ExperimentId for T {}

/// One experiment of a paper: a network on a dataset, stored as `<results>/<scale>/<name>.h5`.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentSpec<E> {
    /// The experiment as the paper's value (what `Paper::preset`, `needs` and the figures see).
    pub id: E,
    /// File and `config NAME` name, e.g. `lenet`: an API boundary (results files, run folders,
    /// `--experiments`, `--config` files).
    pub name: &'static str,
    /// Human name in captions, e.g. `LeNet-300-100`.
    pub label: &'static str,
    /// The paper's dataset.
    pub dataset: DatasetName,
    /// Used, with a note, when `dataset` cannot be had and the user did not pick one (CIFAR-10 on
    /// a machine without internet → Fashion-MNIST); every figure and results file says so.
    pub fallback: Option<DatasetName>,
}

/// One figure of a paper, drawn from the results of `experiments` (the paper's typed values).
#[derive(Debug, Clone, Copy)]
pub struct FigureSpec<E: 'static> {
    /// File stem and CLI name, e.g. `figure-3`.
    pub name: &'static str,
    pub experiments: &'static [E],
}

/// Which evaluation of a run a number is read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readout {
    /// The last evaluation (the end of training).
    Final,
    /// The evaluation of minimum validation loss (Frankle & Carbin's early stop).
    EarlyStop,
    /// The evaluation of maximum validation accuracy, the first on ties (Renda et al.'s).
    BestValidation,
    /// The first evaluation (an untrained stage's only one).
    First,
}

impl Readout {
    /// The test accuracy of `log` at this evaluation (`None` if there is none; at the best
    /// validation, also when the test set was not measured there).
    pub fn test_accuracy(self, log: &common::train::EvalLog) -> Option<f64> {
        let i = match self {
            Readout::Final => log.test_acc().len().checked_sub(1)?,
            Readout::EarlyStop => log.early_stop_index()?,
            Readout::BestValidation => log.best_val_acc_index()?,
            Readout::First => 0,
        };
        log.test_acc().get(i).copied().filter(|a| self != Readout::BestValidation || a.is_finite())
    }
}

/// "Figure 3" for the figure named `figure-3`: how a caption names a figure whose name is the
/// paper's own number (other names are returned as they are).
pub fn figure_label(name: &str) -> String {
    match name.strip_prefix("figure-") {
        Some(n) if n.chars().all(|c| c.is_ascii_digit()) => format!("Figure {n}"),
        _ => name.to_string(),
    }
}

/// "1 trial", "3 trials": a trial count as captions and claims rows write it.
pub fn trials(n: u32) -> String {
    format!("{n} trial{}", if n == 1 { "" } else { "s" })
}

/// A results file read back, with what captions need.
pub struct Loaded<E> {
    pub spec: ExperimentSpec<E>,
    pub results: ExperimentResults,
    pub config: ExperimentConfig,
    /// "mnist from <source> (train/val/test 55000/5000/10000)".
    pub dataset_line: String,
    /// The trials its protocol trains: the preset's at the file's scale, or the file's own where
    /// it holds more. A file trained trial by trial (`--trials 1`, then `--trials 2`, … at
    /// `paper`) holds fewer until its last trial is in; its claims wait for them.
    pub planned_trials: u32,
}

impl<E> Loaded<E> {
    /// Every stage of `kind` at `level` (all replicates and copies), in stored order.
    pub fn records(&self, level: u32, kind: StageKind) -> impl Iterator<Item = &StageRecord> {
        self.results.records.iter().filter(move |r| r.level == level && r.stage.kind() == kind)
    }

    /// The config's branch of `kind` with the parameters it ran with (`kind` itself when the
    /// config has no such branch): how a figure finds a kind whose parameters vary by scale.
    pub fn branch(&self, kind: BranchKind) -> BranchKind {
        self.config.branches.iter().map(|b| b.kind).find(|k| k.same_kind(kind)).unwrap_or(kind)
    }

    /// The test accuracy of every sample (replicate × copy) of `kind` at `level`, read at
    /// `readout`.
    pub fn accuracies(&self, level: u32, kind: StageKind, readout: Readout) -> Vec<f64> {
        self.records(level, kind).filter_map(|r| readout.test_accuracy(&r.outcome.log)).collect()
    }

    /// The fraction of prunable weights remaining at trunk level `level`.
    pub fn density(&self, level: u32) -> Option<f64> {
        self.records(level, StageKind::Main).next().map(|r| r.density)
    }

    /// Per-(level, stage kind) means and spreads over replicates and copies.
    pub fn summary(&self) -> Result<Vec<common::aggregate::LevelSummary>> {
        common::aggregate::summarise(&self.results.records)
    }

    /// Whether it holds fewer trials than its protocol trains ([`Loaded::planned_trials`]).
    pub fn is_partial(&self) -> bool {
        self.config.replicates < self.planned_trials
    }

    /// "3 trials", or "1 of 3 trials" for a file still gaining its trials.
    pub fn trials_text(&self) -> String {
        if self.is_partial() {
            format!("{} of {} trials", self.config.replicates, self.planned_trials)
        } else {
            trials(self.config.replicates)
        }
    }

    /// "small, 3 trials, 20000 it, mnist (55000 train)": the setting a number was measured in
    /// ("paper, 1 of 3 trials, …" while the file gains its trials).
    pub fn setting(&self) -> crate::ScaleData {
        let p = self.results.provenance().ok();
        let text = format!(
            "{}, {}, {} it, {}{}",
            self.results.scale,
            self.trials_text(),
            self.config.train.iterations,
            self.config.dataset.as_str(),
            p.map(|p| format!(" ({} train)", p.train_examples)).unwrap_or_default()
        );
        self.measured_as(text)
    }

    /// Its numbers' setting described by `text` (a paper's own Scale / data wording): its trials,
    /// out of those planned.
    pub fn measured_as(&self, text: String) -> crate::ScaleData {
        crate::ScaleData::so_far(text, self.config.replicates, self.planned_trials)
    }
}

/// "at scale `small`; seed 0; commit 0123456789ab": what every figure caption states of the
/// results files it was drawn from, the commits being those that trained each file's stages
/// ([`trained_commits`]). The files of one figure can name several: then each commit list (or
/// seed) is given once with the experiments it trained, in the order drawn — "commits
/// 0123456789ab for LeNet-300-100; 456789abcdef for VGG-11, VGG-16".
pub fn provenance_clause<'a, E: 'a>(drawn: impl IntoIterator<Item = &'a Loaded<E>>) -> String {
    let drawn: Vec<&Loaded<E>> = drawn.into_iter().collect();
    let Some(first) = drawn.first() else { return String::new() };
    let of = |value: &dyn Fn(&Loaded<E>) -> String| -> Vec<(String, &str)> { drawn.iter().map(|l| (value(l), l.spec.label)).collect() };
    let partial: Vec<String> = drawn.iter().filter(|l| l.is_partial()).map(|l| format!("{} so far for {}", l.trials_text(), l.spec.label)).collect();
    let partial = if partial.is_empty() { String::new() } else { format!("{}; ", partial.join("; ")) };
    format!(
        "at scale `{}`; {partial}{}; {}",
        first.results.scale,
        listed("seed", &of(&|l| l.config.seed.to_string())),
        listed("commit", &of(&|l| trained_commits(&l.results.records, &l.results.run.git_commit)))
    )
}

/// The commits that trained `records` (12 digits each, in first-seen order): each stage's own
/// ([`common::imp::TrainedBy`]). Where no stage records one (files written before 2026-12-07),
/// `last_run`, the commit that last wrote the file; where only some do, the others are counted:
/// "0123456789ab, 456789abcdef and 45 stages by builds before 2026-12-07".
pub fn trained_commits(records: &[StageRecord], last_run: &str) -> String {
    let short = |c: &str| -> String { c.chars().take(12).collect() };
    let mut commits: Vec<String> = Vec::new();
    for t in records.iter().filter_map(|r| r.trained.as_ref()) {
        let c = short(&t.git_commit);
        if !commits.contains(&c) {
            commits.push(c);
        }
    }
    let unstamped = records.iter().filter(|r| r.trained.is_none()).count();
    match (commits.as_slice(), unstamped) {
        ([], _) => short(last_run),
        (_, 0) => commits.join(", "),
        _ => format!("{} and {unstamped} stages by builds before 2026-12-07", commits.join(", ")),
    }
}

/// "commit X" where every experiment has the same value, else "commits X for A, B; Y for C":
/// each value once, in first-seen order, with the experiments that have it ([`grouped`]).
fn listed(what: &str, values: &[(String, &str)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (value, label) in values {
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((value, vec![label])),
        }
    }
    if let [(value, _)] = groups.as_slice() {
        let plural = if value.contains(", ") || value.contains(" and ") { "s" } else { "" };
        return format!("{what}{plural} {value}");
    }
    let group = |(value, labels): &(&str, Vec<&str>)| {
        let others: Vec<&str> = values.iter().filter(|(v, _)| v != value).map(|(_, l)| *l).collect();
        format!("{value} for {}", grouped(labels, &others))
    };
    format!("{what}s {}", groups.iter().map(group).collect::<Vec<_>>().join("; "))
}

/// `labels`, comma-separated, with each network's experiments named once where none of
/// `others` is of that network: "ResNet-20 (6 experiments)" for "ResNet-20, k = 0", …,
/// "ResNet-20, k = 2000". The network is a label's text before its first ", ".
pub(crate) fn grouped(labels: &[&str], others: &[&str]) -> String {
    let network = |label: &str| label.split(", ").next().unwrap_or(label).to_string();
    let mut parts: Vec<String> = Vec::new();
    let mut named = std::collections::BTreeSet::new();
    for label in labels {
        let net = network(label);
        let members = labels.iter().filter(|l| network(l) == net).count();
        if members < 2 || label.len() == net.len() || others.iter().any(|l| network(l) == net) {
            parts.push(label.to_string());
        } else if named.insert(net.clone()) {
            parts.push(format!("{net} ({members} experiments)"));
        }
    }
    parts.join(", ")
}

/// Final test accuracies of every dense network that `runs` trained — experiments of one
/// network that differ only in their rewind point k: each trial's trunk at level 0, taken once
/// (its dense training does not depend on k), and every dense copy spawned at level 0 from any
/// k, over all trials. The reference a "matching" claim compares with: one network's final
/// accuracy is a single draw of the SGD noise.
pub fn dense_accuracies<E>(runs: &[&Loaded<E>]) -> Vec<f64> {
    let trunk = runs.first().map(|l| l.accuracies(0, StageKind::Main, Readout::Final)).unwrap_or_default();
    let spawned = runs.iter().flat_map(|l| l.accuracies(0, StageKind::Branch(l.branch(BranchKind::SPAWN)), Readout::Final));
    trunk.into_iter().chain(spawned).collect()
}

/// Every results file of a paper at one scale, by experiment name.
pub type Results<E> = BTreeMap<&'static str, Loaded<E>>;

/// A paper binary: the protocol as data, the figures and the claims. Everything else (flags,
/// subcommands, errors, locks, progress, resume, results files, summaries, claims tables) is the
/// harness's, the same for every paper.
pub trait Paper: Sync {
    /// Binary and folder name, e.g. `frankle-carbin-2019`.
    const ID: &'static str;
    /// One line for `--help`: the paper ([`Self::REFERENCE`]) and what the binary reproduces.
    const ABOUT: &'static str;
    /// Short name of the paper in claims tables, e.g. `Frankle & Carbin 2019`.
    const CITATION: &'static str;
    /// The paper's reference — authors (venue year), title — that every figure's caption opens
    /// with, e.g. `Frankle & Carbin (ICLR 2019), The Lottery Ticket Hypothesis: …`.
    const REFERENCE: &'static str;
    /// The paper's experiment type (see [`ExperimentId`]).
    type Experiment: ExperimentId;

    fn experiments(&self) -> &'static [ExperimentSpec<Self::Experiment>];
    fn figures(&self) -> &'static [FigureSpec<Self::Experiment>];

    /// The preset of `experiment` at `scale` on `dataset` (seed 0; the harness applies `--seed`
    /// and `--trials`).
    fn preset(&self, experiment: Self::Experiment, scale: Scale, dataset: DatasetName) -> ExperimentConfig;

    /// Whether `experiment` is part of the paper at `scale` (default: always). A scale may leave
    /// out experiments it cannot afford (a rewind point beyond its shortened training); `run`
    /// skips them and figures draw the experiments present.
    fn runs_at(&self, _experiment: Self::Experiment, _scale: Scale) -> bool {
        true
    }

    /// Whether `figure` draws stage `job` of `experiment` (the harness adds what it depends on).
    fn needs(&self, figure: &str, experiment: Self::Experiment, cfg: &ExperimentConfig, job: &JobId) -> bool;

    /// Draws `figure` from the results (all of its experiments are present and complete).
    fn draw(&self, figure: &str, results: &Results<Self::Experiment>) -> Result<Figure>;

    /// The paper's headline claims beside ours, from whatever results are present.
    fn claims(&self, results: &Results<Self::Experiment>) -> Result<Vec<Claim>>;
}

/// A paper binary's whole `main.rs` below its doc comment: the [`Paper`] impl of a crate laid out
/// as ARCHITECTURE.md's "Adding a paper binary" says — `presets::{Experiment, EXPERIMENTS,
/// preset}`, `figures::{FIGURES, needs, draw}`, `claims::claims`, and, when a scale leaves
/// experiments out, `presets::included` (named last: `Paper::runs_at`) — and `fn main`. Its
/// strings: the id, the citation in claims tables, the reference every caption opens with, and
/// what the binary reproduces (`--help` shows the reference, a dash, and that).
///
/// ```ignore
/// harness::paper! {
///     FrankleCarbin = "frankle-carbin-2019", "Frankle & Carbin 2019",
///     "Frankle & Carbin (ICLR 2019), The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
///     "Figures 1, 3, 4 and 5 end to end"
/// }
/// ```
#[macro_export]
macro_rules! paper {
    ($name:ident = $id:literal, $citation:literal, $reference:literal, $about:literal $(, $included:ident)?) => {
        struct $name;

        impl $crate::Paper for $name {
            const ID: &'static str = $id;
            const ABOUT: &'static str = concat!($reference, " — ", $about);
            const CITATION: &'static str = $citation;
            const REFERENCE: &'static str = $reference;
            type Experiment = presets::Experiment;

            fn experiments(&self) -> &'static [$crate::ExperimentSpec<presets::Experiment>] {
                presets::EXPERIMENTS.as_slice()
            }

            fn figures(&self) -> &'static [$crate::FigureSpec<presets::Experiment>] {
                figures::FIGURES.as_slice()
            }

            fn preset(&self, experiment: presets::Experiment, scale: $crate::Scale, dataset: common::data::DatasetName) -> common::config::ExperimentConfig {
                presets::preset(experiment, scale, dataset)
            }

            $(
                fn runs_at(&self, experiment: presets::Experiment, scale: $crate::Scale) -> bool {
                    presets::$included(experiment, scale)
                }
            )?

            fn needs(&self, figure: &str, experiment: presets::Experiment, cfg: &common::config::ExperimentConfig, job: &common::imp::JobId) -> bool {
                figures::needs(figure, experiment, cfg, job)
            }

            fn draw(&self, figure: &str, results: &$crate::Results<presets::Experiment>) -> anyhow::Result<common::plot::Figure> {
                figures::draw(figure, results)
            }

            fn claims(&self, results: &$crate::Results<presets::Experiment>) -> anyhow::Result<Vec<$crate::Claim>> {
                claims::claims(results)
            }
        }

        fn main() -> std::process::ExitCode {
            $crate::main($name)
        }

        #[cfg(test)]
        #[test]
        fn experiments_figures_and_presets_agree() {
            $crate::testkit::paper_is_consistent(&$name);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{figure_label, listed, trained_commits, Readout};
    use common::imp::{Stage, StageRecord, TrainedBy};
    use common::train::{evaluation, EvalLog};
    use common::train::{Status, TrainOutcome};

    #[test]
    fn a_numbered_figure_is_labelled_by_its_number_and_other_names_stay() {
        assert_eq!(figure_label("figure-3"), "Figure 3");
        assert_eq!(figure_label("figure-12"), "Figure 12");
        assert_eq!(figure_label("figure-2-layers"), "figure-2-layers");
        assert_eq!(figure_label("figure-cost"), "figure-cost");
    }

    #[test]
    fn a_caption_names_one_commit_or_each_with_the_experiments_it_wrote() {
        let same = [("0123".to_string(), "LeNet-300-100"), ("0123".to_string(), "VGG-11")];
        assert_eq!(listed("commit", &same), "commit 0123");
        let mixed = [("0123".to_string(), "LeNet-300-100"), ("4567".to_string(), "VGG-11"), ("4567".to_string(), "VGG-16")];
        assert_eq!(listed("commit", &mixed), "commits 0123 for LeNet-300-100; 4567 for VGG-11, VGG-16");
        assert_eq!(listed("seed", &[("0".to_string(), "A"), ("1".to_string(), "B"), ("0".to_string(), "C")]), "seeds 0 for A, C; 1 for B");
        // A network whose experiments all share a commit is named once.
        let renda = [("ea9d".to_string(), "LeNet-300-100, FT"), ("ea9d".to_string(), "LeNet-300-100, WR"), ("a34f".to_string(), "ResNet-20, FT")];
        assert_eq!(listed("commit", &renda), "commits ea9d for LeNet-300-100 (2 experiments); a34f for ResNet-20, FT");
        assert_eq!(listed("commit", &[("0123, 4567".to_string(), "LeNet-300-100")]), "commits 0123, 4567");
    }

    /// A caption names the commits that trained the stages, not only the one that last wrote
    /// the file: a file that gained trials over several sessions names each.
    #[test]
    fn the_commits_of_a_file_are_those_that_trained_its_stages() {
        let stage = |commit: Option<&str>| StageRecord {
            replicate: 0,
            level: 0,
            stage: Stage::Main,
            density: 1.0,
            layers: Vec::new(),
            outcome: TrainOutcome { log: EvalLog::default(), status: Status::Completed, wall_s: 0.0, sparse: false },
            pair: None,
            pruning: None,
            metrics: Default::default(),
            device: "cpu".into(),
            trained: commit.map(|c| TrainedBy { git_commit: c.into(), machine: "cpu".into(), finished_at: "2026-12-07T00:00:00Z".into() }),
        };
        let legacy = [stage(None), stage(None)];
        assert_eq!(trained_commits(&legacy, "0123456789abcdef"), "0123456789ab", "unstamped: the file's last run");
        let stamped = [stage(Some("aaaaaaaaaaaaaaaa")), stage(Some("bbbbbbbbbbbbbbbb")), stage(Some("aaaaaaaaaaaaaaaa"))];
        assert_eq!(trained_commits(&stamped, "cccccccccccc"), "aaaaaaaaaaaa, bbbbbbbbbbbb");
        let mixed = [stage(None), stage(Some("aaaaaaaaaaaaaaaa")), stage(None)];
        assert_eq!(trained_commits(&mixed, "aaaaaaaaaaaaaaaa"), "aaaaaaaaaaaa and 2 stages by builds before 2026-12-07");
    }

    #[test]
    fn each_readout_reads_its_evaluation() {
        let nan = f64::NAN;
        let mut log = EvalLog::default();
        log.push(0, &evaluation(nan, (2.0, 0.1), (2.0, 0.11)));
        log.push(100, &evaluation(1.0, (0.5, 0.8), (0.5, 0.81)));
        log.push(200, &evaluation(0.8, (0.6, 0.9), (nan, nan)));
        log.push(300, &evaluation(0.7, (0.9, 0.9), (0.9, 0.93)));
        assert_eq!(Readout::First.test_accuracy(&log), Some(0.11));
        assert_eq!(Readout::EarlyStop.test_accuracy(&log), Some(0.81), "minimum validation loss at 100");
        assert_eq!(Readout::Final.test_accuracy(&log), Some(0.93));
        // Best validation accuracy first at 200, where the test set was not measured.
        assert_eq!(Readout::BestValidation.test_accuracy(&log), None);
        assert_eq!(Readout::Final.test_accuracy(&EvalLog::default()), None);
    }
}
