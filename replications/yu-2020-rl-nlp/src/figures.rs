//! The paper's figures, drawn from the results files alone. Language modelling: Figure 1 (the
//! LSTM's test log perplexity after training against the parameters remaining: winning tickets
//! with late rewinding, random tickets, no late rewinding, one-shot) and Figure 2's embeddings
//! comparison (right panel, drawn there for the Transformer): winning and random tickets with
//! every parameter pruned vs with the embeddings and softmax kept dense, against the percent of
//! the *pruned set* remaining. Classic control: Figure 4 (the ticket's reward — the mean of its
//! last L games — winning vs random tickets, one panel per game) and Figure 6 (the ablations:
//! late rewinding against rewinding to θ_0, iterative against one-shot pruning).

use crate::presets::{Experiment, Game, LmVariant, Loaded, Results};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind};
use common::plot::{Figure, Panel, Series, Spread, XAxis, PALETTE};
use harness::FigureSpec;

const LSTM: Experiment = Experiment::Lm(LmVariant::Full);
const fn game(game: Game, late: bool) -> Experiment {
    Experiment::Game { game, late }
}

pub static FIGURES: [FigureSpec<Experiment>; 4] = [
    FigureSpec { name: "figure-1", experiments: &[LSTM, Experiment::Lm(LmVariant::NoRewind)] },
    FigureSpec { name: "figure-2", experiments: &[LSTM, Experiment::Lm(LmVariant::DenseEmbeddings)] },
    FigureSpec { name: "figure-4", experiments: &[game(Game::CartPole, true), game(Game::Acrobot, true)] },
    FigureSpec {
        name: "figure-6",
        experiments: &[game(Game::CartPole, true), game(Game::CartPole, false), game(Game::Acrobot, true), game(Game::Acrobot, false)],
    },
];

pub const WINNING: StageKind = StageKind::Main;
pub const RANDOM: StageKind = StageKind::Branch(BranchKind::REINIT);
pub const ONESHOT: StageKind = StageKind::Branch(BranchKind::ONESHOT);

/// Every figure draws the trunks (winning tickets); Figures 1, 2, 4 and 6 the random tickets,
/// Figures 1 and 6 the one-shot ones.
pub fn needs(figure: &str, _experiment: Experiment, _cfg: &ExperimentConfig, j: &JobId) -> bool {
    match (figure, j.stage) {
        (_, Stage::Main) => true,
        ("figure-1" | "figure-6", Stage::Branch(kind, _)) => kind == BranchKind::REINIT || kind == BranchKind::ONESHOT,
        ("figure-2" | "figure-4", Stage::Branch(kind, _)) => kind == BranchKind::REINIT,
        _ => false,
    }
}

/// Each trial's test log perplexity at the end of training of `kind` at `level`.
pub fn log_perplexities(l: &Loaded, level: u32, kind: StageKind) -> Vec<f64> {
    l.records(level, kind).filter_map(|r| r.outcome.log.test_loss().last().copied()).filter(|x| x.is_finite()).collect()
}

/// The role-group of a language model's parameter, by its PyTorch name
/// (`common::models`'s LSTM): whether it is the LSTM's own (pruned in every variant).
fn in_lstm(name: &str) -> bool {
    name.starts_with("rnn.")
}

/// Percent of the variant's pruned set remaining at trunk level `level`: every parameter, or
/// only the LSTM's when the embeddings and softmax are kept dense.
pub fn pooled_percent(l: &Loaded, level: u32) -> Option<f64> {
    let r = l.records(level, WINNING).next()?;
    let dense_embeddings = l.spec.id == Experiment::Lm(LmVariant::DenseEmbeddings);
    let (kept, total) = r.layers.iter().filter(|x| !dense_embeddings || in_lstm(&x.name)).fold((0, 0), |(k, t), x| (k + x.kept, t + x.total));
    Some(100.0 * kept as f64 / total as f64)
}

/// Test log perplexity of `kind` against the percent of the pruned set remaining.
fn lm_curve(l: &Loaded, kind: StageKind) -> Vec<(f64, Stat)> {
    levels(l).into_iter().filter_map(|lv| Some((pooled_percent(l, lv)?, Stat::of(&log_perplexities(l, lv, kind))?))).collect()
}

fn lm_panel(title: &str, x_label: &str, series: Vec<Series>) -> Panel {
    Panel { y_label: "Test log perplexity (nats)".into(), x_label: x_label.into(), ..panel(title, series) }
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
    let games = loaded[0].config.dataset.environment().is_some();
    let metric = if games {
        format!("reward = mean of the last {} games", loaded[0].config.task.params.get("last_games").and_then(|v| v.as_u64()).unwrap_or(100))
    } else {
        "test log perplexity after training".to_string()
    };
    let mut lines = vec![format!("{figure} {}; {metric}; mean of trials, bars = min..max.", harness::provenance_clause(loaded.iter().copied()))];
    for l in loaded {
        let (unit, c) = (if games { "games" } else { "iterations" }, &l.config);
        lines.push(format!(
            "{}: {}, {} {unit} ({} per evaluation), rewound to {} {unit}; {}",
            l.spec.label,
            harness::trials(c.replicates),
            c.train.iterations,
            c.train.eval_every,
            c.rewind_iteration,
            l.dataset_line
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
        "figure-1" => {
            let (Some(late), k0) = (results.get("lstm"), results.get("lstm-k0")) else { bail!("figure-1 needs the lstm results") };
            let s = [
                series("winning tickets (late rewinding)", 0, false, lm_curve(late, WINNING)),
                series("random tickets", 1, true, lm_curve(late, RANDOM)),
                k0.and_then(|k0| series("winning tickets, rewound to θ_0", 2, false, lm_curve(k0, WINNING))),
                series("one-shot, late rewinding", 3, false, lm_curve(late, ONESHOT)),
            ];
            let p = lm_panel("LSTM language model, every parameter pruned", "Percent of parameters remaining", s.into_iter().flatten().collect());
            ("Figure 1: LSTM language model, winning vs random tickets and ablations", vec![p], [Some(late), k0].into_iter().flatten().collect())
        }
        "figure-2" => {
            let (Some(full), Some(dense)) = (results.get("lstm"), results.get("lstm-dense-embeddings")) else {
                bail!("figure-2 needs the lstm and lstm-dense-embeddings results")
            };
            let s = [
                series("winning, every parameter pruned", 0, false, lm_curve(full, WINNING)),
                series("random, every parameter pruned", 0, true, lm_curve(full, RANDOM)),
                series("winning, embeddings and softmax dense", 2, false, lm_curve(dense, WINNING)),
                series("random, embeddings and softmax dense", 2, true, lm_curve(dense, RANDOM)),
            ];
            let p = lm_panel("LSTM language model: pruning the embeddings or not", "Percent of the pruned set remaining", s.into_iter().flatten().collect());
            ("Figure 2 (right, for the LSTM): embeddings kept dense", vec![p], vec![full, dense])
        }
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
