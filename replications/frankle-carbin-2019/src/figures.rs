//! Figures 1, 3, 4 and 5 of Frankle & Carbin (2019), drawn from the results files alone, and the
//! stages each figure needs.

use crate::presets::Net;
use anyhow::{bail, Result};
use common::aggregate::{self, curve, LevelSummary, Metric, Stat};
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage};
use common::plot::{Figure, Panel, Series, Spread, XAxis, PALETTE};
use common::results::ExperimentResults;
use std::collections::BTreeMap;
use std::path::Path;

/// The figures this binary reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FigureName {
    #[value(name = "figure-1")]
    Figure1,
    #[value(name = "figure-3")]
    Figure3,
    #[value(name = "figure-4")]
    Figure4,
    #[value(name = "figure-5")]
    Figure5,
    All,
}

impl FigureName {
    pub const EACH: [FigureName; 4] = [Self::Figure1, Self::Figure3, Self::Figure4, Self::Figure5];

    pub fn file_stem(self) -> &'static str {
        match self {
            Self::Figure1 => "figure-1",
            Self::Figure3 => "figure-3",
            Self::Figure4 => "figure-4",
            Self::Figure5 => "figure-5",
            Self::All => "all",
        }
    }

    /// Networks whose experiments the figure draws.
    pub fn nets(self) -> Vec<Net> {
        match self {
            Self::Figure3 | Self::Figure4 => vec![Net::Lenet],
            Self::Figure5 => Net::CONVS.to_vec(),
            Self::Figure1 | Self::All => vec![Net::Lenet, Net::Conv2, Net::Conv4, Net::Conv6],
        }
    }

    /// Whether the figure needs stage `j` of `net`'s experiment.
    pub fn needs(self, net: Net, cfg: &ExperimentConfig, j: &JobId) -> bool {
        if !self.nets().contains(&net) {
            return false;
        }
        match (self, j.stage) {
            // Figure 3 draws IMP levels up to Pm 1.9 %; deeper levels are left to the figures that use them.
            (Self::Figure3, Stage::Main) => j.level <= *FIGURE3_MIDDLE.last().expect("levels"),
            (_, Stage::Main) => true,
            (Self::Figure3, Stage::Branch(BranchKind::Reinit, _)) => figure3_reinit_levels(cfg).contains(&j.level),
            (Self::Figure4 | Self::Figure5, Stage::Branch(BranchKind::Reinit, _)) => true,
            (Self::Figure4, Stage::Branch(BranchKind::Oneshot | BranchKind::OneshotReinit, _)) => true,
            (Self::Figure1, Stage::Branch(BranchKind::RandomPrune, _)) => true,
            (Self::All, _) => true,
            _ => false,
        }
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

/// One experiment's results with the description shown in captions.
pub struct Loaded {
    pub net: Net,
    pub results: ExperimentResults,
    pub config: ExperimentConfig,
    pub dataset_line: String,
}

impl Loaded {
    pub fn summary(&self) -> Result<Vec<LevelSummary>> {
        aggregate::summarise(&self.results.records)
    }
}

fn pm_label(density: f64) -> String {
    format!("Pm = {:.1}%", 100.0 * density)
}

fn density_at(l: &Loaded, level: u32) -> Option<f64> {
    l.results.records.iter().find(|r| r.level == level && r.stage == "main").map(|r| r.density)
}

fn caption(figure: &str, loaded: &[&Loaded]) -> String {
    let first = loaded[0];
    let mut lines = vec![format!(
        "Reproduction of Frankle & Carbin (ICLR 2019) {figure} at scale `{}`; seed {}; commit {}; mean of trials, bars/bands = min..max.",
        first.results.scale,
        first.config.seed,
        &first.results.run.git_commit.chars().take(12).collect::<String>()
    )];
    for l in loaded {
        lines.push(format!(
            "{}: {} trials, {} iterations, {}",
            l.net.label(),
            l.config.replicates,
            l.config.train.iterations,
            l.dataset_line
        ));
    }
    lines.join("\n")
}

fn points(rows: &[LevelSummary], kind: &str, f: impl Fn(&LevelSummary) -> Stat) -> Vec<(f64, Stat)> {
    rows.iter().filter(|r| r.kind == kind).map(|r| (r.percent_remaining, f(r))).collect()
}

fn pm_axis(rows: &[&[LevelSummary]]) -> XAxis {
    let min = rows.iter().flat_map(|r| r.iter().map(|s| s.percent_remaining)).fold(100.0, f64::min);
    XAxis::PercentRemaining { min: (min * 0.8).max(0.01), max: 110.0 }
}

/// Draws `fig` into `dir` from the loaded results.
pub fn draw(fig: FigureName, loaded: &BTreeMap<Net, Loaded>, dir: &Path) -> Result<()> {
    let need = |n: Net| -> Result<&Loaded> {
        loaded.get(&n).ok_or_else(|| anyhow::format_err!("{} needs the {} results; run `frankle-carbin-2019 run {}` first", fig.file_stem(), n.label(), fig.file_stem()))
    };
    let figure = match fig {
        FigureName::Figure3 => figure3(need(Net::Lenet)?)?,
        FigureName::Figure4 => figure4(need(Net::Lenet)?)?,
        FigureName::Figure5 => {
            let convs: Vec<&Loaded> = Net::CONVS.iter().map(|&n| need(n)).collect::<Result<_>>()?;
            figure5(&convs)?
        }
        FigureName::Figure1 => {
            let all: Vec<&Loaded> = [Net::Lenet, Net::Conv2, Net::Conv4, Net::Conv6].iter().map(|&n| need(n)).collect::<Result<_>>()?;
            figure1(&all)?
        }
        FigureName::All => bail!("`all` is not a single figure"),
    };
    figure.save(&dir.join(fig.file_stem()))
}

/// Figure 3: test accuracy vs training iterations, three panels.
fn figure3(l: &Loaded) -> Result<Figure> {
    let recs = &l.results.records;
    let max_level = l.config.levels;
    let present = |levels: &[u32]| -> Vec<u32> { levels.iter().copied().filter(|&x| x <= max_level).collect() };
    let series = |level: u32, kind: &str, color, dashed| -> Option<Series> {
        let pts = curve(recs, level, kind, Metric::TestAcc);
        let d = density_at(l, level)?;
        let label = if kind == "main" { pm_label(d) } else { format!("{} (reinit)", pm_label(d)) };
        (!pts.is_empty()).then(|| Series { label, color, dashed, spread: Spread::ErrorBars, points: pts })
    };
    let iters = l.config.train.iterations as f64;
    // The paper's panels show the first ~35 % of training (17.5K of 50K iterations), where the
    // curves separate; other scales show the same fraction.
    let x_max = if l.config.scale == "paper" { 17_500.0f64.min(iters) } else { (0.4 * iters).max(l.config.train.eval_every as f64) };
    let mk = |title: &str, levels: &[u32], reinit: &[u32]| -> Panel {
        let mut s: Vec<Series> = Vec::new();
        for (i, &lv) in levels.iter().enumerate() {
            s.extend(series(lv, "main", PALETTE[i % 6], false));
        }
        for &lv in reinit {
            let i = levels.iter().position(|&x| x == lv).unwrap_or(0);
            s.extend(series(lv, "reinit", PALETTE[i % 6], true));
        }
        let mut s2 = s;
        for x in &mut s2 {
            x.points.retain(|(it, _)| *it <= x_max);
        }
        // Like the paper, zoom on accuracy once training is under way (after 5 % of the axis).
        let late: Vec<f64> = s2.iter().flat_map(|x| x.points.iter().filter(|(it, _)| *it >= 0.05 * x_max).flat_map(|(_, p)| [p.min, p.max])).filter(|v| v.is_finite()).collect();
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
        let v: Vec<String> = levels.iter().filter_map(|&lv| density_at(l, lv)).map(|d| format!("{:.1}", 100.0 * d)).collect();
        format!("Pm = {} %", v.join(", "))
    };
    let panels = vec![
        mk(&pms(&left), &left, &[]),
        mk(&pms(&middle), &middle, &[]),
        mk("winning tickets vs random reinit (dashed)", &left, &reinit),
    ];
    Ok(Figure {
        title: "Figure 3: LeNet-300-100 test accuracy during training (iterative pruning)".into(),
        caption: caption("Figure 3", &[l]),
        panels,
        columns: 3,
        panel_size: (560, 430),
    })
}

/// Figure 4: early-stop iteration, accuracy at early stop and at the end vs Pm.
fn figure4(l: &Loaded) -> Result<Figure> {
    let rows = l.summary()?;
    let kinds = [("main", "iterative"), ("reinit", "iterative, random reinit"), ("oneshot", "one-shot"), ("oneshot-reinit", "one-shot, random reinit")];
    let mk = |title: &str, y: &str, f: &dyn Fn(&LevelSummary) -> Stat| Panel {
        title: title.into(),
        x_label: "Percent of weights remaining".into(),
        y_label: y.into(),
        x: pm_axis(&[&rows]),
        y_range: None,
        series: kinds
            .iter()
            .enumerate()
            .map(|(i, (k, label))| Series { label: (*label).into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points: points(&rows, k, f) })
            .filter(|s| !s.points.is_empty())
            .collect(),
    };
    Ok(Figure {
        title: "Figure 4: LeNet-300-100 early stopping and accuracy vs. weights remaining".into(),
        caption: caption("Figure 4", &[l]),
        panels: vec![
            mk("Early-stop iteration (min. validation loss)", "Early-stop iteration", &|r| r.early_stop_iteration),
            mk("Test accuracy at early stop", "Test accuracy", &|r| r.early_stop_test_acc),
            mk("Test accuracy at end of training", "Test accuracy", &|r| r.final_test_acc),
        ],
        columns: 3,
        panel_size: (560, 430),
    })
}

/// Panels with one colour per network: its winning tickets solid and a control `kind` dashed.
fn per_network_panels(nets: &[&Loaded], control: (&str, &str), spread: Spread, metrics: &[(&str, &str, fn(&LevelSummary) -> Stat)]) -> Result<Vec<Panel>> {
    let rows: Vec<Vec<LevelSummary>> = nets.iter().map(|l| l.summary()).collect::<Result<_>>()?;
    let row_refs: Vec<&[LevelSummary]> = rows.iter().map(|r| r.as_slice()).collect();
    Ok(metrics
        .iter()
        .map(|(title, y, f)| {
            let mut series = Vec::new();
            for (i, (l, r)) in nets.iter().zip(&rows).enumerate() {
                for (kind, dashed, suffix) in [("main", false, String::new()), (control.0, true, format!(" {}", control.1))] {
                    let pts = points(r, kind, f);
                    if !pts.is_empty() {
                        series.push(Series { label: format!("{}{suffix}", l.net.label()), color: PALETTE[i], dashed, spread, points: pts });
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
        title: format!("Figure 5: Conv-2/4/6 on {ds}, iterative pruning (solid) vs. random reinit (dashed)"),
        caption: caption("Figure 5", convs),
        panels: per_network_panels(convs, ("reinit", "reinit"), Spread::ErrorBars, &[EARLY_STOP, ACC_AT_EARLY_STOP, ACC_AT_END])?,
        columns: 3,
        panel_size: (560, 430),
    })
}

/// Figure 1: winning tickets (solid) vs randomly sampled sparse networks (dashed).
fn figure1(all: &[&Loaded]) -> Result<Figure> {
    Ok(Figure {
        title: "Figure 1: winning tickets (solid) vs. randomly sampled sparse networks (dashed)".into(),
        caption: caption("Figure 1", all),
        panels: per_network_panels(all, ("random-prune", "random"), Spread::None, &[EARLY_STOP, ACC_AT_EARLY_STOP])?,
        columns: 2,
        panel_size: (620, 450),
    })
}
