//! The paper's figures, drawn from the results files alone, and the stages each needs. Numbering
//! is ours (the paper's versions number them differently): 1, test accuracy vs % of weights
//! remaining for each rewind point k beside random reinitialisation and random pruning; 2, test
//! accuracy at the analysed sparsities vs k; 3, stability vs k — to pruning (where the
//! subnetwork trained in isolation ends against the full network, under its mask) and to data
//! order (two copies of the subnetwork from θ_k with different data orders), each as an L2
//! distance and normalised by how far the full network's surviving weights travelled from θ_k
//! (`common::stability`: the paper's normaliser is not confirmed, and a later k shortens the
//! travel, so the two forms can disagree).

use crate::presets::{self, Experiment, Loaded, Results, Variant};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, StageKind};
use common::plot::{Figure, Panel, RGBColor, Series, Spread, XAxis, PALETTE};
use harness::{FigureSpec, Readout, Scale};
use std::sync::LazyLock;

/// Every figure draws from every experiment present at the scale.
pub static FIGURES: LazyLock<[FigureSpec<Experiment>; 3]> = LazyLock::new(|| {
    let all: &'static [Experiment] = presets::ALL.as_slice();
    ["figure-1", "figure-2", "figure-3"].map(|name| FigureSpec { name, experiments: all })
});

/// Matching: within 0.2 percentage points of the dense network's test accuracy (papers.md §6).
pub const MATCHING: f64 = 0.002;

/// The controls of Figure 1, run in each variant's k = 0 experiment.
pub const CONTROLS: [(BranchKind, &str); 2] = [(BranchKind::REINIT, "random reinit"), (BranchKind::RANDOM_PRUNE, "random pruning")];

/// The scale a config or results file was made at.
pub fn scale_of(cfg: &ExperimentConfig) -> Scale {
    match cfg.scale.as_str() {
        "paper" => Scale::Paper,
        "small" => Scale::Small,
        _ => Scale::Smoke,
    }
}

/// The levels an experiment analyses at every k (its variant's at its scale).
pub fn analysed_levels(experiment: Experiment, cfg: &ExperimentConfig) -> Vec<u32> {
    experiment.variant.analysed_levels(scale_of(cfg)).iter().copied().filter(|&l| l <= cfg.levels).collect()
}

/// Whether `figure` draws stage `j` of `experiment` (the harness adds its dependencies).
pub fn needs(figure: &str, experiment: Experiment, cfg: &ExperimentConfig, j: &JobId) -> bool {
    let analysed = analysed_levels(experiment, cfg).contains(&j.level);
    match (figure, j.stage.kind()) {
        ("figure-1", StageKind::Main) => true,
        ("figure-1", StageKind::Branch(kind)) => CONTROLS.iter().any(|(k, _)| *k == kind),
        ("figure-2", StageKind::Main) => j.level == 0 || analysed,
        ("figure-3", StageKind::Main) => analysed,
        ("figure-3", StageKind::Branch(kind)) => analysed && kind.same_kind(BranchKind::SPAWN),
        _ => false,
    }
}

/// The experiments of `variant` present in the results, by k.
pub fn by_k(results: &Results, variant: Variant) -> Vec<(u64, &Loaded)> {
    let mut v: Vec<(u64, &Loaded)> = results.values().filter(|l| l.spec.id.variant == variant).map(|l| (l.config.rewind_iteration, l)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

/// Final test accuracy of every sample (replicate × copy) of `kind` at `level`.
pub fn accuracies(l: &Loaded, level: u32, kind: StageKind) -> Vec<f64> {
    l.accuracies(level, kind, Readout::Final)
}

/// Final test accuracy of the dense networks (the trunk's level 0), one per replicate.
pub fn dense(l: &Loaded) -> Option<Stat> {
    Stat::of(&accuracies(l, 0, StageKind::Main))
}

/// Stability to pruning of the trunk at `level`, per replicate: ‖θ_L − m ⊙ θ_T‖, divided by
/// ‖m ⊙ (θ_T − θ_k)‖ when `normalised`.
pub fn pruning_stability(l: &Loaded, level: u32, normalised: bool) -> Vec<f64> {
    l.records(level, StageKind::Main).filter_map(|r| r.pruning.map(|p| if normalised { p.normalised() } else { p.distance })).collect()
}

/// Stability to data order at `level`: the distance between each spawned pair's copies, divided
/// by the same full-network travel as [`pruning_stability`] when `normalised`.
pub fn data_order_stability(l: &Loaded, level: u32, normalised: bool) -> Vec<f64> {
    l.records(level, StageKind::Branch(l.branch(BranchKind::SPAWN)))
        .filter_map(|r| {
            let d = r.pair.as_ref()?.distance;
            Some(if normalised { d / r.pruning?.travel } else { d })
        })
        .collect()
}

fn caption(figure: &str, results: &Results) -> String {
    let figure = harness::figure_label(figure);
    if results.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!("{figure} (numbering ours) {}; mean over trials, bars = min..max.", harness::provenance_clause(results.values()))];
    for variant in Variant::ALL {
        let runs = by_k(results, variant);
        if let Some((_, l)) = runs.first() {
            let ks: Vec<String> = runs.iter().map(|(k, _)| k.to_string()).collect();
            lines.push(format!(
                "{}: {}, {} it, global pruning 20 %/level to {:.1} %, k = {}",
                variant.label(),
                harness::trials(l.config.replicates),
                l.config.train.iterations,
                100.0 * l.density(l.config.levels).unwrap_or(f64::NAN),
                ks.join(", ")
            ));
            lines.push(format!("    {}", l.dataset_line));
        }
    }
    lines.join("\n")
}

const GREY: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);

fn line(label: String, color: RGBColor, dashed: bool, points: Vec<(f64, Stat)>) -> Series {
    Series { label, color, dashed, spread: if dashed { Spread::None } else { Spread::ErrorBars }, points }
}

fn panel(title: String, x_label: &str, y_label: &str, x: XAxis, series: Vec<Series>) -> Panel {
    Panel { title, x_label: x_label.into(), y_label: y_label.into(), x, y_range: None, series: series.into_iter().filter(|s| !s.points.is_empty()).collect() }
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let variants: Vec<Variant> = Variant::ALL.into_iter().filter(|v| !by_k(results, *v).is_empty()).collect();
    let panels: Vec<Panel> = match figure {
        "figure-1" => variants.iter().map(|&v| accuracy_vs_sparsity(results, v)).collect(),
        "figure-2" => variants.iter().map(|&v| accuracy_vs_k(results, v)).collect(),
        "figure-3" => variants
            .iter()
            .flat_map(|&v| {
                [(false, false), (true, false), (false, true), (true, true)].map(|(data_order, normalised)| stability_vs_k(results, v, data_order, normalised))
            })
            .collect(),
        other => bail!("no figure `{other}`"),
    };
    let title = match figure {
        "figure-1" => "Figure 1: IMP rewound to iteration k — test accuracy vs. weights remaining",
        "figure-2" => "Figure 2: test accuracy at fixed sparsities vs. rewind iteration k",
        _ => "Figure 3: stability to pruning and to data order vs. rewind iteration k",
    };
    if panels.is_empty() {
        bail!("{figure}: no network has results at this scale");
    }
    let columns = if figure == "figure-3" { 2 } else { panels.len().min(2) };
    let panel_size = if panels.len() == 1 { (1100, 520) } else { (640, 440) };
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results), panels, columns, panel_size })
}

/// Figure 1: IMP for every k, and the two controls, vs % of weights remaining.
fn accuracy_vs_sparsity(results: &Results, v: Variant) -> Panel {
    let runs = by_k(results, v);
    let curve = |l: &Loaded, kind: StageKind| -> Vec<(f64, Stat)> {
        (0..=l.config.levels)
            .filter_map(|level| Some((100.0 * l.density(level)?, Stat::of(&accuracies(l, level, if level == 0 { StageKind::Main } else { kind }))?)))
            .collect()
    };
    let mut series: Vec<Series> =
        runs.iter().enumerate().map(|(i, (k, l))| line(format!("IMP, k = {k}"), PALETTE[i % PALETTE.len()], false, curve(l, StageKind::Main))).collect();
    if let Some((0, l0)) = runs.first() {
        for (i, (kind, label)) in CONTROLS.iter().enumerate() {
            series.push(line(
                (*label).into(),
                [GREY, RGBColor(0xb0, 0x60, 0x20)][i],
                true,
                curve(l0, StageKind::Branch(*kind)).into_iter().filter(|(x, _)| *x < 100.0).collect(),
            ));
        }
    }
    let min = runs.iter().filter_map(|(_, l)| l.density(l.config.levels)).fold(1.0, f64::min);
    panel(v.label(), "Percent of weights remaining", "Test accuracy (end of training)", XAxis::PercentRemaining { min: 100.0 * min, max: 100.0 }, series)
}

fn k_axis(runs: &[(u64, &Loaded)]) -> XAxis {
    XAxis::Linear { min: 0.0, max: runs.iter().map(|(k, _)| *k).max().unwrap_or(1).max(1) as f64 }
}

/// The analysed levels of a variant (its first experiment's).
fn analysed(runs: &[(u64, &Loaded)]) -> Vec<u32> {
    runs.first().map(|(_, l)| analysed_levels(l.spec.id, &l.config)).unwrap_or_default()
}

/// Figure 2: accuracy vs k at each analysed sparsity, with the dense network's accuracy.
fn accuracy_vs_k(results: &Results, v: Variant) -> Panel {
    let runs = by_k(results, v);
    let x_max = runs.iter().map(|(k, _)| *k).max().unwrap_or(1) as f64;
    let mut series: Vec<Series> = analysed(&runs)
        .into_iter()
        .enumerate()
        .map(|(i, level)| {
            let points = runs.iter().filter_map(|(k, l)| Some((*k as f64, Stat::of(&accuracies(l, level, StageKind::Main))?))).collect();
            let at = runs.first().and_then(|(_, l)| l.density(level)).unwrap_or(f64::NAN);
            line(format!("{:.1} % remaining", 100.0 * at), PALETTE[i % PALETTE.len()], false, points)
        })
        .collect();
    if let Some(d) = runs.first().and_then(|(_, l)| dense(l)) {
        series.push(Series::horizontal("dense", GREY, (0.0, x_max), d.mean));
        series.push(Series::horizontal("dense − 0.2 pp (matching above)", PALETTE[3], (0.0, x_max), d.mean - MATCHING));
    }
    panel(v.label(), "Rewind iteration k", "Test accuracy (end of training)", k_axis(&runs), series)
}

/// Figure 3: distance vs k at each analysed sparsity — to the full network (`data_order`
/// false) or between two data orders; L2, or over the full network's travel (`normalised`).
fn stability_vs_k(results: &Results, v: Variant, data_order: bool, normalised: bool) -> Panel {
    let runs = by_k(results, v);
    let series = analysed(&runs)
        .into_iter()
        .enumerate()
        .map(|(i, level)| {
            let points = runs
                .iter()
                .filter_map(|(k, l)| {
                    let values = if data_order { data_order_stability(l, level, normalised) } else { pruning_stability(l, level, normalised) };
                    Some((*k as f64, Stat::of(&values)?))
                })
                .collect();
            let at = runs.first().and_then(|(_, l)| l.density(level)).unwrap_or(f64::NAN);
            line(format!("{:.1} % remaining", 100.0 * at), PALETTE[i % PALETTE.len()], false, points)
        })
        .collect();
    let (what, distance) = if data_order { ("data order", "‖copy₁ − copy₂‖") } else { ("pruning", "‖subnetwork − m⊙full‖") };
    let (title, y) = if normalised {
        (format!("{}: stability to {what}, normalised", v.label()), format!("{distance} / ‖m⊙(full_T − θ_k)‖"))
    } else {
        (format!("{}: stability to {what}, L2", v.label()), format!("{distance} (L2)"))
    };
    panel(title, "Rewind iteration k", &y, k_axis(&runs), series)
}
