//! Yu et al.'s classic-control claims beside ours, each with the rule it is judged by.
//!
//! The paper draws these claims (Figures 4 and 6) without numbers; the rules, chosen before any
//! run of ours, compare ticket rewards (the mean of a ticket's last L games) over the pruned
//! levels both sides have:
//! - winning tickets outperform random tickets: the mean over those levels of WT − RT is above
//!   0 (the row also counts the levels where WT is above);
//! - late rewinding improves winning tickets: WT rewound to epoch 1 − WT rewound to θ_0, the
//!   same mean, above 0;
//! - iterative pruning improves them: iterative − one-shot, the same mean, above 0.
//!
//! The spread is the range over trials of each trial's mean difference; a mean difference
//! smaller than it is "within noise".

use crate::figures::{levels, rewards, ONESHOT, RANDOM, WINNING};
use crate::presets::Game;
use anyhow::Result;
use common::aggregate::Stat;
use common::imp::StageKind;
use harness::claims::Cmp;
use harness::{Claim, Loaded, Results, Spread, Tolerance};

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let mut out = Vec::new();
    for game in [Game::CartPole, Game::Acrobot] {
        let late = results.get(game.experiment(true));
        let k0 = results.get(game.experiment(false));
        out.push(compare(
            &format!("{}: winning tickets outperform random tickets", game.label()),
            "WT above RT at every level (Fig. 4)",
            late.map(|l| (l, WINNING, l, RANDOM)),
            "mean over levels of WT − RT",
        ));
        out.push(compare(
            &format!("{}: late rewinding improves winning tickets", game.label()),
            "late rewinding above rewinding to θ_0 (Fig. 6; size varies by game)",
            late.zip(k0).map(|(l, k)| (l, WINNING, k, WINNING)),
            "mean over levels of late − θ_0",
        ));
        out.push(compare(
            &format!("{}: iterative pruning improves winning tickets", game.label()),
            "iterative above one-shot (Fig. 6)",
            late.filter(|l| l.config.branches.iter().any(|b| StageKind::Branch(b.kind) == ONESHOT)).map(|l| (l, WINNING, l, ONESHOT)),
            "mean over levels of iterative − one-shot",
        ));
    }
    Ok(out)
}

/// Per trial, the difference of `a` and `b`'s ticket rewards at every pruned level where both
/// exist: `(level, trial differences)`.
fn differences(a: &Loaded, ka: StageKind, b: &Loaded, kb: StageKind) -> Vec<(u32, Vec<f64>)> {
    levels(a)
        .into_iter()
        .filter(|&lv| lv > 0)
        .filter_map(|lv| {
            let (x, y) = (rewards(a, lv, ka), rewards(b, lv, kb));
            (!x.is_empty() && x.len() == y.len()).then(|| (lv, x.iter().zip(&y).map(|(x, y)| x - y).collect()))
        })
        .collect()
}

/// A "subject ≥ other" row over the pruned levels of `pair` (`None`: not run at this scale).
fn compare(claim: &str, paper: &str, pair: Option<(&Loaded, StageKind, &Loaded, StageKind)>, what: &'static str) -> Claim {
    let rule = Tolerance::Margin { subject: what, cmp: Cmp::Over, of: "0", margin: 0.0 };
    let Some((a, ka, b, kb)) = pair else {
        return Claim::measured(claim, paper, rule, "not run at this scale", None);
    };
    let diffs = differences(a, ka, b, kb);
    let trials = diffs.first().map_or(0, |d| d.1.len());
    let per_trial: Vec<f64> = (0..trials).map(|t| diffs.iter().map(|d| d.1[t]).sum::<f64>() / diffs.len() as f64).collect();
    let above = diffs.iter().filter(|d| Stat::mean_of(&d.1).is_some_and(|m| m > 0.0)).count();
    let c = &a.config;
    let setting = format!("{}, {} trials, {} games, {} levels, {}", a.results.scale, c.replicates, c.train.iterations, c.levels, c.dataset.as_str());
    let ours = Stat::mean_of(&per_trial).map(|m| (format!("{m:+.1} reward (mean of {} pruned levels; above 0 at {above})", diffs.len()), m));
    let spread = if trials > 1 { Spread::Units(range(&per_trial), "reward") } else { Spread::OneTrial };
    Claim::measured(claim, paper, rule, &setting, ours).with_spread(spread)
}

fn range(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - v.iter().copied().fold(f64::INFINITY, f64::min)
}
