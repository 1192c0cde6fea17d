//! The paper's figures, drawn from the results files alone, and the stages each needs
//! (numbering ours): 1, test accuracy vs % of weights remaining for IMP rewound to the late k
//! and to 0, random reinitialisation, θ_k's signs with new magnitudes or θ_0's, and θ_0's signs
//! with θ_k's magnitudes; 2, the same with θ_k's
//! surviving values permuted at each scope; 3, test accuracy at the claim level vs the noise
//! scale α, beside rewinding to the late k and to 0; 4, the dense network's first iterations —
//! distance from θ_0, signs flipped since θ_0, the optimizer's smoothed gradient; 5, the claim
//! level's mask on weights pretrained for P iterations on random labels, rotation prediction
//! or blurred inputs instead of θ_k, vs P. One panel per
//! network (per statistic in Figure 4); final test accuracy (Figure 4: each statistic), mean over
//! trials, bars min–max.

use crate::presets::{self, Arm, Experiment, Loaded, Net, Results, NOISE, PERMUTATIONS, SIGNS};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, StageKind};
use common::plot::{Figure, Panel, RGBColor, Series, Spread, XAxis, PALETTE};
use common::stage::pretrained::PretrainParams;
use common::stage::ParamsId;
use harness::{FigureSpec, Readout, Scale};
use std::sync::LazyLock;

/// Every figure draws from every experiment present at the scale.
/// Figures 1–3 draw from every experiment, Figure 4 from the k = 0 ones (they hold the
/// statistics), Figure 5 from ResNet-20's (the pretraining arms).
pub static FIGURES: LazyLock<[FigureSpec<Experiment>; 5]> = LazyLock::new(|| {
    let all: &'static [Experiment] = presets::ALL.as_slice();
    let only =
        |keep: fn(Experiment) -> bool| -> &'static [Experiment] { Box::leak(all.iter().copied().filter(|&e| keep(e)).collect::<Vec<_>>().into_boxed_slice()) };
    [
        FigureSpec { name: "figure-1", experiments: all },
        FigureSpec { name: "figure-2", experiments: all },
        FigureSpec { name: "figure-3", experiments: all },
        FigureSpec { name: "figure-4", experiments: only(|e| e.k == 0) },
        FigureSpec { name: "figure-5", experiments: only(|e| e.net == Net::Resnet20) },
    ]
});

/// The arms a figure draws.
fn arms_of(figure: &str) -> &'static [Arm] {
    match figure {
        "figure-1" => &SIGNS,
        "figure-2" => &PERMUTATIONS,
        "figure-3" => &NOISE,
        _ => &[],
    }
}

/// Whether `figure` draws stage `j` of `experiment` (the harness adds its dependencies).
pub fn needs(figure: &str, experiment: Experiment, cfg: &ExperimentConfig, j: &JobId) -> bool {
    match j.stage.kind() {
        StageKind::Main => figure != "figure-4",
        // Figure 1's curve at every analysed level; Figure 3's line at the claim level.
        StageKind::Branch(BranchKind::REINIT) => figure == "figure-1" || (figure == "figure-3" && j.level == experiment.net.claim_level(scale_of(cfg))),
        StageKind::Branch(kind) if kind.as_str() == BranchKind::EARLY_STATISTICS.as_str() => figure == "figure-4",
        StageKind::Branch(kind) if [BranchKind::PRETRAIN.as_str(), BranchKind::REWIND_PRETRAINED.as_str()].contains(&kind.as_str()) => figure == "figure-5",
        StageKind::Branch(kind) => arms_of(figure).iter().any(|a| a.kind() == kind),
    }
}

/// The scale a config was made at.
pub fn scale_of(cfg: &ExperimentConfig) -> Scale {
    match cfg.scale.as_str() {
        "paper" => Scale::Paper,
        "small" => Scale::Small,
        _ => Scale::Smoke,
    }
}

/// One network's two experiments, rewound to 0 and to the late k, as far as present.
pub struct Pair<'a> {
    pub net: Net,
    pub k0: Option<&'a Loaded>,
    pub late: Option<&'a Loaded>,
    /// The results' scale (all files of `results` share one), so that a network without files
    /// at `paper` is named with `paper`'s k and levels.
    scale: Scale,
}

impl<'a> Pair<'a> {
    pub fn of(results: &'a Results, net: Net) -> Pair<'a> {
        let scale = results.values().next().map_or(Scale::Small, |l| scale_of(&l.config));
        let mut pair = Pair { net, k0: None, late: None, scale };
        for l in results.values().filter(|l| l.spec.id.net == net) {
            if l.spec.id.k == 0 {
                pair.k0 = Some(l);
            } else {
                pair.late = Some(l);
            }
        }
        pair
    }

    fn any(&self) -> Option<&'a Loaded> {
        self.late.or(self.k0)
    }

    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// The late k as run.
    pub fn late_k(&self) -> u64 {
        self.late.map_or_else(|| self.net.late_k(self.scale()), |l| l.config.rewind_iteration)
    }

    pub fn claim_level(&self) -> u32 {
        self.net.claim_level(self.scale())
    }

    pub fn analysed_levels(&self) -> Vec<u32> {
        self.net.analysed_levels(self.scale())
    }

    /// The fraction of prunable weights remaining at `level`.
    pub fn density(&self, level: u32) -> Option<f64> {
        self.any()?.density(level)
    }

    /// Final test accuracies of IMP at `level` rewound to the late k (`late`) or to 0.
    pub fn imp(&self, late: bool, level: u32) -> Vec<f64> {
        let l = if late { self.late } else { self.k0 };
        l.map(|l| l.accuracies(level, StageKind::Main, Readout::Final)).unwrap_or_default()
    }

    /// Final test accuracies of the random-reinitialisation control at `level`.
    pub fn reinit(&self, level: u32) -> Vec<f64> {
        self.k0.map(|l| l.accuracies(level, StageKind::Branch(BranchKind::REINIT), Readout::Final)).unwrap_or_default()
    }

    /// Final test accuracies of `arm` at `level`.
    pub fn arm(&self, arm: Arm, level: u32) -> Vec<f64> {
        self.late.map(|l| l.accuracies(level, StageKind::Branch(arm.kind()), Readout::Final)).unwrap_or_default()
    }

    /// Final test accuracies of the level's mask on weights pretrained on `task`.
    pub fn pretrained(&self, task: PretrainParams, level: u32) -> Vec<f64> {
        let kind = BranchKind::REWIND_PRETRAINED.with_params(ParamsId::of(&task.params()));
        self.late.map(|l| l.accuracies(level, StageKind::Branch(kind), Readout::Final)).unwrap_or_default()
    }
}

fn caption(figure: &str, results: &Results) -> String {
    if results.is_empty() {
        return String::new();
    }
    let quantity = if figure == "figure-4" { "each statistic" } else { "final test accuracy" };
    let figure = harness::figure_label(figure);
    let mut lines = vec![format!("{figure} (numbering ours) {}; {quantity}, mean over trials, bars = min..max.", harness::provenance_clause(results.values()))];
    for net in Net::ALL {
        let pair = Pair::of(results, net);
        let Some(l) = pair.any() else { continue };
        let analysed: Vec<String> = pair.analysed_levels().iter().filter_map(|&v| pair.density(v)).map(|d| format!("{:.1} %", 100.0 * d)).collect();
        let imp = match l.density(l.config.levels) {
            Some(d) => format!("IMP to {:.1} %, k = 0 and {}, perturbations of θ_k at {}", 100.0 * d, pair.late_k(), analysed.join(", ")),
            None => "the dense network's first iterations".into(),
        };
        let trials = match (pair.k0, pair.late) {
            (Some(k0), Some(late)) if k0.trials_text() != late.trials_text() => {
                format!("{} at k = 0, {} at k = {}", k0.trials_text(), late.trials_text(), pair.late_k())
            }
            _ => l.trials_text(),
        };
        lines.push(format!("{}: {trials}, {} it, {imp}", net.label(), l.config.train.iterations));
        lines.push(format!("    {}", l.dataset_line));
    }
    lines.join("\n")
}

const GREY: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);
const BLACK: RGBColor = RGBColor(0x20, 0x20, 0x20);

fn line(label: String, color: RGBColor, dashed: bool, points: Vec<(f64, Stat)>) -> Series {
    Series { label, color, dashed, spread: if dashed { Spread::None } else { Spread::ErrorBars }, points }
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let pairs: Vec<Pair> = Net::ALL.into_iter().map(|n| Pair::of(results, n)).filter(|p| p.any().is_some()).collect();
    let panels: Vec<Panel> = match figure {
        "figure-1" | "figure-2" => pairs.iter().map(|p| accuracy_vs_sparsity(p, figure)).collect(),
        "figure-3" => pairs.iter().map(accuracy_vs_noise).collect(),
        "figure-4" => pairs.iter().flat_map(early_statistics).collect(),
        "figure-5" => pairs.iter().filter(|p| !presets::pretraining(p.net, p.scale()).is_empty()).map(accuracy_vs_pretraining).collect(),
        other => bail!("no figure `{other}`"),
    };
    if panels.is_empty() {
        bail!("{figure}: no network has results at this scale");
    }
    let title = match figure {
        "figure-1" => "Figure 1: θ_k's signs and magnitudes vs. rewinding — test accuracy vs. weights remaining",
        "figure-2" => "Figure 2: θ_k's surviving weights permuted — test accuracy vs. weights remaining",
        "figure-3" => "Figure 3: Gaussian noise on θ_k (α × each layer's initial std) — test accuracy at the deepest analysed level",
        "figure-4" => "Figure 4: the dense network's first iterations — how far and how the weights move",
        _ => "Figure 5: pretraining without the task's labels in place of θ_k — test accuracy at the deepest analysed level",
    };
    let columns = if figure == "figure-4" { 3 } else { panels.len().min(2) };
    let panel_size = match (figure, panels.len()) {
        ("figure-4", _) => (520, 400),
        (_, 1) => (1100, 520),
        _ => (640, 460),
    };
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results), columns, panels, panel_size })
}

/// Figures 1 and 2: IMP rewound to the late k and to 0 over every level, the figure's arms
/// (and in Figure 1 random reinitialisation) at the analysed levels.
fn accuracy_vs_sparsity(p: &Pair, figure: &str) -> Panel {
    let levels = p.any().map_or(0, |l| l.config.levels);
    let imp = |late: bool| -> Vec<(f64, Stat)> { (0..=levels).filter_map(|v| Some((100.0 * p.density(v)?, Stat::of(&p.imp(late, v))?))).collect() };
    let at_analysed = |values: &dyn Fn(u32) -> Vec<f64>| -> Vec<(f64, Stat)> {
        p.analysed_levels().into_iter().filter_map(|v| Some((100.0 * p.density(v)?, Stat::of(&values(v))?))).collect()
    };
    let mut series =
        vec![line(format!("IMP, rewound to k = {}", p.late_k()), BLACK, false, imp(true)), line("IMP, rewound to k = 0".into(), GREY, false, imp(false))];
    if figure == "figure-1" {
        series.push(line("random reinit".into(), RGBColor(0xb0, 0x60, 0x20), true, at_analysed(&|v| p.reinit(v))));
    }
    for (i, &arm) in arms_of(figure).iter().enumerate() {
        series.push(line(arm.label.into(), PALETTE[i % PALETTE.len()], false, at_analysed(&|v| p.arm(arm, v))));
    }
    let min = p.density(levels).unwrap_or(0.01);
    Panel {
        title: p.net.label().into(),
        x_label: "Percent of weights remaining".into(),
        y_label: "Test accuracy (end of training)".into(),
        x: XAxis::PercentRemaining { min: 100.0 * min, max: 100.0 },
        y_range: None,
        series: series.into_iter().filter(|s| !s.points.is_empty()).collect(),
    }
}

/// Figure 3: accuracy at the claim level vs α, with rewinding to the late k and to 0 and
/// random reinitialisation as horizontal lines.
fn accuracy_vs_noise(p: &Pair) -> Panel {
    let level = p.claim_level();
    let x_max = NOISE.iter().filter_map(|a| a.noise_scale()).fold(0.0, f64::max);
    // α = 0 is rewinding to k itself (zero noise reproduces the trunk level bit for bit).
    let at_zero = Stat::of(&p.imp(true, level)).map(|s| (0.0, s));
    let points = at_zero.into_iter().chain(NOISE.iter().filter_map(|&a| Some((a.noise_scale()?, Stat::of(&p.arm(a, level))?)))).collect();
    let mut series = vec![line("IMP rewound to k, plus noise".into(), PALETTE[0], false, points)];
    for (label, values, color) in [
        (format!("IMP, rewound to k = {}", p.late_k()), p.imp(true, level), BLACK),
        ("IMP, rewound to k = 0".into(), p.imp(false, level), GREY),
        ("random reinit".into(), p.reinit(level), RGBColor(0xb0, 0x60, 0x20)),
    ] {
        if let Some(mean) = Stat::mean_of(&values) {
            series.push(Series::horizontal(&label, color, (0.0, x_max), mean));
        }
    }
    let at = p.density(level).map_or_else(String::new, |d| format!(" at {:.1} %", 100.0 * d));
    Panel {
        title: format!("{}{at}", p.net.label()),
        x_label: "Noise scale α (× each layer's initial standard deviation)".into(),
        y_label: "Test accuracy (end of training)".into(),
        x: XAxis::Linear { min: 0.0, max: x_max },
        y_range: None,
        series: series.into_iter().filter(|s| !s.points.is_empty()).collect(),
    }
}

/// Figure 4: each statistic of `early-statistics` against the iteration, mean over trials.
fn early_statistics(p: &Pair) -> Vec<Panel> {
    let statistics = |r: &&common::imp::StageRecord| matches!(r.stage.kind(), StageKind::Branch(k) if k.as_str() == BranchKind::EARLY_STATISTICS.as_str());
    let records: Vec<_> = p.k0.map(|l| l.results.records.iter().filter(|r| r.level == 0).filter(statistics).collect()).unwrap_or_default();
    let Some(first) = records.first() else { return Vec::new() };
    let iterations = first.metrics.get("statistics_iteration").cloned().unwrap_or_default();
    let x_max = iterations.last().copied().unwrap_or(1.0).max(1.0);
    [
        ("distance", "‖θ_t − θ_0‖ / ‖θ_0‖", "distance from θ_0"),
        ("sign_flips", "Fraction of weights with θ_0's sign flipped", "signs flipped"),
        ("gradient", "‖optimizer's first moment‖", "smoothed gradient"),
    ]
    .into_iter()
    .map(|(metric, y_label, what)| {
        let points = iterations
            .iter()
            .enumerate()
            .filter_map(|(i, &t)| Some((t, Stat::of(&records.iter().filter_map(|r| r.metrics.get(metric)?.get(i).copied()).collect::<Vec<_>>())?)))
            .collect();
        Panel {
            title: format!("{}: {what}", p.net.label()),
            x_label: "Iteration".into(),
            y_label: y_label.into(),
            x: XAxis::Linear { min: 0.0, max: x_max },
            y_range: None,
            series: vec![line("prunable layers, all together".into(), PALETTE[0], false, points)],
        }
    })
    .collect()
}

/// Figure 5: accuracy at the claim level vs the pretraining length P, one line per task, with
/// rewinding to the late k (supervised for k iterations) and to 0 as horizontal lines.
fn accuracy_vs_pretraining(p: &Pair) -> Panel {
    let level = p.claim_level();
    let lengths = presets::pretraining_lengths(p.net, p.scale());
    let x_max = lengths.iter().copied().max().unwrap_or(1) as f64;
    let mut series: Vec<Series> = presets::PRETEXTS
        .iter()
        .enumerate()
        .map(|(i, &pretext)| {
            let points = lengths
                .iter()
                .filter_map(|&iterations| Some((iterations as f64, Stat::of(&p.pretrained(PretrainParams { pretext, iterations }, level))?)))
                .collect();
            line(format!("pretrained on {}", pretext.label()), PALETTE[i % PALETTE.len()], false, points)
        })
        .collect();
    for (label, values, color) in
        [(format!("IMP, rewound to k = {} (supervised)", p.late_k()), p.imp(true, level), BLACK), ("IMP, rewound to k = 0".into(), p.imp(false, level), GREY)]
    {
        if let Some(mean) = Stat::mean_of(&values) {
            series.push(Series::horizontal(&label, color, (0.0, x_max), mean));
        }
    }
    let at = p.density(level).map_or_else(String::new, |d| format!(" at {:.1} %", 100.0 * d));
    Panel {
        title: format!("{}{at}", p.net.label()),
        x_label: "Pretraining iterations P (from θ_0, without the task's labels)".into(),
        y_label: "Test accuracy (end of training)".into(),
        x: XAxis::Linear { min: 0.0, max: x_max },
        y_range: None,
        series: series.into_iter().filter(|s| !s.points.is_empty()).collect(),
    }
}
