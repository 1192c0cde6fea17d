//! The paper's figures, drawn from the results files alone, and the stages each needs. Numbers
//! follow the NeurIPS version as we read it: 2, test accuracy vs % of weights remaining per
//! mask criterion; 3, per value given to the survivors (with and without their original sign);
//! 4, per treatment of the pruned weights; 5, untrained supermasks (each criterion's masks on
//! the initial weights, and on signed constants) vs % remaining; 6 (ours: the paper gives a
//! table), learned supermasks' test accuracy during mask training beside the trained dense
//! network. Accuracies of trained networks are read at early stop (minimum validation loss),
//! as Frankle & Carbin and the authors do.

use crate::presets::{self, Ablation, Experiment, Loaded, Net, Results, LOTTERY};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, StageKind, StageRecord};
use common::plot::{Figure, Panel, Series, Spread, XAxis, TAB10};
use harness::FigureSpec;
use harness::Readout;
use std::sync::LazyLock;

/// Which experiments a figure draws: the lottery ticket and the ablations of one kind.
fn draws(figure: &str, a: Ablation) -> bool {
    match figure {
        "figure-2" | "figure-5" => matches!(a, Ablation::Criterion(_)),
        "figure-3" => a == LOTTERY || matches!(a, Ablation::Kept(_)),
        "figure-4" => a == LOTTERY || matches!(a, Ablation::Pruned(_)),
        "figure-6" => a == LOTTERY,
        _ => false,
    }
}

pub static FIGURES: LazyLock<Vec<FigureSpec<Experiment>>> = LazyLock::new(|| {
    ["figure-2", "figure-3", "figure-4", "figure-5", "figure-6"]
        .into_iter()
        .map(|name| {
            let experiments: Vec<Experiment> = presets::EXPERIMENTS.iter().map(|e| e.id).filter(|e| draws(name, e.ablation)).collect();
            FigureSpec { name, experiments: Box::leak(experiments.into_boxed_slice()) }
        })
        .collect()
});

/// Whether `figure` draws stage `j` of `experiment` (the harness adds its dependencies).
pub fn needs(figure: &str, _experiment: Experiment, _cfg: &ExperimentConfig, j: &JobId) -> bool {
    match (figure, j.stage.kind()) {
        ("figure-2" | "figure-3" | "figure-4", StageKind::Main) => true,
        ("figure-5", StageKind::Branch(kind)) => matches!(kind, BranchKind::UNTRAINED | BranchKind::UNTRAINED_SIGNED_CONSTANT),
        ("figure-6", StageKind::Branch(kind)) => kind.same_kind(BranchKind::LEARNED_SUPERMASK),
        ("figure-6", StageKind::Main) => j.level == 0,
        _ => false,
    }
}

/// Test accuracy at early stop of every sample of the trunk at `level`.
pub fn trained_accuracy(l: &Loaded, level: u32) -> Vec<f64> {
    l.accuracies(level, StageKind::Main, Readout::EarlyStop)
}

/// Test accuracy of the untrained masks of `kind` at `level`.
pub fn untrained_accuracy(l: &Loaded, level: u32, kind: BranchKind) -> Vec<f64> {
    l.accuracies(level, StageKind::Branch(kind), Readout::First)
}

/// Final test accuracy of the learned supermasks (sampled masks), per sample.
pub fn learned_supermask_accuracy(l: &Loaded) -> Vec<f64> {
    l.accuracies(0, StageKind::Branch(l.branch(BranchKind::LEARNED_SUPERMASK)), Readout::Final)
}

/// The experiments of `net` that `figure` draws, in the paper's order.
pub fn of<'a>(results: &'a Results, net: Net, figure: &str) -> Vec<(Ablation, &'a Loaded)> {
    let mut v: Vec<(Ablation, &Loaded)> =
        results.values().filter(|l| l.spec.id.net == net && draws(figure, l.spec.id.ablation)).map(|l| (l.spec.id.ablation, l)).collect();
    let order = |a: &Ablation| presets::EXPERIMENTS.iter().position(|e| e.id.ablation == *a);
    v.sort_by_key(|(a, _)| order(a));
    v
}

fn nets(results: &Results, figure: &str) -> Vec<Net> {
    Net::ALL.into_iter().filter(|n| !of(results, *n, figure).is_empty()).collect()
}

fn caption(figure: &str, results: &Results) -> String {
    let drawn: Vec<&Loaded> = Net::ALL.into_iter().flat_map(|n| of(results, n, figure)).map(|(_, l)| l).collect();
    if drawn.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!(
        "{} {}; trained: accuracy at early stop; mean over trials, bars = min..max.",
        harness::figure_label(figure),
        harness::provenance_clause(drawn)
    )];
    for net in Net::ALL {
        if let Some((_, l)) = of(results, net, figure).first() {
            lines.push(format!("{}: {}, {} it, {} rounds", net.label(), harness::trials(l.config.replicates), l.config.train.iterations, l.config.levels));
            lines.push(format!("    {}", l.dataset_line));
        }
    }
    lines.join("\n")
}

/// The colour index of `a` in `figure`: its place among the figure's ablations, so that an
/// ablation keeps its colour in every network's panel.
fn colour(figure: &str, a: Ablation) -> usize {
    presets::EXPERIMENTS.iter().map(|e| e.id).filter(|e| e.net == Net::Lenet && draws(figure, e.ablation)).position(|e| e.ablation == a).unwrap_or(0)
}

fn series(label: String, i: usize, dashed: bool, points: Vec<(f64, Stat)>) -> Series {
    Series { label, color: TAB10[i % TAB10.len()], dashed, spread: if dashed { Spread::None } else { Spread::ErrorBars }, points }
}

fn sparsity_panel(title: String, y_label: &str, lines: Vec<Series>) -> Panel {
    let min = lines.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(100.0, f64::min);
    Panel {
        title,
        x_label: "Percent of weights remaining".into(),
        y_label: y_label.into(),
        x: XAxis::PercentRemaining { min: min.max(0.01), max: 100.0 },
        y_range: None,
        series: lines.into_iter().filter(|s| !s.points.is_empty()).collect(),
    }
}

/// Trained accuracy vs % remaining, one line per experiment of the figure.
fn trained_panel(results: &Results, net: Net, figure: &str, title: &str) -> Panel {
    let lines = of(results, net, figure)
        .into_iter()
        .map(|(a, l)| {
            let points = (0..=l.config.levels).filter_map(|level| Some((100.0 * l.density(level)?, Stat::of(&trained_accuracy(l, level))?))).collect();
            series(a.label(), colour(figure, a), a == LOTTERY && figure != "figure-2", points)
        })
        .collect();
    sparsity_panel(format!("{}: {title}", net.label()), "Test accuracy at early stop", lines)
}

/// Untrained accuracy vs % remaining per criterion, on the initial weights or signed constants.
fn untrained_panel(results: &Results, net: Net, kind: BranchKind) -> Panel {
    let lines = of(results, net, "figure-5")
        .into_iter()
        .map(|(a, l)| {
            let points = (1..=l.config.levels).filter_map(|level| Some((100.0 * l.density(level)?, Stat::of(&untrained_accuracy(l, level, kind))?))).collect();
            series(a.label(), colour("figure-5", a), false, points)
        })
        .collect();
    let on = if kind == BranchKind::UNTRAINED { "initial weights" } else { "signed constants" };
    sparsity_panel(format!("{}: untrained supermask on {on}", net.label()), "Test accuracy, no training", lines)
}

/// The learned supermask's test accuracy over mask training, with the dense network's.
fn learned_panel(results: &Results, net: Net) -> Option<Panel> {
    let (_, l) = of(results, net, "figure-6").into_iter().next()?;
    let runs: Vec<&StageRecord> = l.records(0, StageKind::Branch(l.branch(BranchKind::LEARNED_SUPERMASK))).collect();
    let n = runs.iter().map(|r| r.outcome.log.iteration.len()).min()?;
    let points: Vec<(f64, Stat)> = (0..n)
        .filter_map(|i| Some((runs[0].outcome.log.iteration[i] as f64, Stat::of(&runs.iter().map(|r| r.outcome.log.test_acc()[i]).collect::<Vec<_>>())?)))
        .collect();
    let x_max = points.last()?.0.max(1.0);
    let mut lines = vec![series("learned supermask (weights never trained)".into(), 0, false, points)];
    if let Some(dense) = Stat::of(&trained_accuracy(l, 0)) {
        lines.push(Series::horizontal("trained dense network", TAB10[7], (0.0, x_max), dense.mean));
    }
    Some(Panel {
        title: format!("{}: learned supermask", net.label()),
        x_label: "Mask training step".into(),
        y_label: "Test accuracy".into(),
        x: XAxis::Linear { min: 0.0, max: x_max },
        y_range: None,
        series: lines,
    })
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let nets = nets(results, figure);
    let panels: Vec<Panel> = match figure {
        "figure-2" => nets.iter().map(|&n| trained_panel(results, n, figure, "mask criteria")).collect(),
        "figure-3" => nets.iter().map(|&n| trained_panel(results, n, figure, "values of the kept weights")).collect(),
        "figure-4" => nets.iter().map(|&n| trained_panel(results, n, figure, "treatment of the pruned weights")).collect(),
        "figure-5" => {
            nets.iter().flat_map(|&n| [BranchKind::UNTRAINED, BranchKind::UNTRAINED_SIGNED_CONSTANT].map(|k| untrained_panel(results, n, k))).collect()
        }
        "figure-6" => nets.iter().filter_map(|&n| learned_panel(results, n)).collect(),
        other => bail!("no figure `{other}`"),
    };
    if panels.is_empty() {
        bail!("{figure}: no network has the stages it draws at this scale");
    }
    let title = match figure {
        "figure-2" => "Figure 2: mask criteria — which weights to keep",
        "figure-3" => "Figure 3: values given to the kept weights (signed_*: original sign kept)",
        "figure-4" => "Figure 4: treatments of the pruned weights",
        "figure-5" => "Figure 5: untrained supermasks",
        _ => "Figure 6 (the paper's table): learned supermasks beside the trained dense network",
    };
    let columns = if figure == "figure-5" { 2 } else { panels.len().min(2) };
    let panel_size = if panels.len() == 1 { (1100, 560) } else { (700, 480) };
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results), panels, columns, panel_size })
}
