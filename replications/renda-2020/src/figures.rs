//! One-shot and iterative retraining comparisons, drawn from the results files alone. The
//! figure numbers are ours: figure-1 is the paper's one-shot "epoch for epoch" comparison
//! (accuracy change vs retraining budget t, per method, at each compression ratio), figure-2 its
//! iterative comparison (accuracy change vs compression, per method).

use crate::presets::{self, Loaded, Net, Results, Setting, ITERATIVE, METHODS};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig, Retrain};
use common::imp::{JobId, Stage};
use common::plot::{Figure, Panel, RGBColor, Series, Spread, XAxis, PALETTE};
use common::train::EvalLog;
use harness::FigureSpec;
use harness::Readout;
use std::sync::LazyLock;

pub static FIGURES: LazyLock<[FigureSpec<Setting>; 2]> = LazyLock::new(|| {
    let all: &'static [Setting] = presets::ALL.as_slice();
    ["figure-1", "figure-2"].map(|name| FigureSpec { name, experiments: all })
});

/// Whether `figure` draws stage `j` of `experiment`.
pub fn needs(figure: &str, setting: Setting, cfg: &ExperimentConfig, j: &JobId) -> bool {
    match figure {
        "figure-1" => j.stage == Stage::Branch(BranchKind::ONESHOT, 0),
        "figure-2" => setting.iterative(&cfg.scale) && j.stage == Stage::Main,
        _ => false,
    }
}

/// Test accuracy of a run as the paper selects it (papers.md §3.3, "at the best-validation
/// retraining time"): at the evaluation with the highest validation accuracy, the first on ties.
pub fn selected_accuracy(log: &EvalLog) -> Option<f64> {
    Readout::BestValidation.test_accuracy(log)
}

/// Test accuracy of `stage` at `level` minus the dense network's, per replicate, each at its
/// run's best-validation evaluation.
pub fn deltas(l: &Loaded, level: u32, stage: Stage) -> Vec<f64> {
    let acc = |level: u32, stage: Stage, r: u32| {
        l.results.records.iter().find(|x| x.replicate == r && x.level == level && x.stage == stage).and_then(|x| selected_accuracy(&x.outcome.log))
    };
    (0..l.config.replicates).filter_map(|r| Some(acc(level, stage, r)? - acc(0, Stage::Main, r)?)).collect()
}

/// Density of `level` as stored (the same in every replicate).
pub fn density(l: &Loaded, level: u32, stage: Stage) -> Option<f64> {
    l.results.records.iter().find(|x| x.level == level && x.stage == stage).map(|x| x.density)
}

/// The loaded experiment of `setting`, if present.
pub fn get(results: &Results, setting: Setting) -> Option<&Loaded> {
    results.get(setting.name().as_str())
}

fn method_color(m: Retrain) -> RGBColor {
    PALETTE[METHODS.iter().position(|x| x.0 == m).unwrap_or(0) % PALETTE.len()]
}

fn method_label(m: Retrain) -> &'static str {
    METHODS.iter().find(|x| x.0 == m).map(|x| x.2).unwrap_or("")
}

fn zero_line(x: (f64, f64)) -> Series {
    Series::horizontal("dense network", RGBColor(0x7f, 0x7f, 0x7f), x, 0.0)
}

fn pp(values: &[f64]) -> Option<Stat> {
    Stat::of(&values.iter().map(|v| 100.0 * v).collect::<Vec<_>>())
}

fn caption(figure: &str, results: &Results) -> String {
    let figure = harness::figure_label(figure);
    if results.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!(
        "{figure} (our numbering) {}; test accuracy at each run's best-validation evaluation, mean over trials, bars = min..max.",
        harness::provenance_clause(results.values())
    )];
    for net in Net::ALL {
        if let Some(l) = results.values().find(|l| l.spec.id.net == net) {
            lines.push(format!("{}: {}, T = {} it, {}", net.label(), harness::trials(l.config.replicates), l.config.train.iterations, l.dataset_line));
        }
    }
    lines.join("\n")
}

fn nets_present(results: &Results) -> Vec<Net> {
    Net::ALL.into_iter().filter(|n| results.values().any(|l| l.spec.id.net == *n)).collect()
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let panels: Vec<Panel> = match figure {
        "figure-1" => nets_present(results).into_iter().flat_map(|n| oneshot_panels(results, n)).collect(),
        "figure-2" => nets_present(results).into_iter().filter_map(|n| iterative_panel(results, n)).collect(),
        other => bail!("no figure `{other}`"),
    };
    if panels.is_empty() {
        bail!("{figure}: no network has the stages it draws at this scale");
    }
    let title = if figure == "figure-1" {
        "One-shot pruning: accuracy change vs. retraining budget t, per method (epoch for epoch)"
    } else {
        "Iterative pruning (20 % per round): accuracy change vs. compression, per method"
    };
    let columns = panels.len().min(3);
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results), panels, columns, panel_size: (600, 440) })
}

/// The one-shot compression levels of `net`'s experiments.
fn oneshot_levels(results: &Results, net: Net) -> Vec<u32> {
    results
        .values()
        .filter(|l| l.spec.id.net == net)
        .flat_map(|l| l.config.branches.iter().filter(|b| b.kind == BranchKind::ONESHOT).flat_map(|b| b.levels.clone()))
        .collect::<std::collections::BTreeSet<u32>>()
        .into_iter()
        .collect()
}

/// Δ accuracy vs t (% of T) of `method`'s one-shot branch at `level`, and the level's density.
fn oneshot_curve(results: &Results, net: Net, method: Retrain, level: u32) -> (Vec<(f64, Stat)>, Option<f64>) {
    let oneshot = Stage::Branch(BranchKind::ONESHOT, 0);
    let mut at = None;
    let points = presets::BUDGETS
        .iter()
        .filter_map(|&budget| {
            let l = get(results, Setting { net, method, budget })?;
            at = at.or(density(l, level, oneshot));
            pp(&deltas(l, level, oneshot)).map(|s| (budget as f64, s))
        })
        .collect();
    (points, at)
}

fn budget_panel(title: String, mut series: Vec<Series>) -> Panel {
    series.push(zero_line((25.0, 100.0)));
    Panel {
        title,
        x_label: "Retraining budget t (% of T)".into(),
        y_label: "Test accuracy change (pp)".into(),
        x: XAxis::Linear { min: 20.0, max: 105.0 },
        y_range: None,
        series,
    }
}

/// One panel per one-shot compression level: Δ accuracy vs t (% of T) for each method but
/// reinitialise-and-train, then one panel of that ablation at every level (it loses tens of
/// points at small budgets, which would flatten the others).
fn oneshot_panels(results: &Results, net: Net) -> Vec<Panel> {
    let levels = oneshot_levels(results, net);
    let mut panels: Vec<Panel> = levels
        .iter()
        .filter_map(|&level| {
            let mut density = None;
            let series: Vec<Series> = METHODS
                .iter()
                .filter(|m| m.0 != Retrain::Reinit)
                .filter_map(|&(method, ..)| {
                    let (points, at) = oneshot_curve(results, net, method, level);
                    density = density.or(at);
                    (!points.is_empty()).then(|| Series {
                        label: method_label(method).into(),
                        color: method_color(method),
                        dashed: false,
                        spread: Spread::ErrorBars,
                        points,
                    })
                })
                .collect();
            let density = density?;
            Some(budget_panel(format!("{}, one-shot to {:.2}× ({:.1} % remaining)", net.label(), 1.0 / density, 100.0 * density), series))
        })
        .collect();
    let reinit: Vec<Series> = levels
        .iter()
        .enumerate()
        .filter_map(|(i, &level)| {
            let (points, at) = oneshot_curve(results, net, Retrain::Reinit, level);
            let at = at?;
            Some(Series { label: format!("{:.2}×", 1.0 / at), color: PALETTE[(i + 5) % PALETTE.len()], dashed: false, spread: Spread::ErrorBars, points })
        })
        .collect();
    if !reinit.is_empty() {
        panels.push(budget_panel(format!("{}, {} (one-shot)", net.label(), method_label(Retrain::Reinit)), reinit));
    }
    panels
}

/// Δ accuracy vs weights remaining for the paper's iterative methods.
fn iterative_panel(results: &Results, net: Net) -> Option<Panel> {
    let mut min_density: f64 = 100.0;
    let mut series: Vec<Series> = ITERATIVE
        .iter()
        .filter_map(|&(method, budget)| {
            let l = get(results, Setting { net, method, budget })?;
            let points: Vec<(f64, Stat)> = (1..=l.config.levels)
                .filter_map(|level| {
                    let d = 100.0 * density(l, level, Stage::Main)?;
                    min_density = min_density.min(d);
                    pp(&deltas(l, level, Stage::Main)).map(|s| (d, s))
                })
                .collect();
            let label = format!("{} (t = {} % of T)", method_label(method), budget);
            (!points.is_empty()).then(|| Series { label, color: method_color(method), dashed: false, spread: Spread::ErrorBars, points })
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    series.push(zero_line((100.0, min_density)));
    Some(Panel {
        title: format!("{}, iterative pruning", net.label()),
        x_label: "Percent of weights remaining".into(),
        y_label: "Test accuracy change (pp)".into(),
        x: XAxis::PercentRemaining { min: (0.8 * min_density).max(0.01), max: 110.0 },
        y_range: None,
        series,
    })
}
