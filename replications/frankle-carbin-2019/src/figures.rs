//! Figures 1, 3, 4 and 5 of Frankle & Carbin (2019), drawn from the results files alone, and the
//! stages each figure needs.

use crate::presets::{Loaded, Net, Results};
use anyhow::{bail, Result};
use common::aggregate::{curve, LevelSummary, Stat};
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind};
use common::plot::{Figure, Panel, Series, Spread, XAxis, PALETTE};
use harness::FigureSpec;

pub static FIGURES: [FigureSpec<Net>; 4] = [
    FigureSpec { name: "figure-1", experiments: &Net::ALL },
    FigureSpec { name: "figure-3", experiments: &[Net::Lenet] },
    FigureSpec { name: "figure-4", experiments: &[Net::Lenet] },
    FigureSpec { name: "figure-5", experiments: &Net::CONVS },
];

const MAIN: StageKind = StageKind::Main;
const REINIT: StageKind = StageKind::Branch(BranchKind::REINIT);
const RANDOM: StageKind = StageKind::Branch(BranchKind::RANDOM_PRUNE);
const ONESHOT: StageKind = StageKind::Branch(BranchKind::ONESHOT);
const ONESHOT_REINIT: StageKind = StageKind::Branch(BranchKind::ONESHOT_REINIT);

/// Whether `figure` draws stage `j` (the figure's experiments only; the harness checks that).
pub fn needs(figure: &str, _experiment: Net, cfg: &ExperimentConfig, j: &JobId) -> bool {
    let branch = match j.stage {
        // Figure 3 draws IMP levels up to Pm 1.9 %; deeper levels are left to the figures that use them.
        Stage::Main => return figure != "figure-3" || j.level <= *FIGURE3_MIDDLE.last().expect("levels"),
        Stage::Branch(kind, _) => kind,
    };
    match (figure, branch) {
        ("figure-3", BranchKind::REINIT) => figure3_reinit_levels(cfg).contains(&j.level),
        ("figure-4" | "figure-5", BranchKind::REINIT) => true,
        ("figure-4", BranchKind::ONESHOT | BranchKind::ONESHOT_REINIT) => true,
        ("figure-1", BranchKind::RANDOM_PRUNE) => true,
        _ => false,
    }
}

/// IMP levels drawn in Figure 3's left panel (Pm 100, 51.3, 21.1 %) and middle panel (Pm 100,
/// 21.1, 7.0, 3.6, 1.9 %).
const FIGURE3_LEFT: [u32; 3] = [0, 3, 7];
const FIGURE3_MIDDLE: [u32; 5] = [0, 7, 12, 15, 18];

/// Levels drawn in Figure 3's right panel (Pm 51.3 % and 21.1 %), those present at this scale.
fn figure3_reinit_levels(cfg: &ExperimentConfig) -> Vec<u32> {
    [3, 7].into_iter().filter(|&l| l <= cfg.levels).collect()
}

fn pm_label(density: f64) -> String {
    format!("Pm = {:.1}%", 100.0 * density)
}

/// Min–max bars over trials, as the paper's Figures 3–5 draw them.
const MIN_MAX_BARS: &str = "mean of trials, bars/bands = min..max";

/// The caption: provenance, `averaging` (what a point is and what its bars show), one line per
/// network.
fn caption(figure: &str, loaded: &[&Loaded], averaging: &str) -> String {
    let mut lines = vec![format!("{figure} {}; {averaging}.", harness::provenance_clause(loaded.iter().copied()))];
    for l in loaded {
        lines.push(format!("{}: {}, {} iterations, {}", l.spec.label, harness::trials(l.config.replicates), l.config.train.iterations, l.dataset_line));
    }
    lines.join("\n")
}

fn points(rows: &[LevelSummary], kind: StageKind, f: impl Fn(&LevelSummary) -> Stat) -> Vec<(f64, Stat)> {
    rows.iter().filter(|r| r.kind == kind).map(|r| (r.percent_remaining, f(r))).collect()
}

fn pm_axis(rows: &[&[LevelSummary]]) -> XAxis {
    let min = rows.iter().flat_map(|r| r.iter().map(|s| s.percent_remaining)).fold(100.0, f64::min);
    XAxis::PercentRemaining { min: (min * 0.8).max(0.01), max: 110.0 }
}

/// Draws `figure` from the results (the harness checked they hold every stage it needs of each
/// experiment present, and at least one). Figures 1 and 5 draw the networks present: at `paper`
/// the LeNet part of Figure 1 trains on its own (the harness's caption line says so).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let get = |n: Net| -> Result<&Loaded> { results.get(n.name()).ok_or_else(|| anyhow::format_err!("{figure} needs the {} results", n.label())) };
    let present = |nets: &[Net]| -> Result<Vec<&Loaded>> {
        let v: Vec<&Loaded> = nets.iter().filter_map(|n| results.get(n.name())).collect();
        if v.is_empty() {
            bail!("{figure} needs the results of one of {}", nets.iter().map(|n| n.label()).collect::<Vec<_>>().join(", "));
        }
        Ok(v)
    };
    match figure {
        "figure-3" => figure3(get(Net::Lenet)?),
        "figure-4" => figure4(get(Net::Lenet)?),
        "figure-5" => figure5(&present(&Net::CONVS)?),
        "figure-1" => figure1(&present(&Net::ALL)?),
        other => bail!("no figure `{other}`"),
    }
}

/// Figure 3: test accuracy vs training iterations, three panels.
fn figure3(l: &Loaded) -> Result<Figure> {
    let recs = &l.results.records;
    let max_level = l.config.levels;
    let present = |levels: &[u32]| -> Vec<u32> { levels.iter().copied().filter(|&x| x <= max_level).collect() };
    let series = |level: u32, kind: StageKind, color, dashed| -> Option<Series> {
        let pts = curve(recs, level, kind, common::train::metric::TEST_ACC);
        let d = l.density(level)?;
        let label = if kind == MAIN { pm_label(d) } else { format!("{} (reinit)", pm_label(d)) };
        (!pts.is_empty()).then_some(Series { label, color, dashed, spread: Spread::ErrorBars, points: pts })
    };
    let iters = l.config.train.iterations as f64;
    // The paper's panels show the first ~35 % of training (17.5K of 50K iterations), where the
    // curves separate; other scales show the same fraction.
    let x_max = if l.config.scale == "paper" { 17_500.0f64.min(iters) } else { (0.4 * iters).max(l.config.train.eval_every as f64) };
    let mk = |title: &str, levels: &[u32], reinit: &[u32]| -> Panel {
        let mut s: Vec<Series> = Vec::new();
        for (i, &lv) in levels.iter().enumerate() {
            s.extend(series(lv, MAIN, PALETTE[i % 6], false));
        }
        for &lv in reinit {
            let i = levels.iter().position(|&x| x == lv).unwrap_or(0);
            s.extend(series(lv, REINIT, PALETTE[i % 6], true));
        }
        let mut s2 = s;
        for x in &mut s2 {
            x.points.retain(|(it, _)| *it <= x_max);
        }
        // Like the paper, zoom on accuracy once training is under way (after 5 % of the axis).
        let late: Vec<f64> =
            s2.iter().flat_map(|x| x.points.iter().filter(|(it, _)| *it >= 0.05 * x_max).flat_map(|(_, p)| [p.min, p.max])).filter(|v| v.is_finite()).collect();
        let y_range = (!late.is_empty()).then(|| {
            let lo = late.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = late.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        });
        if let Some((lo, _)) = y_range {
            // The first evaluations (near chance) lie below the zoomed axis: leave them out.
            for x in &mut s2 {
                x.points.retain(|(_, p)| p.mean >= lo);
                for (_, p) in &mut x.points {
                    p.min = p.min.max(lo);
                }
            }
        }
        Panel {
            title: title.into(),
            x_label: "Training iterations".into(),
            y_label: "Test accuracy".into(),
            x: XAxis::Linear { min: 0.0, max: x_max },
            y_range,
            series: s2,
        }
    };
    let left = present(&FIGURE3_LEFT);
    let middle = present(&FIGURE3_MIDDLE);
    let reinit = figure3_reinit_levels(&l.config);
    let pms = |levels: &[u32]| -> String {
        let v: Vec<String> = levels.iter().filter_map(|&lv| l.density(lv)).map(|d| format!("{:.1}", 100.0 * d)).collect();
        format!("Pm = {} %", v.join(", "))
    };
    let panels = vec![mk(&pms(&left), &left, &[]), mk(&pms(&middle), &middle, &[]), mk("winning tickets vs random reinit (dashed)", &left, &reinit)];
    Ok(Figure {
        heatmaps: Vec::new(),
        title: "Figure 3: LeNet-300-100 test accuracy during training (iterative pruning)".into(),
        caption: caption("Figure 3", &[l], MIN_MAX_BARS),
        panels,
        columns: 3,
        panel_size: (560, 430),
    })
}

/// Figure 4: early-stop iteration, accuracy at early stop and at the end vs Pm.
fn figure4(l: &Loaded) -> Result<Figure> {
    let rows = l.summary()?;
    let kinds = [(MAIN, "iterative"), (REINIT, "iterative, random reinit"), (ONESHOT, "one-shot"), (ONESHOT_REINIT, "one-shot, random reinit")];
    let mk = |title: &str, y: &str, f: &dyn Fn(&LevelSummary) -> Stat| Panel {
        title: title.into(),
        x_label: "Percent of weights remaining".into(),
        y_label: y.into(),
        x: pm_axis(&[&rows]),
        y_range: None,
        series: kinds
            .iter()
            .enumerate()
            .map(|(i, (k, label))| Series { label: (*label).into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points: points(&rows, *k, f) })
            .filter(|s| !s.points.is_empty())
            .collect(),
    };
    Ok(Figure {
        heatmaps: Vec::new(),
        title: "Figure 4: LeNet-300-100 early stopping and accuracy vs. weights remaining".into(),
        caption: caption("Figure 4", &[l], MIN_MAX_BARS),
        panels: vec![
            mk("Early-stop iteration (min. validation loss)", "Early-stop iteration", &|r| r.early_stop_iteration),
            mk("Test accuracy at early stop", "Test accuracy", &|r| r.early_stop_test_acc),
            mk("Test accuracy at end of training", "Test accuracy", &|r| r.final_test_acc),
        ],
        columns: 3,
        panel_size: (560, 430),
    })
}

/// A panel's metric: its title, y label and the statistic it reads from a summary row.
type PanelMetric<'a> = (&'a str, &'a str, fn(&LevelSummary) -> Stat);

/// Panels with one colour per network: its winning tickets solid and a control `kind` dashed.
fn per_network_panels(nets: &[&Loaded], control: (StageKind, &str), spread: Spread, metrics: &[PanelMetric]) -> Result<Vec<Panel>> {
    let rows: Vec<Vec<LevelSummary>> = nets.iter().map(|l| l.summary()).collect::<Result<_>>()?;
    let row_refs: Vec<&[LevelSummary]> = rows.iter().map(|r| r.as_slice()).collect();
    Ok(metrics
        .iter()
        .map(|(title, y, f)| {
            let mut series = Vec::new();
            for (i, (l, r)) in nets.iter().zip(&rows).enumerate() {
                for (kind, dashed, suffix) in [(MAIN, false, String::new()), (control.0, true, format!(" {}", control.1))] {
                    let pts = points(r, kind, f);
                    if !pts.is_empty() {
                        series.push(Series { label: format!("{}{suffix}", l.spec.label), color: PALETTE[i], dashed, spread, points: pts });
                    }
                }
            }
            Panel { title: (*title).into(), x_label: "Percent of weights remaining".into(), y_label: (*y).into(), x: pm_axis(&row_refs), y_range: None, series }
        })
        .collect())
}

const EARLY_STOP: (&str, &str, fn(&LevelSummary) -> Stat) = ("Early-stop iteration", "Early-stop iteration", |r| r.early_stop_iteration);
const ACC_AT_EARLY_STOP: (&str, &str, fn(&LevelSummary) -> Stat) = ("Test accuracy at early stop", "Test accuracy", |r| r.early_stop_test_acc);
const ACC_AT_END: (&str, &str, fn(&LevelSummary) -> Stat) = ("Test accuracy at end of training", "Test accuracy", |r| r.final_test_acc);

/// Figure 5: Conv-2/4/6, iterative pruning (solid) vs random reinit (dashed).
fn figure5(convs: &[&Loaded]) -> Result<Figure> {
    let ds = convs[0].config.dataset.as_str();
    Ok(Figure {
        heatmaps: Vec::new(),
        title: format!("Figure 5: Conv-2/4/6 on {ds}, iterative pruning (solid) vs. random reinit (dashed)"),
        caption: caption("Figure 5", convs, MIN_MAX_BARS),
        panels: per_network_panels(convs, (REINIT, "reinit"), Spread::ErrorBars, &[EARLY_STOP, ACC_AT_EARLY_STOP, ACC_AT_END])?,
        columns: 3,
        panel_size: (560, 430),
    })
}

/// Figure 1: winning tickets (solid) vs randomly sampled sparse networks (dashed).
fn figure1(all: &[&Loaded]) -> Result<Figure> {
    Ok(Figure {
        heatmaps: Vec::new(),
        title: "Figure 1: winning tickets (solid) vs. randomly sampled sparse networks (dashed)".into(),
        // The paper's Figure 1 has no bars: its tickets are means of 5 trials, its random sparse
        // networks of 10.
        caption: caption(
            "Figure 1",
            all,
            "winning tickets: mean of trials; random sparse networks: mean of every network sampled (all trials); no bars, as in the paper",
        ),
        panels: per_network_panels(all, (RANDOM, "random"), Spread::None, &[EARLY_STOP, ACC_AT_EARLY_STOP])?,
        columns: 2,
        panel_size: (620, 450),
    })
}
