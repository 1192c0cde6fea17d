//! The paper's headline claims (papers.md §3.3, recomputed from the authors' released data)
//! beside ours, each with the tolerance it is judged by, fixed before looking at our numbers:
//! - "beats": a larger mean accuracy change over trials (any margin: the paper's claims are
//!   orderings);
//! - WR "collapses" at t = T: at least 0.9 pp below WR at t = 0.9·T (half of ResNet-56's
//!   −1.88 vs −0.10 pp at 4.77×) — a ResNet claim: on LeNet, rewinding to θ_0 is the lottery
//!   ticket hypothesis itself, which works there, so LeNet's row is "not applicable";
//! - LRR "does not collapse": within 0.5 pp of LRR at t = 0.9·T;
//! - "matches the dense network": a change of at least −0.25 pp (the paper's ResNet-20 is +0.17
//!   at 4.77× and −0.24 at 7.45×).
//!
//! One-shot claims are judged at 4.77× (level 7), the compression the paper's examples use.
//! Every accuracy is the run's test accuracy at its best-validation evaluation, as the paper
//! selects it ([`crate::figures::selected_accuracy`]); the paper then takes the median of 3
//! trials, we the mean (the same for `small`'s 1–2 trials). Each row shows the spread between
//! trials of the changes it compares; a verdict closer to its boundary than that is "within
//! noise".

use crate::figures::{deltas, get};
use crate::presets::{Net, Results, Setting};
use common::aggregate::Stat;
use common::config::{BranchKind, Retrain};
use common::imp::Stage;
use harness::claims::{pp, Cmp};
use harness::{Claim, Spread, Tolerance, Verdict};

const ONESHOT_LEVEL: u32 = 7;

/// "`a` beats `b`": a larger mean accuracy change, by any margin.
fn beats(a: &'static str, b: &'static str) -> Tolerance {
    Tolerance::Margin { subject: a, cmp: Cmp::Over, of: b, margin: 0.0 }
}

const ITERATIVE_MATCH_LEVEL: u32 = 7;
const ITERATIVE_LAST_LEVEL: u32 = 10;

pub fn claims(results: &Results) -> anyhow::Result<Vec<Claim>> {
    let mut out = Vec::new();
    for net in Net::ALL {
        let present = |method, budget| get(results, Setting { net, method, budget });
        let Some(setting) = present(Retrain::LrRewind, 100).or(present(Retrain::FineTune, 75)).map(|l| l.setting()) else { continue };
        // One-shot changes at 4.77× of `method` with budget `budget` (% of T), one per trial.
        let oneshot_all = |method, budget| present(method, budget).map(|l| deltas(l, ONESHOT_LEVEL, Stage::Branch(BranchKind::ONESHOT, 0))).unwrap_or_default();
        let oneshot = |method, budget| Stat::mean_of(&oneshot_all(method, budget));
        let iterative_all = |method, budget, level| present(method, budget).map(|l| deltas(l, level, Stage::Main)).unwrap_or_default();
        let iterative = |method, budget, level| Stat::mean_of(&iterative_all(method, budget, level));
        let label = net.label();

        let (ft, wr, lrr) = (oneshot(Retrain::FineTune, 75), oneshot(Retrain::WeightRewind, 75), oneshot(Retrain::LrRewind, 75));
        out.push(
            Claim::all_of(
                &format!("{label}, one-shot 4.77×, t = 0.75·T: WR and LRR beat FT"),
                "both rewinding methods beat FT (ResNet-56, t = 0.82·T: FT −0.71, WR −0.10, LRR −0.10 pp)",
                &[beats("WR", "FT"), beats("LRR", "FT")],
                &setting,
                ft.zip(wr).zip(lrr).map(|((f, w), l)| (format!("FT {}, WR {}, LRR {}", pp(f), pp(w), pp(l)), vec![w - f, l - f])),
            )
            .with_spread(Spread::of(&[
                &oneshot_all(Retrain::FineTune, 75),
                &oneshot_all(Retrain::WeightRewind, 75),
                &oneshot_all(Retrain::LrRewind, 75),
            ])),
        );
        let (wr90, wr100) = (oneshot(Retrain::WeightRewind, 90), oneshot(Retrain::WeightRewind, 100));
        let mut collapse = Claim::measured(
            &format!("{label}, one-shot 4.77×: WR collapses at t = T (rewinding to initialisation)"),
            "ResNet-20 −2.54 pp, ResNet-56 −1.88 pp at t = T (vs −0.10 at 0.82·T)",
            Tolerance::Margin { subject: "WR(T)", cmp: Cmp::AtMost, of: "WR(0.9·T)", margin: -0.009 },
            &setting,
            wr90.zip(wr100).map(|(a, b)| (format!("WR(0.9·T) {}, WR(T) {}", pp(a), pp(b)), b - a)),
        )
        .with_spread(Spread::of(&[&oneshot_all(Retrain::WeightRewind, 90), &oneshot_all(Retrain::WeightRewind, 100)]));
        if net == Net::Lenet && wr90.is_some() {
            collapse.verdict =
                Verdict::NotJudged("not applicable: a ResNet claim; on LeNet rewinding to θ_0 is the lottery ticket hypothesis, which holds there".into());
        }
        out.push(collapse);
        let (lrr90, lrr100) = (oneshot(Retrain::LrRewind, 90), oneshot(Retrain::LrRewind, 100));
        out.push(
            Claim::measured(
                &format!("{label}, one-shot 4.77×: LRR does not collapse at t = T"),
                "ResNet-56 −0.41 pp at t = T",
                Tolerance::Margin { subject: "LRR(T)", cmp: Cmp::AtLeast, of: "LRR(0.9·T)", margin: -0.005 },
                &setting,
                lrr90.zip(lrr100).map(|(a, b)| (format!("LRR(0.9·T) {}, LRR(T) {}", pp(a), pp(b)), b - a)),
            )
            .with_spread(Spread::of(&[&oneshot_all(Retrain::LrRewind, 90), &oneshot_all(Retrain::LrRewind, 100)])),
        );
        let at_t: Vec<(Retrain, Option<f64>)> = [Retrain::FineTune, Retrain::WeightRewind, Retrain::LrRewind, Retrain::LowLrWeightRewind, Retrain::Reinit]
            .into_iter()
            .map(|m| (m, oneshot(m, 100)))
            .collect();
        let low = oneshot(Retrain::LowLrWeightRewind, 100);
        let others = at_t.iter().filter(|(m, _)| *m != Retrain::LowLrWeightRewind).filter_map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
        let methods_at_t: Vec<Vec<f64>> = at_t.iter().map(|(m, _)| oneshot_all(*m, 100)).collect();
        out.push(
            Claim::measured(
                &format!("{label}, one-shot 4.77×, t = T: low-LR weight rewinding is worst"),
                "worst of the methods, very bad at large t",
                Tolerance::Margin { subject: "low-LR WR", cmp: Cmp::AtMost, of: "the other four methods' lowest mean change", margin: 0.0 },
                &setting,
                (at_t.iter().all(|(_, v)| v.is_some())).then(|| {
                    let low = low.unwrap_or(f64::NAN);
                    (format!("low-LR WR {}, the others' lowest {}", pp(low), pp(others)), low - others)
                }),
            )
            .with_spread(Spread::of(&methods_at_t.iter().map(Vec::as_slice).collect::<Vec<_>>())),
        );
        let lrr_it = iterative(Retrain::LrRewind, 100, ITERATIVE_MATCH_LEVEL);
        out.push(
            Claim::measured(
                &format!("{label}, iterative LRR (t = T): matches the dense network through 4.77×"),
                "ResNet-20 +0.57 … +0.17 pp from 1.95× to 4.77×, ResNet-56 ≥ +0.04 pp to 9.31×",
                Tolerance::Margin { subject: "LRR at 4.77×", cmp: Cmp::AtLeast, of: "dense", margin: -0.0025 },
                &setting,
                lrr_it.map(|d| (pp(d), d)),
            )
            .with_spread(Spread::of(&[&iterative_all(Retrain::LrRewind, 100, ITERATIVE_MATCH_LEVEL)])),
        );
        let (l, w, f) = (
            iterative(Retrain::LrRewind, 100, ITERATIVE_LAST_LEVEL),
            iterative(Retrain::WeightRewind, 90, ITERATIVE_LAST_LEVEL),
            iterative(Retrain::FineTune, 100, ITERATIVE_LAST_LEVEL),
        );
        out.push(
            Claim::all_of(
                &format!("{label}, iterative at 9.31×: LRR ≥ WR > FT"),
                "LRR ≥ WR > FT (ResNet-56 at 9.31×: LRR +0.10, WR −0.08 pp; FT −1.48 already at 7.45×)",
                &[Tolerance::Margin { subject: "LRR", cmp: Cmp::AtLeast, of: "WR", margin: 0.0 }, beats("WR", "FT")],
                &setting,
                l.zip(w).zip(f).map(|((l, w), f)| (format!("LRR {}, WR {}, FT {}", pp(l), pp(w), pp(f)), vec![l - w, w - f])),
            )
            .with_spread(Spread::of(&[
                &iterative_all(Retrain::LrRewind, 100, ITERATIVE_LAST_LEVEL),
                &iterative_all(Retrain::WeightRewind, 90, ITERATIVE_LAST_LEVEL),
                &iterative_all(Retrain::FineTune, 100, ITERATIVE_LAST_LEVEL),
            ])),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use harness::testkit::committed_small;
    use harness::Verdict;

    /// Weight rewinding's collapse at t = T is a ResNet claim: LeNet's row says not applicable
    /// (the committed LeNet WR(T) does not collapse), ResNet-20's is judged.
    #[test]
    fn the_wr_collapse_is_judged_on_resnets_only() {
        let claims = super::claims(&committed_small(&crate::Renda, env!("CARGO_MANIFEST_DIR"))).unwrap();
        let row = |net: &str| claims.iter().find(|c| c.claim.starts_with(net) && c.claim.contains("WR collapses")).unwrap().verdict.clone();
        assert!(matches!(row("LeNet-300-100"), Verdict::NotJudged(ref why) if why.starts_with("not applicable")));
        assert!(matches!(row("ResNet-20"), Verdict::Agrees | Verdict::Disagrees | Verdict::WithinNoise(_)));
    }
}
