//! Frankle & Carbin's headline claims beside ours, each with the tolerance it is judged by.
//!
//! Tolerances, chosen before looking at our numbers and stated in every row:
//! - an effect the paper reports with a size ("38 % earlier", "2.51× faster", "+0.5 pp") agrees
//!   when ours has the same direction and at least half the paper's size (a reviewer would call
//!   a quarter of the effect a failure to reproduce, and more than the paper's a reproduction of
//!   the claim whose magnitude we then discuss);
//! - "back to the dense network" agrees within ±25 % of the dense early-stop iteration and
//!   ±0.3 pp of its accuracy (the spread between trials at `small`);
//! - "drops below dense" agrees when ours is below dense;
//! - an effect the paper states without a size (Figure 1's random sparse networks "the sparser,
//!   the slower", Figure 4c's one-shot tickets over a range of Pm) agrees when ours has its
//!   direction — over a range, at every level of ours inside it.
//!
//! Conv-2/4/6 rows are not judged at a scale whose training ends before the dense network's
//! validation loss has stopped falling (then no early stopping can be observed at all).

use crate::presets::{Loaded, Net, Results};
use anyhow::Result;
use common::aggregate::{LevelSummary, Stat};
use common::config::BranchKind;
use common::imp::StageKind;
use harness::claims::{pp, Cmp};
use harness::{Claim, Spread, Tolerance, Verdict};

fn row(rows: &[LevelSummary], level: u32, kind: StageKind) -> Option<&LevelSummary> {
    rows.iter().find(|r| r.level == level && r.kind == kind)
}

/// The Pm values the paper quotes for LeNet (levels 7, 9 and 15 of its ladder).
const PM_21: f64 = 21.1;
const PM_13: f64 = 13.5;
const PM_3_6: f64 = 3.6;

/// The level whose trunk density is the quoted Pm (within 0.1 pp), if the results reach it.
fn level_at(rows: &[LevelSummary], pm: f64) -> Option<u32> {
    rows.iter().filter(|r| r.kind == StageKind::Main).find(|r| (r.percent_remaining - pm).abs() < 0.1).map(|r| r.level)
}

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let mut out = match results.get(Net::Lenet.name()) {
        Some(l) => lenet(l)?,
        None => Vec::new(),
    };
    for (net, paper_speed, speed, paper_acc, gain) in [
        (Net::Conv2, "3.5× (Pm 8.8 %)", 3.5, "+3.4 pp (Pm 4.6 %)", 0.034),
        (Net::Conv4, "3.5× (Pm 9.2 %)", 3.5, "+3.5 pp (Pm 11.1 %)", 0.035),
        (Net::Conv6, "2.5× (Pm 15.1 %)", 2.5, "+3.3 pp (Pm 26.4 %)", 0.033),
    ] {
        let Some(l) = results.get(net.name()) else { continue };
        let rows = l.summary()?;
        let setting = l.setting();
        let Some(dense) = row(&rows, 0, StageKind::Main) else { continue };
        let mains: Vec<&LevelSummary> = rows.iter().filter(|r| r.kind == StageKind::Main && r.level > 0).collect();
        let best_speed =
            mains.iter().map(|r| (dense.early_stop_iteration.mean / r.early_stop_iteration.mean, r.percent_remaining)).max_by(|a, b| a.0.total_cmp(&b.0));
        let best_acc =
            mains.iter().map(|r| (r.early_stop_test_acc.mean - dense.early_stop_test_acc.mean, r.percent_remaining)).max_by(|a, b| a.0.total_cmp(&b.0));
        // Early stopping is only observable when the dense minimum lies inside training.
        let last_eval = dense.early_stop_iteration.max >= l.config.train.iterations as f64;
        let mut judged = |claim: String, paper: &str, effect: f64, ours: Option<(String, f64)>| {
            // One trial: `setting` already makes the row say "1 trial".
            let mut c = Claim::measured(&claim, paper, Tolerance::half_of(effect), &setting, ours);
            if last_eval && c.is_measured() {
                c.verdict = Verdict::NotJudged("dense validation loss still falling at the last evaluation".into());
            }
            out.push(c);
        };
        judged(
            format!("{}: best early-stop speed-up", net.label()),
            paper_speed,
            speed - 1.0,
            best_speed.map(|(x, pm)| (format!("{x:.2}× (Pm {pm:.1} %)"), x - 1.0)),
        );
        judged(
            format!("{}: best test-accuracy gain at early stop", net.label()),
            paper_acc,
            gain,
            best_acc.map(|(g, pm)| (format!("{} (Pm {pm:.1} %)", pp(g)), g)),
        );
    }
    Ok(out)
}

/// The Pm ranges of Figure 4c's one-shot claims: earlier early stop than dense for
/// 67.5 % ≥ Pm ≥ 17.6 %, higher test accuracy for 95.0 % ≥ Pm ≥ 5.17 %. Our one-shot levels
/// sit on the iterative ladder, so a row judges every one-shot level inside the range.
const ONESHOT_FASTER: (f64, f64) = (17.6, 67.5);
const ONESHOT_BETTER: (f64, f64) = (5.17, 95.0);

/// LeNet's rows: Figure 3 (iterative tickets and their reinitialisations), Figure 1 (random
/// sparse networks, the dashed lines) and Figure 4 (accuracy at the end of training, one-shot).
fn lenet(l: &Loaded) -> Result<Vec<Claim>> {
    let mut out = Vec::new();
    let rows = l.summary()?;
    let setting = l.setting();
    let at = |pm, kind| level_at(&rows, pm).and_then(|lv| row(&rows, lv, kind));
    let main = |pm| at(pm, StageKind::Main);
    let reinit = |pm| at(pm, StageKind::Branch(BranchKind::REINIT));
    let random = |pm| at(pm, StageKind::Branch(BranchKind::RANDOM_PRUNE));
    let dense = row(&rows, 0, StageKind::Main);
    let es = |r: &LevelSummary| r.early_stop_iteration.mean;
    let acc = |r: &LevelSummary| r.early_stop_test_acc.mean;
    let fin = |r: &LevelSummary| r.final_test_acc.mean;
    // Spreads between trials: of the compared accuracies (the widest min–max range), and of
    // an early-stop iteration relative to `of`'s mean (in the units of a ratio).
    let one = |rows: &[Option<&LevelSummary>]| rows.iter().flatten().all(|r| r.samples <= 1);
    let stat_spread = |rows: &[Option<&LevelSummary>], stat: fn(&LevelSummary) -> &Stat| {
        if one(rows) {
            return Spread::OneTrial;
        }
        Spread::Measured(rows.iter().flatten().map(|r| stat(r).max - stat(r).min).fold(0.0, f64::max))
    };
    let acc_spread = |rows: &[Option<&LevelSummary>]| stat_spread(rows, |r| &r.early_stop_test_acc);
    let es_spread = |rows: &[Option<&LevelSummary>], of: Option<&LevelSummary>| match of {
        Some(of) if !one(rows) => {
            Spread::Ratio(rows.iter().flatten().map(|r| (r.early_stop_iteration.max - r.early_stop_iteration.min) / es(of)).fold(0.0, f64::max))
        }
        _ => Spread::OneTrial,
    };
    // A row on the early-stop accuracy of `subject` minus `of`'s, with their spread.
    let acc_gap = |claim: &str, paper: &str, tolerance: Tolerance, of: Option<&LevelSummary>, subject: Option<&LevelSummary>| {
        Claim::measured(claim, paper, tolerance, &setting, of.zip(subject).map(|(o, t)| (pp(acc(t) - acc(o)), acc(t) - acc(o))))
            .with_spread(acc_spread(&[of, subject]))
    };
    // Figure 3: iterative winning tickets and their random reinitialisations.
    out.push(
        Claim::measured(
            "LeNet: early stop earlier at Pm 21.1 % than dense",
            "38 % earlier",
            Tolerance::half_of(0.38),
            &setting,
            dense.zip(main(PM_21)).map(|(d, t)| {
                let e = 1.0 - es(t) / es(d);
                (format!("{:.0} % earlier ({:.0} vs {:.0} it)", 100.0 * e, es(t), es(d)), e)
            }),
        )
        .with_spread(es_spread(&[dense, main(PM_21)], dense)),
    );
    out.push(
        Claim::measured(
            "LeNet: ticket vs reinit at Pm 21.1 %, early-stop speed",
            "2.51× faster",
            // The effect is the speed-up beyond 1×.
            Tolerance::half_of(1.51),
            &setting,
            main(PM_21).zip(reinit(PM_21)).map(|(t, r)| {
                let x = es(r) / es(t);
                (format!("{x:.2}× faster ({:.0} vs {:.0} it)", es(t), es(r)), x - 1.0)
            }),
        )
        .with_spread(es_spread(&[main(PM_21), reinit(PM_21)], main(PM_21))),
    );
    out.push(acc_gap("LeNet: ticket vs reinit at Pm 21.1 %, test accuracy at early stop", "+0.5 pp", Tolerance::half_of(0.005), reinit(PM_21), main(PM_21)));
    out.push(acc_gap("LeNet: test accuracy gain at Pm 13.5 % over dense", "> +0.3 pp", Tolerance::half_of(0.003), dense, main(PM_13)));
    out.push(
        Claim::measured(
            "LeNet: early stop back to dense near Pm 3.6 %",
            "≈ 1.0× dense",
            Tolerance::Ratio { lo: 0.75, hi: 1.25, of: "dense" },
            &setting,
            dense.zip(main(PM_3_6)).map(|(d, t)| {
                let x = es(t) / es(d);
                (format!("{x:.2}× dense ({:.0} vs {:.0} it)", es(t), es(d)), x)
            }),
        )
        .with_spread(es_spread(&[dense, main(PM_3_6)], dense)),
    );
    out.push(acc_gap("LeNet: accuracy back to dense near Pm 3.6 %", "≈ dense", Tolerance::Within { max: 0.003, of: "dense" }, dense, main(PM_3_6)));
    out.push(
        Claim::measured(
            "LeNet: reinit accuracy below dense from Pm 21.1 %",
            "below dense at 21.1 %",
            Tolerance::Below { of: "dense" },
            &setting,
            dense.zip(reinit(PM_21)).map(|(d, r)| (format!("{} at 21.1 %", pp(acc(r) - acc(d))), acc(r) - acc(d))),
        )
        .with_spread(acc_spread(&[dense, reinit(PM_21)])),
    );
    // Figure 1's dashed lines: "the sparser the network, the slower the learning and the lower
    // the eventual test accuracy" of randomly sampled sparse networks, and winning tickets
    // (the solid lines) learning faster than them. The paper gives these without a size, so
    // a row asks for the direction; we judge them at two Pm the paper quotes.
    out.push(
        Claim::measured(
            "LeNet: random sparse network at Pm 3.6 % learns slower than dense (Fig 1)",
            "slower (\"the sparser, the slower\")",
            Tolerance::Margin { subject: "", cmp: Cmp::Over, of: "1× dense", margin: 0.0 },
            &setting,
            dense.zip(random(PM_3_6)).map(|(d, r)| {
                let x = es(r) / es(d);
                (format!("{x:.2}× dense ({:.0} vs {:.0} it)", es(r), es(d)), x - 1.0)
            }),
        )
        .with_spread(es_spread(&[dense, random(PM_3_6)], dense)),
    );
    out.push(acc_gap(
        "LeNet: random sparse network at Pm 3.6 % less accurate than dense (Fig 1)",
        "lower",
        Tolerance::Below { of: "dense" },
        dense,
        random(PM_3_6),
    ));
    out.push(
        Claim::measured(
            "LeNet: ticket vs random sparse network at Pm 21.1 %, early-stop speed (Fig 1)",
            "faster",
            Tolerance::Margin { subject: "", cmp: Cmp::Over, of: "1×", margin: 0.0 },
            &setting,
            main(PM_21).zip(random(PM_21)).map(|(t, r)| {
                let x = es(r) / es(t);
                (format!("{x:.2}× faster ({:.0} vs {:.0} it)", es(t), es(r)), x - 1.0)
            }),
        )
        .with_spread(es_spread(&[main(PM_21), random(PM_21)], main(PM_21))),
    );
    // Figure 4b: test accuracy at the last iteration, best iterative ticket over dense.
    let best_final = rows.iter().filter(|r| r.kind == StageKind::Main && r.level > 0).max_by(|a, b| fin(a).total_cmp(&fin(b)));
    out.push(
        Claim::measured(
            "LeNet: best ticket's test accuracy at the end of training over dense (Fig 4b)",
            "up to +0.35 pp",
            Tolerance::half_of(0.0035),
            &setting,
            dense.zip(best_final).map(|(d, t)| (format!("{} (Pm {:.1} %)", pp(fin(t) - fin(d)), t.percent_remaining), fin(t) - fin(d))),
        )
        .with_spread(stat_spread(&[dense, best_final], |r| &r.final_test_acc)),
    );
    // Figure 4c: one-shot pruning, every one-shot level inside the paper's Pm range.
    let oneshot_in = |(lo, hi): (f64, f64)| -> Option<Vec<&LevelSummary>> {
        let levels: Vec<&LevelSummary> =
            rows.iter().filter(|r| r.kind == StageKind::Branch(BranchKind::ONESHOT) && (lo..=hi).contains(&r.percent_remaining)).collect();
        (!levels.is_empty()).then_some(levels)
    };
    let pm_range = |levels: &[&LevelSummary]| format!("Pm {:.1}–{:.1} %", levels[0].percent_remaining, levels[levels.len() - 1].percent_remaining);
    fn with_dense<'a>(levels: &[&'a LevelSummary], dense: Option<&'a LevelSummary>) -> Vec<Option<&'a LevelSummary>> {
        levels.iter().map(|r| Some(*r)).chain([dense]).collect()
    }
    // At `paper` Figure 4 trains trial by trial: until every trial of the dense network has its
    // one-shot stages, a row shows ours from the trials so far and waits for the rest.
    let wait_for_trials = |mut claim: Claim, levels: &Option<Vec<&LevelSummary>>| -> Claim {
        let so_far = levels.as_ref().and_then(|l| l.iter().map(|r| r.samples).min());
        if let (Some(d), Some(n)) = (dense, so_far) {
            if claim.is_measured() && n < d.samples {
                claim.verdict = Verdict::NotJudged(format!("one-shot stages in {n} of the {} trials so far", d.samples));
            }
        }
        claim
    };
    let faster = oneshot_in(ONESHOT_FASTER);
    out.push(wait_for_trials(
        Claim::measured(
            "LeNet: one-shot tickets stop earlier than dense at every Pm in 17.6–67.5 % (Fig 4c)",
            "earlier for 67.5 % ≥ Pm ≥ 17.6 %",
            Tolerance::Margin { subject: "slowest", cmp: Cmp::Under, of: "1× dense", margin: 0.0 },
            &setting,
            dense.zip(faster.as_ref()).map(|(d, levels)| {
                let x = levels.iter().map(|r| es(r) / es(d)).fold(f64::NEG_INFINITY, f64::max);
                (format!("slowest {x:.2}× dense ({} levels, {})", levels.len(), pm_range(levels)), x - 1.0)
            }),
        )
        .with_spread(faster.as_ref().map_or(Spread::OneTrial, |levels| es_spread(&with_dense(levels, dense), dense))),
        &faster,
    ));
    let better = oneshot_in(ONESHOT_BETTER);
    out.push(wait_for_trials(
        Claim::measured(
            "LeNet: one-shot tickets more accurate than dense at every Pm in 5.17–95.0 % (Fig 4c)",
            "higher for 95.0 % ≥ Pm ≥ 5.17 %",
            Tolerance::Margin { subject: "least", cmp: Cmp::Over, of: "dense", margin: 0.0 },
            &setting,
            dense.zip(better.as_ref()).map(|(d, levels)| {
                let gap = levels.iter().map(|r| acc(r) - acc(d)).fold(f64::INFINITY, f64::min);
                (format!("least {} ({} levels, {})", pp(gap), levels.len(), pm_range(levels)), gap)
            }),
        )
        .with_spread(better.as_ref().map_or(Spread::OneTrial, |levels| acc_spread(&with_dense(levels, dense)))),
        &better,
    ));
    Ok(out)
}
