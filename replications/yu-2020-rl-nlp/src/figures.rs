//! The paper's classic-control figures, drawn from the results files alone: Figure 4 (the
//! ticket's reward — the mean of its last L games — against the parameters remaining, winning
//! vs random tickets, one panel per game) and Figure 6 (the ablations: late rewinding against
//! rewinding to θ_0, iterative against one-shot pruning).

use crate::presets::Game;
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind};
use common::plot::{Figure, Panel, Series, Spread, XAxis, PALETTE};
use harness::{FigureSpec, Loaded, Results};

pub static FIGURES: [FigureSpec; 2] = [
    FigureSpec { name: "figure-4", experiments: &["cartpole", "acrobot"] },
    FigureSpec { name: "figure-6", experiments: &["cartpole", "cartpole-k0", "acrobot", "acrobot-k0"] },
];

pub const WINNING: StageKind = StageKind::Main;
pub const RANDOM: StageKind = StageKind::Branch(BranchKind::REINIT);
pub const ONESHOT: StageKind = StageKind::Branch(BranchKind::ONESHOT);

/// Figure 4 draws the trunk (winning tickets) and the random tickets; Figure 6 the trunks and
/// the one-shot tickets.
pub fn needs(figure: &str, _experiment: &str, _cfg: &ExperimentConfig, j: &JobId) -> bool {
    match (figure, j.stage) {
        (_, Stage::Main) => true,
        ("figure-4", Stage::Branch(kind, _)) => kind == BranchKind::REINIT,
        ("figure-6", Stage::Branch(kind, _)) => kind == BranchKind::ONESHOT,
        _ => false,
    }
}

/// Each trial's ticket reward (mean of its last L games at the end of training) of `kind` at
/// `level`.
pub fn rewards(l: &Loaded, level: u32, kind: StageKind) -> Vec<f64> {
    l.records(level, kind).filter_map(|r| r.outcome.log.last("reward")).filter(|r| r.is_finite()).collect()
}

/// Levels of the experiment's trunk, in order.
pub fn levels(l: &Loaded) -> Vec<u32> {
    (0..=l.config.levels).filter(|&lv| l.density(lv).is_some()).collect()
}

/// Ticket reward of `kind` against the percent of parameters remaining, one point per level
/// that has it.
fn curve(l: &Loaded, kind: StageKind) -> Vec<(f64, Stat)> {
    levels(l).into_iter().filter_map(|lv| Some((100.0 * l.density(lv)?, Stat::of(&rewards(l, lv, kind))?))).collect()
}

fn caption(figure: &str, loaded: &[&Loaded]) -> String {
    let mut lines = vec![format!(
        "Reproduction of Yu et al. (ICLR 2020) {figure} {}; reward = mean of the last {} games; mean of trials, bars = min..max.",
        loaded[0].provenance_clause(),
        loaded[0].config.task.params.get("last_games").and_then(|v| v.as_u64()).unwrap_or(100)
    )];
    for l in loaded {
        lines.push(format!(
            "{}: {} trials, {} games ({} per epoch), rewound to game {}; {}",
            l.spec.label, l.config.replicates, l.config.train.iterations, l.config.train.eval_every, l.config.rewind_iteration, l.dataset_line
        ));
    }
    lines.join("\n")
}

fn panel(title: &str, series: Vec<Series>) -> Panel {
    let min = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(100.0, f64::min);
    Panel {
        title: title.into(),
        x_label: "Percent of parameters remaining (weights and biases)".into(),
        y_label: "Reward (mean of the last games)".into(),
        x: XAxis::PercentRemaining { min: (min * 0.8).max(0.01), max: 110.0 },
        y_range: None,
        series,
    }
}

fn series(label: &str, i: usize, dashed: bool, points: Vec<(f64, Stat)>) -> Option<Series> {
    (!points.is_empty()).then(|| Series { label: label.into(), color: PALETTE[i], dashed, spread: Spread::ErrorBars, points })
}

/// Draws `figure` from the results (the harness checked they hold every stage it needs).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let games = [Game::CartPole, Game::Acrobot];
    let (title, panels, used): (&str, Vec<Panel>, Vec<&Loaded>) = match figure {
        "figure-4" => {
            let present: Vec<(Game, &Loaded)> = games.iter().filter_map(|&g| Some((g, results.get(g.experiment(true))?))).collect();
            let panels = present
                .iter()
                .map(|(g, l)| {
                    let s = [series("winning tickets (late rewinding)", 0, false, curve(l, WINNING)), series("random tickets", 1, true, curve(l, RANDOM))];
                    panel(g.label(), s.into_iter().flatten().collect())
                })
                .collect();
            ("Figure 4: winning vs random tickets on classic control", panels, present.iter().map(|p| p.1).collect())
        }
        "figure-6" => {
            let mut panels = Vec::new();
            let mut used = Vec::new();
            for g in games {
                let (Some(late), Some(k0)) = (results.get(g.experiment(true)), results.get(g.experiment(false))) else { continue };
                let s = [
                    series("iterative, late rewinding", 0, false, curve(late, WINNING)),
                    series("iterative, rewinding to θ_0", 2, false, curve(k0, WINNING)),
                    series("one-shot, late rewinding", 3, false, curve(late, ONESHOT)),
                    series("random tickets", 1, true, curve(late, RANDOM)),
                ];
                panels.push(panel(g.label(), s.into_iter().flatten().collect()));
                used.extend([late, k0]);
            }
            ("Figure 6: late rewinding and iterative pruning (ablations)", panels, used)
        }
        other => bail!("no figure `{other}`"),
    };
    if used.is_empty() {
        bail!("{figure} needs the results of its experiments; run `yu-2020-rl-nlp run {figure}` first");
    }
    let columns = panels.len().max(1);
    Ok(Figure {
        title: title.into(),
        caption: caption(title.split(':').next().unwrap_or(figure), &used),
        panels,
        heatmaps: Vec::new(),
        columns,
        panel_size: (520, 400),
    })
}
