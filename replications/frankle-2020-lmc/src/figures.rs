//! The paper's instability figures, drawn from the results files alone, and the stages each
//! needs. Figure numbers follow the ICML 2020 version as we read it: 2 (error along the path),
//! 3 (instability of the dense networks vs k), 5 (instability of IMP subnetworks vs k beside
//! random pruning and random reinitialisation), 6 (their test accuracy vs k).

use crate::presets::{self, Experiment, Loaded, Results, Variant};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind};
use common::interpolate::PairRecord;
use common::plot::{Figure, Panel, RGBColor, Series, Spread, XAxis, PALETTE};
use harness::FigureSpec;
use harness::Readout;
use std::sync::LazyLock;

/// Each figure has one panel (or two) per variant present, from every experiment.
pub static FIGURES: LazyLock<[FigureSpec<Experiment>; 4]> = LazyLock::new(|| {
    let all: &'static [Experiment] = presets::ALL.as_slice();
    ["figure-2", "figure-3", "figure-5", "figure-6"].map(|name| FigureSpec { name, experiments: all })
});

/// The paper's thresholds: stable when the test-error barrier is below 2 %; matching when test
/// accuracy is within 0.2 percentage points of the dense network's.
pub const STABLE: f64 = 0.02;
pub const MATCHING: f64 = 0.002;

/// The sparse kinds of Figures 5 and 6: IMP (spawned copies of the level's mask and θ_k), random
/// pruning, random reinitialisation.
pub const SPARSE_KINDS: [(BranchKind, &str); 3] =
    [(BranchKind::SPAWN, "IMP"), (BranchKind::SPAWN_RANDOM_PRUNE, "random pruning"), (BranchKind::SPAWN_REINIT, "random reinit")];

/// Whether `figure` draws stage `j` of `experiment`.
pub fn needs(figure: &str, experiment: Experiment, cfg: &ExperimentConfig, j: &JobId) -> bool {
    let variant = experiment.variant;
    let dense_pair = j.level == 0 && j.stage.kind().is(BranchKind::SPAWN);
    let sparse = j.level == cfg.levels && j.level > 0 && variant.sparse_at(&cfg.scale);
    let sparse_pair = sparse && SPARSE_KINDS.iter().any(|(k, _)| j.stage.kind().is(*k));
    match figure {
        "figure-2" | "figure-3" => dense_pair,
        "figure-5" => sparse_pair,
        // Accuracy vs k: the sparse copies and the dense network it is compared with.
        "figure-6" => sparse_pair || (sparse && j.stage == Stage::Main) || (j.level == 0 && j.stage == Stage::Main && variant.sparse_at(&cfg.scale)),
        _ => false,
    }
}

/// The compared pairs of `kind` at `level`.
pub fn pairs(l: &Loaded, level: u32, kind: BranchKind) -> Vec<&PairRecord> {
    l.records(level, StageKind::Branch(l.branch(kind))).filter_map(|r| r.pair.as_ref()).collect()
}

/// Final test accuracy of every copy of `kind` at `level`.
pub fn accuracies(l: &Loaded, level: u32, kind: BranchKind) -> Vec<f64> {
    l.accuracies(level, StageKind::Branch(l.branch(kind)), Readout::Final)
}

/// Final test accuracy of the dense network (the trunk's level 0).
pub fn dense_accuracy(l: &Loaded) -> Option<f64> {
    l.accuracies(0, StageKind::Main, Readout::Final).first().copied()
}

/// The experiments of `variant` present in the results, by k.
pub fn by_k(results: &Results, variant: Variant) -> Vec<(u64, &Loaded)> {
    let mut v: Vec<(u64, &Loaded)> = results.values().filter(|l| l.spec.id.variant == variant).map(|l| (l.config.rewind_iteration, l)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

fn caption(figure: &str, results: &Results) -> String {
    let figure = harness::figure_label(figure);
    if results.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!("{figure} {}; mean over pairs, bars = min..max.", harness::provenance_clause(results.values()))];
    for variant in Variant::ALL {
        if let Some((_, l)) = by_k(results, variant).first() {
            let spawn = l.config.branches.iter().find(|b| b.kind.same_kind(BranchKind::SPAWN)).map_or(0, |b| b.copies / 2);
            let pair = l.results.records.iter().find_map(|r| r.pair.as_ref());
            let (points, train_examples) = pair.map_or((0, 0), |p| (p.test.len(), p.train_examples));
            lines.push(format!(
                "{}: {} × {spawn} pair(s), {} it, {} path points (train error on {train_examples} examples)",
                variant.label(),
                harness::trials(l.config.replicates),
                l.config.train.iterations,
                points,
            ));
            lines.push(format!("    {}", l.dataset_line));
        }
    }
    lines.join("\n")
}

const GREY: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);

fn k_axis(ks: &[u64]) -> XAxis {
    XAxis::Linear { min: 0.0, max: ks.iter().copied().max().unwrap_or(1).max(1) as f64 }
}

fn panel(title: String, x_label: &str, y_label: &str, x: XAxis, series: Vec<Series>) -> Panel {
    Panel { title, x_label: x_label.into(), y_label: y_label.into(), x, y_range: None, series: series.into_iter().filter(|s| !s.points.is_empty()).collect() }
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let nets: Vec<Variant> = Variant::ALL.into_iter().filter(|v| !by_k(results, *v).is_empty()).collect();
    let panels: Vec<Panel> = match figure {
        "figure-2" => nets.iter().flat_map(|&n| [false, true].map(|train| path_panel(results, n, train))).collect(),
        "figure-3" => nets.iter().map(|&n| dense_instability_panel(results, n)).collect(),
        "figure-5" => nets.iter().filter_map(|&n| sparse_panel(results, n, false)).collect(),
        "figure-6" => nets.iter().filter_map(|&n| sparse_panel(results, n, true)).collect(),
        other => bail!("no figure `{other}`"),
    };
    let title = match figure {
        "figure-2" => "Figure 2: error along the line between two copies trained from step k",
        "figure-3" => "Figure 3: instability of the full networks vs. spawn step k",
        "figure-5" => "Figure 5: instability of sparse subnetworks vs. rewind step k",
        _ => "Figure 6: test accuracy of sparse subnetworks vs. rewind step k",
    };
    if panels.is_empty() {
        bail!("{figure}: no network has the stages it draws at this scale");
    }
    let columns = if figure == "figure-2" { 2 } else { panels.len().min(2) };
    // One panel alone is drawn wider, so that the title and caption fit.
    let panel_size = if panels.len() == 1 { (1100, 520) } else { (640, 440) };
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results), panels, columns, panel_size })
}

/// Test (or train) error vs α, one line per k.
fn path_panel(results: &Results, net: Variant, train: bool) -> Panel {
    let series = by_k(results, net)
        .into_iter()
        .enumerate()
        .map(|(i, (k, l))| {
            let paths: Vec<&Vec<common::interpolate::PathPoint>> =
                pairs(l, 0, BranchKind::SPAWN).into_iter().map(|p| if train { &p.train } else { &p.test }).collect();
            let n = paths.iter().map(|p| p.len()).min().unwrap_or(0);
            let points = (0..n).filter_map(|j| Stat::of(&paths.iter().map(|p| p[j].error).collect::<Vec<_>>()).map(|s| (paths[0][j].alpha, s))).collect();
            Series { label: format!("k = {k}"), color: PALETTE[i % PALETTE.len()], dashed: false, spread: Spread::ErrorBars, points }
        })
        .collect();
    let split = if train { "Train" } else { "Test" };
    panel(
        format!("{}: {} error along the path", net.label(), split.to_lowercase()),
        "Interpolation α",
        &format!("{split} error"),
        XAxis::Linear { min: 0.0, max: 1.0 },
        series,
    )
}

/// Instability (test and train) of the dense network vs k, with the 2 % line.
fn dense_instability_panel(results: &Results, net: Variant) -> Panel {
    let runs = by_k(results, net);
    let ks: Vec<u64> = runs.iter().map(|(k, _)| *k).collect();
    let line = |f: fn(&PairRecord) -> f64| -> Vec<(f64, Stat)> {
        runs.iter().filter_map(|(k, l)| Stat::of(&pairs(l, 0, BranchKind::SPAWN).into_iter().map(f).collect::<Vec<_>>()).map(|s| (*k as f64, s))).collect()
    };
    let x_max = ks.iter().copied().max().unwrap_or(1) as f64;
    let series = vec![
        Series { label: "test".into(), color: PALETTE[0], dashed: false, spread: Spread::ErrorBars, points: line(PairRecord::test_instability) },
        Series { label: "train".into(), color: PALETTE[1], dashed: false, spread: Spread::ErrorBars, points: line(PairRecord::train_instability) },
        Series::horizontal("2 % (stable below)", GREY, (0.0, x_max), STABLE),
    ];
    panel(format!("{} (dense)", net.label()), "Spawn step k (iterations)", "Instability (error barrier)", k_axis(&ks), series)
}

/// Figure 5 (`accuracy` false: test instability) or Figure 6 (final test accuracy) of the sparse
/// subnetworks vs k; `None` when the network has no sparse stages at this scale.
fn sparse_panel(results: &Results, net: Variant, accuracy: bool) -> Option<Panel> {
    let runs: Vec<(u64, &Loaded)> = by_k(results, net).into_iter().filter(|(_, l)| net.sparse_at(&l.config.scale)).collect();
    let (_, first) = runs.first()?;
    let level = first.config.levels;
    let density = first.results.records.iter().find(|r| r.level == level && r.stage.kind().is(BranchKind::SPAWN))?.density;
    let ks: Vec<u64> = runs.iter().map(|(k, _)| *k).collect();
    let x_max = ks.iter().copied().max().unwrap_or(1) as f64;
    let mut series: Vec<Series> = SPARSE_KINDS
        .iter()
        .enumerate()
        .map(|(i, (kind, label))| {
            let points = runs
                .iter()
                .filter_map(|(k, l)| {
                    let values =
                        if accuracy { accuracies(l, level, *kind) } else { pairs(l, level, *kind).into_iter().map(PairRecord::test_instability).collect() };
                    Stat::of(&values).map(|s| (*k as f64, s))
                })
                .collect();
            Series { label: (*label).into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points }
        })
        .collect();
    if accuracy {
        if let Some(dense) = dense_accuracy(first) {
            series.push(Series::horizontal("dense", GREY, (0.0, x_max), dense));
            series.push(Series::horizontal("dense − 0.2 pp (matching above)", PALETTE[3], (0.0, x_max), dense - MATCHING));
        }
    } else {
        series.push(Series::horizontal("2 % (stable below)", GREY, (0.0, x_max), STABLE));
    }
    let y = if accuracy { "Test accuracy (end of training)" } else { "Test instability (error barrier)" };
    Some(panel(format!("{} at {:.1} % of weights remaining", net.label(), 100.0 * density), "Rewind step k (iterations)", y, k_axis(&ks), series))
}
