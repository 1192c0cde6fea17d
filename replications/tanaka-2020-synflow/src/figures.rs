//! The paper's figures, drawn from the results files alone, and the stages each needs:
//! layer collapse at initialisation (their Fig. 2, with Fig. 1's critical compressions), which
//! layers each pruner empties, conservation of synaptic saliency (Figs. 3–4), and accuracy vs
//! compression (Fig. 6).

use crate::presets::{branch_kind, log10_compression, Loaded, Net, Results, PRUNERS};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind, StageRecord};
use common::plot::{Figure, Panel, Series, Spread, XAxis, PALETTE};
use common::prune::LayerDensity;
use common::pruners::PrunerName;
use harness::{FigureSpec, Readout};

pub static FIGURES: [FigureSpec<Net>; 4] = [
    FigureSpec { name: "figure-2", experiments: &Net::MASKED },
    FigureSpec { name: "figure-2-layers", experiments: &[Net::Vgg16, Net::Vgg19] },
    FigureSpec { name: "figure-3", experiments: &Net::MASKED },
    FigureSpec { name: "figure-6", experiments: &Net::TRAINED },
];

/// The compression at which `figure-2-layers` shows each layer's density (ρ = 10^3, where the
/// paper reads which layer each pruner empties).
pub const LAYERS_LEVEL: u32 = 12;

/// Whether `figure` draws stage `j` (the figure's experiments only; the harness checks that).
pub fn needs(figure: &str, _experiment: Net, _cfg: &ExperimentConfig, j: &JobId) -> bool {
    let kind = match j.stage {
        Stage::Main => return figure == "figure-6" && j.level == 0,
        Stage::Branch(kind, _) => kind.as_str(),
    };
    let trained = kind == BranchKind::PRUNE_AT_INIT.as_str();
    match figure {
        "figure-6" => trained,
        "figure-2" => !trained,
        "figure-2-layers" => !trained && j.level == LAYERS_LEVEL,
        "figure-3" => !trained && j.level == 0,
        _ => false,
    }
}

/// A pruner's name in the paper's legend.
pub fn pruner_label(p: PrunerName) -> &'static str {
    match p.as_str() {
        "random" => "Random",
        "magnitude" => "Magnitude",
        "snip" => "SNIP",
        "grasp" => "GraSP",
        "synflow" => "SynFlow",
        other => other,
    }
}

/// The stage kind of `pruner`'s masks-only branch.
pub fn masks_of(pruner: PrunerName, rounds: u32) -> StageKind {
    StageKind::Branch(branch_kind(pruner, rounds, false))
}

/// The stage kind of `pruner`'s branch trained after pruning.
pub fn trained_of(pruner: PrunerName, rounds: u32) -> StageKind {
    StageKind::Branch(branch_kind(pruner, rounds, true))
}

/// Every level a pruner's branch reached, ascending, with its records.
pub fn by_level(l: &Loaded, kind: StageKind) -> Vec<(u32, Vec<&StageRecord>)> {
    let mut levels: Vec<u32> = l.results.records.iter().filter(|r| r.stage.kind() == kind).map(|r| r.level).collect();
    levels.sort_unstable();
    levels.dedup();
    levels.into_iter().map(|lv| (lv, l.records(lv, kind).collect())).collect()
}

/// The fraction of prunable layers with at least one weight left.
pub fn layers_alive(layers: &[LayerDensity]) -> f64 {
    layers.iter().filter(|l| l.kept > 0).count() as f64 / layers.len() as f64
}

/// ρ_max = N / L: one weight left per prunable layer.
pub fn max_compression(layers: &[LayerDensity]) -> f64 {
    layers.iter().map(|l| l.total).sum::<i64>() as f64 / layers.len() as f64
}

/// The critical compression of one mask ladder (log10): the largest compression on the grid,
/// below which no level emptied a layer (`None` when even the first level collapsed).
pub fn critical_compression(ladder: &[(u32, bool)]) -> Option<f64> {
    ladder.iter().take_while(|(_, intact)| *intact).last().map(|(lv, _)| log10_compression(*lv))
}

/// Each replicate's critical compression (log10) of `kind` in `l`.
pub fn critical_compressions(l: &Loaded, kind: StageKind) -> Vec<f64> {
    let ladders = by_level(l, kind);
    (0..l.config.replicates)
        .filter_map(|r| {
            let ladder: Vec<(u32, bool)> =
                ladders.iter().filter_map(|(lv, recs)| recs.iter().find(|x| x.replicate == r).map(|x| (*lv, x.layers.iter().all(|d| d.kept > 0)))).collect();
            critical_compression(&ladder)
        })
        .collect()
}

/// Layer indices in the network's order (stem, blocks or groups by number, head last), for
/// layers named in sorted-name order.
pub fn network_order(layers: &[LayerDensity]) -> Vec<usize> {
    let key = |name: &str| {
        let parts: Vec<&str> = name.split('.').collect();
        let rank = match parts[0] {
            "fc" | "fc1" | "fc2" | "fc3" => 2,
            "layers" | "blocks" => 1,
            _ => 0,
        };
        let index = parts.get(1).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
        (rank, parts[0].to_string(), index, name.to_string())
    };
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&i| key(&layers[i].name));
    order
}

/// The provenance caption; `trained`: the figure reads trained networks (else masks only).
fn caption(figure: &str, loaded: &[&Loaded], note: &str, trained: bool) -> String {
    let mut lines = vec![format!("{figure} {}; {note}", harness::provenance_clause(loaded.iter().copied()))];
    for l in loaded {
        let seeds = match l.config.replicates {
            1 => "1 seed".to_string(),
            n => format!("{n} seeds"),
        };
        let what =
            if trained { format!("{seeds}, {} iterations", l.config.train.iterations) } else { format!("{seeds}, masks at initialisation (no training)") };
        lines.push(format!("{} {}: {what}, {}", l.spec.label, arch_note(&l.config), l.dataset_line));
    }
    lines.join("\n")
}

fn arch_note(cfg: &ExperimentConfig) -> String {
    match &cfg.model.arch {
        common::models::Arch::Vgg { width, .. }
        | common::models::Arch::Resnet20 { width }
        | common::models::Arch::Resnet56 { width }
        | common::models::Arch::Resnet18 { width } => {
            format!("(width {width})")
        }
        _ => String::new(),
    }
}

/// Draws `figure` from the results (the harness checked they hold every stage it needs).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let get = |n: Net| -> Result<&Loaded> { results.get(n.name()).ok_or_else(|| anyhow::format_err!("{figure} needs the {} results", n.label())) };
    let all = |nets: &[Net]| nets.iter().map(|&n| get(n)).collect::<Result<Vec<_>>>();
    match figure {
        "figure-2" => figure2(&all(&Net::MASKED)?),
        "figure-2-layers" => figure2_layers(&all(&[Net::Vgg16, Net::Vgg19])?),
        "figure-3" => figure3(&all(&Net::MASKED)?),
        // VGG-16's and ResNet-18's trained grids exist at `paper` only.
        "figure-6" => figure6(&Net::TRAINED.iter().filter_map(|n| results.get(n.name())).collect::<Vec<_>>()),
        other => bail!("no figure `{other}`"),
    }
}

/// Panels three to a row, each 520×400.
fn figure(title: &str, caption: String, panels: Vec<Panel>) -> Figure {
    Figure { heatmaps: Vec::new(), title: title.into(), caption, columns: 3, panel_size: (520, 400), panels }
}

/// The x axis of a per-layer panel: layers 1 … `n` in network order.
fn layer_axis(n: usize) -> XAxis {
    XAxis::Linear { min: 0.5, max: n as f64 + 0.5 }
}

fn compression_axis(l: &Loaded) -> XAxis {
    XAxis::Linear { min: 0.0, max: log10_compression(l.config.levels) }
}

/// Figure 2: the fraction of layers left non-empty vs compression, each pruner's critical
/// compression in its legend, ρ_max marked.
fn figure2(loaded: &[&Loaded]) -> Result<Figure> {
    let panels = loaded
        .iter()
        .map(|l| {
            let mut series: Vec<Series> = PRUNERS
                .iter()
                .enumerate()
                .map(|(i, &(p, n))| {
                    let kind = masks_of(p, n);
                    let points = by_level(l, kind)
                        .into_iter()
                        .filter_map(|(lv, recs)| {
                            Stat::of(&recs.iter().map(|r| layers_alive(&r.layers)).collect::<Vec<_>>()).map(|s| (log10_compression(lv), s))
                        })
                        .collect();
                    let critical = Stat::mean_of(&critical_compressions(l, kind)).map_or("—".to_string(), |c| format!("10^{c:.2}"));
                    Series { label: format!("{} (ρ_cr {critical})", pruner_label(p)), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points }
                })
                .collect();
            if let Some(r) = l.results.records.first() {
                let max = max_compression(&r.layers).log10();
                let s = |y| Stat { mean: y, min: y, max: y };
                series.push(Series {
                    label: format!("ρ_max = 10^{max:.2}"),
                    color: PALETTE[5],
                    dashed: true,
                    spread: Spread::None,
                    points: vec![(max, s(0.0)), (max, s(1.0))],
                });
            }
            Panel {
                title: format!("{}: {} prunable layers", l.spec.label, l.results.records.first().map_or(0, |r| r.layers.len())),
                x_label: "Compression ρ (log10)".into(),
                y_label: "Fraction of layers not empty".into(),
                x: compression_axis(l),
                y_range: Some((0.0, 1.05)),
                series,
            }
        })
        .collect();
    Ok(figure(
        "Figure 2: layer collapse at initialisation — layers left vs compression",
        caption(
            "Figure 2 (with Fig. 1's critical compressions ρ_cr)",
            loaded,
            "mean of seeds, bars = min..max; ρ_cr: largest compression with no layer empty",
            false,
        ),
        panels,
    ))
}

/// Figure 2, by layer: each layer's density at ρ = 10^3, in network order (an empty layer at
/// the axis floor).
fn figure2_layers(loaded: &[&Loaded]) -> Result<Figure> {
    const FLOOR: f64 = -8.0;
    let panels = loaded
        .iter()
        .map(|l| {
            let series = PRUNERS
                .iter()
                .enumerate()
                .filter_map(|(i, &(p, n))| {
                    let recs: Vec<&StageRecord> = l.records(LAYERS_LEVEL, masks_of(p, n)).collect();
                    let first = recs.first()?;
                    let points = network_order(&first.layers)
                        .into_iter()
                        .enumerate()
                        .filter_map(|(x, li)| {
                            let d: Vec<f64> = recs
                                .iter()
                                .map(|r| r.layers[li].kept as f64 / r.layers[li].total as f64)
                                .map(|d| if d > 0.0 { d.log10() } else { FLOOR })
                                .collect();
                            Stat::of(&d).map(|s| (x as f64 + 1.0, s))
                        })
                        .collect();
                    Some(Series { label: pruner_label(p).into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points })
                })
                .collect::<Vec<_>>();
            let n = l.results.records.first().map_or(1, |r| r.layers.len());
            Panel {
                title: format!("{} at ρ = 10^{}", l.spec.label, log10_compression(LAYERS_LEVEL)),
                x_label: "Layer (input to output)".into(),
                y_label: format!("Layer density (log10; empty at {FLOOR})"),
                x: layer_axis(n),
                y_range: Some((FLOOR - 0.5, 0.5)),
                series,
            }
        })
        .collect();
    Ok(figure(
        "Figure 2 by layer: which layers each pruner empties at compression 10^3",
        caption("Fig. 1's per-layer reading", loaded, "mean of seeds", false),
        panels,
    ))
}

/// Figure 3: conservation — each layer's score sum on the dense θ_0 (log10), in network order,
/// per pruner; and the mean score per weight against layer size (log–log; slope −1 is exact
/// conservation).
fn figure3(loaded: &[&Loaded]) -> Result<Figure> {
    let mut panels = Vec::new();
    for l in loaded {
        let mut sums = Vec::new();
        let mut means = Vec::new();
        for (i, &(p, n)) in PRUNERS.iter().enumerate() {
            let Some(r) = l.records(0, masks_of(p, n)).next() else { continue };
            let Some(s) = r.metrics.get("score_sum") else { continue };
            let order = network_order(&r.layers);
            let point = |y: f64| Stat { mean: y, min: y, max: y };
            let abs_log = |v: f64| v.abs().max(f64::MIN_POSITIVE).log10();
            sums.push(Series {
                label: pruner_label(p).into(),
                color: PALETTE[i],
                dashed: false,
                spread: Spread::None,
                points: order.iter().enumerate().map(|(x, &li)| (x as f64 + 1.0, point(abs_log(s[li])))).collect(),
            });
            let mut by_size: Vec<(f64, Stat)> = r.layers.iter().zip(s).map(|(d, v)| ((d.total as f64).log10(), point(abs_log(v / d.total as f64)))).collect();
            by_size.sort_by(|a, b| a.0.total_cmp(&b.0));
            means.push(Series { label: pruner_label(p).into(), color: PALETTE[i], dashed: true, spread: Spread::None, points: by_size });
        }
        let n = l.results.records.first().map_or(1, |r| r.layers.len());
        panels.push(Panel {
            title: format!("{}: per-layer score sum at θ_0", l.spec.label),
            x_label: "Layer (input to output)".into(),
            y_label: "|Σ scores| (log10)".into(),
            x: layer_axis(n),
            y_range: None,
            series: sums,
        });
        if l.spec.id == Net::Vgg16 {
            let sizes: Vec<f64> = l.results.records.first().map(|r| r.layers.iter().map(|d| (d.total as f64).log10()).collect()).unwrap_or_default();
            let (lo, hi) = sizes.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            panels.push(Panel {
                title: format!("{}: mean score per weight vs layer size", l.spec.label),
                x_label: "Layer size (log10 weights)".into(),
                y_label: "|mean score| (log10)".into(),
                x: XAxis::Linear { min: lo - 0.2, max: hi + 0.2 },
                y_range: None,
                series: means,
            });
        }
    }
    Ok(figure(
        "Figure 3: conservation of synaptic saliency at initialisation",
        caption("Figures 3-4", loaded, "scores of the first scoring round on the dense θ_0; SynFlow's sums are equal in a network without skips", false),
        panels,
    ))
}

/// Figure 6: final test accuracy vs compression per pruner (mean of seeds, min..max bars), the
/// dense network's as a dashed line.
fn figure6(loaded: &[&Loaded]) -> Result<Figure> {
    let panels = loaded
        .iter()
        .map(|l| {
            let mut series: Vec<Series> = PRUNERS
                .iter()
                .enumerate()
                .map(|(i, &(p, n))| {
                    let kind = trained_of(p, n);
                    let points = by_level(l, kind)
                        .into_iter()
                        .filter_map(|(lv, _)| Stat::of(&l.accuracies(lv, kind, Readout::Final)).map(|s| (log10_compression(lv), s)))
                        .collect();
                    Series { label: pruner_label(p).into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points }
                })
                .collect();
            let x = log10_compression(l.config.levels);
            if let Some(dense) = Stat::mean_of(&l.accuracies(0, StageKind::Main, Readout::Final)) {
                series.push(Series::horizontal("dense", PALETTE[5], (0.0, x), dense));
            }
            Panel {
                title: format!("{} on {}", l.spec.label, l.config.dataset.as_str()),
                x_label: "Compression ρ (log10)".into(),
                y_label: "Test accuracy (end of training)".into(),
                x: compression_axis(l),
                y_range: None,
                series,
            }
        })
        .collect();
    Ok(figure("Figure 6: accuracy after pruning at initialisation vs compression", caption("Figure 6", loaded, "mean of seeds, bars = min..max", true), panels))
}
