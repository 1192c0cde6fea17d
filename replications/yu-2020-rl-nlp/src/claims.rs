//! Yu et al.'s claims beside ours, each with the rule it is judged by.
//!
//! The paper draws these claims without numbers; the rules were chosen before any run of ours.
//!
//! Language modelling (test log perplexity after training, lower is better; Figures 1 and 2):
//! - winning tickets beat random tickets at every level: the mean over the pruned levels of
//!   RT − WT is above 0 (the row counts the levels where it is);
//! - "as many as 90 % of parameters" removed "without a noticeable increase in log perplexity":
//!   at the level nearest 10 % remaining, WT's log perplexity at most 1.02× the dense network's
//!   (2 % of ~5 nats, a tenth of a nat, is what a reader of Figure 1 would call noticeable);
//! - one-shot pruning falls below random tickets past 80 % pruned: one-shot − RT above 0 at the
//!   deepest level past 80 % where both exist;
//! - late rewinding and iterative pruning help: the mean over levels of (rewound to θ_0) − (late)
//!   and of one-shot − iterative, each above 0;
//! - with the embeddings and softmax kept dense, random tickets degrade faster: the mean over
//!   levels of the RT − WT gap with only the LSTM pruned minus the same gap with every parameter
//!   pruned, above 0 (levels matched by round: the same fraction of each variant's pruned set).
//!
//! Classic control (Figures 4 and 6): ticket rewards (the mean of a ticket's last L games) over
//! the pruned levels both sides have:
//! - winning tickets outperform random tickets: the mean over those levels of WT − RT is above
//!   0 (the row also counts the levels where WT is above);
//! - late rewinding improves winning tickets: WT rewound to epoch 1 − WT rewound to θ_0, the
//!   same mean, above 0;
//! - iterative pruning improves them: iterative − one-shot, the same mean, above 0.
//!
//! **The gate.** Every language-model claim is about a network that has learned something of
//! context, so the rows are judged only where the dense LSTM's test log perplexity is below a
//! unigram model's on the same split ([`unigram_reference`]); otherwise they are "not judged",
//! with both numbers.
//!
//! The spread of a game's row is the range over trials of each trial's mean difference; of a
//! language-model row, the widest range over trials among the log perplexities it compares; a
//! verdict closer to its boundary than that is "within noise".

use crate::figures::{levels, log_perplexities, pooled_percent, rewards, ONESHOT, RANDOM, WINNING};
use crate::presets::{Game, Loaded, Results};
use anyhow::Result;
use common::aggregate::Stat;
use common::data::DatasetName;
use common::imp::StageKind;
use harness::claims::Cmp;
use harness::{Claim, ScaleData, Spread, Tolerance, Verdict};

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let mut out = language_model(results);
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

/// The test log perplexity of the unigram model (training frequencies, add-one smoothed) on a
/// corpus's test split, as `lt-data <corpus>` prints it (`common::data::corpus::
/// unigram_log_perplexity`); `None` for a corpus not measured.
pub fn unigram_reference(dataset: DatasetName) -> Option<f64> {
    match dataset {
        // `lt-data brown`: 6.0435 nats (perplexity 421.3), top-10K vocabulary.
        DatasetName::Brown => Some(6.0435),
        _ => None,
    }
}

/// The language model's rows (module docs), not judged where the gate fails.
fn language_model(results: &Results) -> Vec<Claim> {
    let mut rows = language_model_rows(results);
    let full = results.get("lstm");
    let dense = full.and_then(|l| Stat::mean_of(&log_perplexities(l, 0, WINNING)));
    let why = match (full.map(|l| unigram_reference(l.config.dataset)), dense) {
        (Some(Some(unigram)), Some(d)) if d >= unigram => {
            Some(format!("the dense LSTM is no better than a unigram model: {d:.3} vs {unigram:.3} nats, it learned no context"))
        }
        (Some(None), Some(_)) => Some("no unigram reference for this corpus to check that the dense LSTM learned".to_string()),
        _ => None,
    };
    if let Some(why) = why {
        for r in rows.iter_mut().filter(|r| r.ours != "—") {
            r.verdict = Verdict::NotJudged(why.clone());
        }
    }
    rows
}

fn language_model_rows(results: &Results) -> Vec<Claim> {
    let (full, k0, dense) = (results.get("lstm"), results.get("lstm-k0"), results.get("lstm-dense-embeddings"));
    let ppl = |l: &Loaded, level: u32, kind: StageKind| Stat::mean_of(&log_perplexities(l, level, kind));
    let over = |subject: &'static str| Tolerance::Margin { subject, cmp: Cmp::Over, of: "0", margin: 0.0 };
    let setting = |l: &Loaded| {
        let c = &l.config;
        let text = format!(
            "{}, {}, {} it, {} levels, {}",
            l.results.scale,
            l.trials_text(),
            c.train.iterations,
            c.levels,
            l.dataset_line.split(" from ").next().unwrap_or("")
        );
        l.measured_as(text)
    };
    let row = |claim: &str, paper: &str, rule: Tolerance, l: Option<&Loaded>, ours: Option<(String, f64)>, spread: Spread| match l {
        Some(l) => Claim::measured(claim, paper, rule, &setting(l), ours).with_spread(spread),
        None => Claim::measured(claim, paper, rule, &ScaleData::missing("not run at this scale"), None),
    };
    // Mean over the pruned levels where both exist of `b − a` (lower log perplexity is better).
    let gap = |a: (&Loaded, StageKind), b: (&Loaded, StageKind)| -> Option<(f64, usize, usize)> {
        let d: Vec<f64> = levels(a.0).into_iter().filter(|&lv| lv > 0).filter_map(|lv| Some(ppl(b.0, lv, b.1)? - ppl(a.0, lv, a.1)?)).collect();
        Stat::mean_of(&d).map(|m| (m, d.len(), d.iter().filter(|x| **x > 0.0).count()))
    };
    // The widest range over trials among the log perplexities a row compares (every level).
    let spread = |compared: &[(Option<&Loaded>, StageKind)]| -> Spread {
        let sides: Vec<(&Loaded, StageKind)> = compared.iter().filter_map(|(l, k)| Some(((*l)?, *k))).collect();
        let per_level: Vec<Vec<f64>> = sides.iter().flat_map(|(l, k)| levels(l).into_iter().map(|lv| log_perplexities(l, lv, *k))).collect();
        Spread::of(&per_level.iter().map(Vec::as_slice).collect::<Vec<_>>()).in_units("nats")
    };
    let shown = |g: Option<(f64, usize, usize)>| g.map(|(m, n, above)| (format!("{m:+.3} nats (mean of {n} pruned levels; above 0 at {above})"), m));
    let mut out = vec![row(
        "LSTM LM: winning tickets beat random tickets at every level",
        "WT below RT in log perplexity at all levels (Fig. 1)",
        over("mean over levels of RT − WT"),
        full,
        shown(full.and_then(|l| gap((l, WINNING), (l, RANDOM)))),
        spread(&[(full, WINNING), (full, RANDOM)]),
    )];
    let ninety = full.and_then(|l| {
        let off = |lv: u32| pooled_percent(l, lv).map_or(f64::INFINITY, |p| (p - 10.0).abs());
        let level = levels(l).into_iter().min_by(|&a, &b| off(a).total_cmp(&off(b)))?;
        let (at, dense_ppl) = (ppl(l, level, WINNING)?, ppl(l, 0, WINNING)?);
        Some((format!("{at:.3} vs dense {dense_ppl:.3} nats at {:.1} % remaining ({:.3}×)", pooled_percent(l, level)?, at / dense_ppl), at / dense_ppl))
    });
    out.push(row(
        "LSTM LM: ~90 % of parameters pruned without a noticeable rise in log perplexity",
        "as many as 90 % removable (Fig. 1)",
        Tolerance::Ratio { lo: 0.0, hi: 1.02, of: "dense log perplexity" },
        full,
        ninety,
        // As a ratio to the dense network's log perplexity.
        match (spread(&[(full, WINNING)]), full.and_then(|l| ppl(l, 0, WINNING))) {
            (Spread::Units(w, _), Some(d)) => Spread::Ratio(w / d),
            _ => Spread::OneTrial,
        },
    ));
    let oneshot_past_80 = full.and_then(|l| {
        let level = levels(l).into_iter().rev().find(|&lv| pooled_percent(l, lv).is_some_and(|p| p < 20.0) && ppl(l, lv, ONESHOT).is_some())?;
        let (o, r) = (ppl(l, level, ONESHOT)?, ppl(l, level, RANDOM)?);
        Some((format!("one-shot {o:.3} vs RT {r:.3} nats at {:.1} % remaining", pooled_percent(l, level)?), o - r))
    });
    out.push(row(
        "LSTM LM: one-shot pruning falls below random tickets past 80 % pruned",
        "one-shot worse than RT once 80 % is pruned (Fig. 1)",
        over("one-shot − RT"),
        full,
        oneshot_past_80,
        spread(&[(full, ONESHOT), (full, RANDOM)]),
    ));
    out.push(row(
        "LSTM LM: late rewinding helps (only slightly)",
        "without late rewinding performance is only slightly damaged (Fig. 1)",
        over("mean over levels of θ_0 − late"),
        full.filter(|_| k0.is_some()),
        shown(full.zip(k0).and_then(|(l, k)| gap((l, WINNING), (k, WINNING)))),
        spread(&[(full, WINNING), (k0, WINNING)]),
    ));
    out.push(row(
        "LSTM LM: iterative pruning beats one-shot",
        "iterative pruning is essential (Fig. 1)",
        over("mean over levels of one-shot − iterative"),
        full,
        shown(full.and_then(|l| gap((l, WINNING), (l, ONESHOT)))),
        spread(&[(full, WINNING), (full, ONESHOT)]),
    ));
    let embeddings = full.zip(dense).and_then(|(f, d)| {
        let (gf, gd) = (gap((f, WINNING), (f, RANDOM))?, gap((d, WINNING), (d, RANDOM))?);
        Some((format!("RT − WT {:+.3} nats with the embeddings dense vs {:+.3} with every parameter pruned", gd.0, gf.0), gd.0 - gf.0))
    });
    out.push(row(
        "LSTM LM: with embeddings and softmax dense, random tickets degrade much faster",
        "RT drop much faster than under full pruning; embeddings are over-parameterised (Fig. 2 right, Transformer)",
        over("RT − WT gap, LSTM only − every parameter"),
        full.filter(|_| dense.is_some()),
        embeddings,
        spread(&[(full, WINNING), (full, RANDOM), (dense, WINNING), (dense, RANDOM)]),
    ));
    out
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
        return Claim::measured(claim, paper, rule, &ScaleData::missing("not run at this scale"), None);
    };
    let diffs = differences(a, ka, b, kb);
    let trials = diffs.first().map_or(0, |d| d.1.len());
    let per_trial: Vec<f64> = (0..trials).map(|t| diffs.iter().map(|d| d.1[t]).sum::<f64>() / diffs.len() as f64).collect();
    let above = diffs.iter().filter(|d| Stat::mean_of(&d.1).is_some_and(|m| m > 0.0)).count();
    let c = &a.config;
    let setting = a.measured_as(format!("{}, {}, {} games, {} levels, {}", a.results.scale, a.trials_text(), c.train.iterations, c.levels, c.dataset.as_str()));
    let ours = Stat::mean_of(&per_trial).map(|m| (format!("{m:+.1} reward (mean of {} pruned levels; above 0 at {above})", diffs.len()), m));
    let spread = Spread::of(&[&per_trial]).in_units("reward");
    Claim::measured(claim, paper, rule, &setting, ours).with_spread(spread)
}
