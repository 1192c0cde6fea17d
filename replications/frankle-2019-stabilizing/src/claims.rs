//! The paper's headline claims beside ours, each with the tolerance it is judged by.
//!
//! Every claim is judged at the variant's claim level (papers.md §2.2 and §6: 16.8 % of weights
//! for ResNet-20 and 5.5 % for VGG-19 at `paper`; 21 %, the deepest level, at `small`), on the
//! mean over trials. Tolerances, fixed before looking at our numbers and stated in every row:
//! - matching: at least the dense reference's test accuracy minus 0.2 percentage points (the
//!   LMC paper's threshold, papers.md §6); not matching: below that. The dense reference is the
//!   mean of every dense network the variant's runs trained ([`harness::dense_accuracies`]: the
//!   trunk and its spawned dense copies, all trials), and the row shows their spread;
//! - "no better than random reinitialisation": IMP at k = 0 at most 1 pp above random reinit;
//! - "the benefit accrues early": the smallest k > 0 of the grid already gains at least half of
//!   what the best k gains over k = 0;
//! - "stabler with rewinding": the L2 distance the paper plots (to the full network's trained
//!   weights for pruning; between two copies for data order) at the late k at most 90 % of
//!   k = 0's. The paper ties it to accuracy ("stabler as accuracy improves"), so where
//!   rewinding to the late k does not raise IMP's accuracy over k = 0 the row is not judged.
//!
//! A verdict closer to its rule's boundary than the trials' spread is "within noise".

use crate::figures::{self, MATCHING};
use crate::presets::{Loaded, Recipe, Results, Variant};
use anyhow::Result;
use common::aggregate::Stat;
use common::config::BranchKind;
use common::imp::StageKind;
use harness::claims::{pct, pp, Cmp};
use harness::{Claim, Scale, ScaleData, Spread, Tolerance};

/// One variant's experiments, by k.
struct Runs<'a> {
    variant: Variant,
    by_k: Vec<(u64, &'a Loaded)>,
}

impl<'a> Runs<'a> {
    fn at(&self, k: u64) -> Option<&'a Loaded> {
        self.by_k.iter().find(|(kk, _)| *kk == k).map(|(_, l)| *l)
    }

    fn scale(&self) -> Scale {
        self.by_k.first().map_or(Scale::Small, |(_, l)| figures::scale_of(&l.config))
    }

    fn level(&self) -> u32 {
        self.variant.claim_level(self.scale())
    }

    fn late_k(&self) -> u64 {
        self.variant.late_k(self.scale())
    }

    fn setting(&self) -> ScaleData {
        ScaleData::of(self.by_k.first().map(|(_, l)| *l))
    }

    /// "ResNet-20 at 16.8 %": the variant and the claim level's density.
    fn at_level(&self) -> String {
        let density = self.by_k.first().and_then(|(_, l)| l.density(self.level())).unwrap_or_else(|| 0.8f64.powi(self.level() as i32));
        format!("{} at {:.1} %", self.variant.label(), 100.0 * density)
    }

    /// Final test accuracies of every dense network the variant's runs trained.
    fn dense(&self) -> Vec<f64> {
        harness::dense_accuracies(&self.by_k.iter().map(|(_, l)| *l).collect::<Vec<_>>())
    }

    /// IMP's accuracies at the claim level, rewound to `k`, one per trial.
    fn imp(&self, k: u64) -> Vec<f64> {
        self.at(k).map(|l| figures::accuracies(l, self.level(), StageKind::Main)).unwrap_or_default()
    }

    /// IMP's mean accuracy at the claim level minus the dense reference's, rewound to `k`.
    fn vs_dense(&self, k: u64) -> Option<f64> {
        Some(Stat::mean_of(&self.imp(k))? - Stat::mean_of(&self.dense())?)
    }

    fn matching_claim(&self, k: u64, paper: &str, expected: bool) -> Claim {
        let what = if expected { "matching" } else { "not matching" };
        let cmp = if expected { Cmp::AtLeast } else { Cmp::Under };
        let dense = self.dense();
        Claim::measured(
            &format!("{}, IMP rewound to k = {k}: {what}", self.at_level()),
            paper,
            Tolerance::Margin { subject: "", cmp, of: "dense", margin: -MATCHING },
            &self.setting(),
            self.vs_dense(k).map(|d| (format!("{} vs dense ({} networks, mean {})", pp(d), dense.len(), pct(Stat::mean_of(&dense).unwrap_or(f64::NAN))), d)),
        )
        .with_spread(Spread::of(&[&self.imp(k), &dense]))
    }

    fn no_better_than_reinit(&self) -> Claim {
        let reinit = self.at(0).map(|l| figures::accuracies(l, self.level(), StageKind::Branch(BranchKind::REINIT))).unwrap_or_default();
        let ours =
            Stat::mean_of(&self.imp(0)).zip(Stat::mean_of(&reinit)).map(|(imp, reinit)| (format!("IMP {} vs random reinit", pp(imp - reinit)), imp - reinit));
        Claim::measured(
            &format!("{}, k = 0: IMP no better than random reinitialisation", self.at_level()),
            "no better than random reinit (papers.md §2.2, §6.4)",
            Tolerance::Margin { subject: "IMP", cmp: Cmp::AtMost, of: "reinit", margin: 0.01 },
            &self.setting(),
            ours,
        )
        .with_spread(Spread::of(&[&self.imp(0), &reinit]))
    }

    /// The paper's claim is conditional ("where IMP fails at iteration 0"): when k = 0 already
    /// matches there is nothing to recover, and the row says so instead of judging.
    fn benefit_accrues_early(&self) -> Claim {
        let gains: Vec<(u64, f64)> = self.by_k.iter().filter_map(|(k, _)| Some((*k, self.vs_dense(*k)?))).collect();
        let ours = match (gains.first(), gains.iter().find(|(k, _)| *k > 0)) {
            (Some(&(0, at0)), Some(&(first_k, at_first))) if gains.len() > 2 => {
                let (best_k, best) = gains.iter().copied().fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
                let (total, early) = (best - at0, at_first - at0);
                let (text, surplus) = if total > 0.0 {
                    (format!("k = {first_k}: {} of the {} gained by k = {best_k}", pp(early), pp(total)), early - 0.5 * total)
                } else {
                    // Nothing gained over k = 0 at any k: no benefit to accrue (never agrees).
                    let each: Vec<String> = gains.iter().filter(|(k, _)| *k > 0).map(|(k, g)| format!("k = {k}: {}", pp(g - at0))).collect();
                    (format!("no k > 0 gains over k = 0 ({})", each.join(", ")), f64::NAN)
                };
                Some((at0, text, surplus))
            }
            _ => None,
        };
        Claim::measured(
            &format!("{}: where k = 0 fails, the benefit of rewinding accrues over the earliest iterations", self.at_level()),
            "most of the gain within the first few hundred iterations (0.1–7 % of training)",
            Tolerance::Margin { subject: "the smallest k > 0's gain over k = 0", cmp: Cmp::AtLeast, of: "half the best k's", margin: 0.0 },
            &self.setting(),
            ours.as_ref().map(|(_, text, surplus)| (text.clone(), *surplus)),
        )
        .provided(
            "IMP at k = 0 is not matching",
            ours.filter(|(at0, ..)| *at0 >= -MATCHING).map(|(at0, ..)| format!("IMP at k = 0 already matches here ({} vs dense)", pp(at0))),
        )
    }

    /// Judged on the L2 distance, as the paper plots it, and only where the late k raises
    /// IMP's accuracy (the paper's claim is that stability grows as accuracy does).
    fn stabler_claim(&self, data_order: bool) -> Claim {
        let late = self.late_k();
        let distances = |k: u64| -> Vec<f64> {
            self.at(k).map_or_else(Vec::new, |l| {
                if data_order {
                    figures::data_order_stability(l, self.level(), false)
                } else {
                    figures::pruning_stability(l, self.level(), false)
                }
            })
        };
        let what = if data_order { "data order" } else { "pruning" };
        let paper = if data_order {
            "IMP subnetworks train more consistently under gradient noise as k grows (L2 distance between copies)"
        } else {
            "IMP subnetworks train to parameters closer to the full network's as k grows (L2 distance)"
        };
        let (d0, dk) = (distances(0), distances(late));
        let accuracy = self.vs_dense(0).zip(self.vs_dense(late));
        Claim::measured(
            &format!("{}: rewinding to k = {late} makes IMP stabler to {what}", self.at_level()),
            paper,
            Tolerance::Ratio { lo: 0.0, hi: 0.9, of: "k = 0's L2 distance" },
            &self.setting(),
            Stat::mean_of(&d0).zip(Stat::mean_of(&dk)).map(|(a, b)| (format!("L2 {a:.2} at k = 0 → {b:.2} at k = {late}"), b / a)),
        )
        .provided(
            "the late k raises accuracy",
            accuracy
                .filter(|(at0, at_late)| at_late <= at0)
                .map(|(at0, at_late)| format!("rewinding to k = {late} does not raise accuracy here ({} → {} vs dense)", pp(at0), pp(at_late))),
        )
    }
}

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let runs = |variant: Variant| Runs { variant, by_k: figures::by_k(results, variant) };
    let mut out = Vec::new();
    for variant in [Variant::RESNET20, Variant::VGG19] {
        let r = runs(variant);
        let late = r.late_k();
        out.push(r.matching_claim(0, "not matching at lr 0.1 without warmup (papers.md §2.2)", false));
        out.push(r.no_better_than_reinit());
        out.push(r.matching_claim(late, "matching (ResNet-20 at k = 500, VGG at 1000; papers.md §2.1)", true));
        out.push(r.benefit_accrues_early());
        out.push(r.stabler_claim(false));
        out.push(r.stabler_claim(true));
    }
    // Under the low learning rate or warmup, k = 0 already works (LTH §4; LMC Table 1).
    for variant in Variant::ALL.into_iter().filter(|v| v.recipe != Recipe::Standard) {
        out.push(runs(variant).matching_claim(0, "matching at k = 0 (low lr / warmup)", true));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::claims;
    use crate::presets::Results;
    use common::imp::StageKind;
    use harness::testkit::{committed_small, set_accuracy};
    use harness::Verdict;

    /// ResNet-20's IMP at the claim level at `at0` when rewound to k = 0 and `late` at k = 100
    /// (the committed L2 distances kept, means of 3 trials: to pruning 10.88 → 7.08, to data order
    /// 7.19 → 6.13).
    fn hand_made(at0: f64, late: f64) -> Results {
        let mut results = committed_small(&crate::Stabilizing, env!("CARGO_MANIFEST_DIR"));
        for (name, value) in [("resnet-20-k0", at0), ("resnet-20-k100", late)] {
            let l = results.get_mut(name).unwrap();
            let level = l.config.levels;
            set_accuracy(l, level, StageKind::Main, &[value]);
        }
        results
    }

    fn stabler(results: &Results, what: &str) -> Verdict {
        claims(results).unwrap().into_iter().find(|c| c.claim.starts_with("ResNet-20 at") && c.claim.ends_with(what)).expect("row").verdict
    }

    /// Judged on the L2 distance the paper plots, and only where rewinding raises accuracy.
    #[test]
    fn stability_is_judged_on_l2_where_accuracy_improves() {
        let improving = hand_made(0.80, 0.85);
        assert_eq!(stabler(&improving, "stabler to pruning"), Verdict::Agrees);
        assert_eq!(stabler(&improving, "stabler to data order"), Verdict::Agrees);
        let row = claims(&improving).unwrap().into_iter().find(|c| c.claim.ends_with("stabler to pruning")).unwrap();
        assert!(row.ours.starts_with("L2 10.88 at k = 0 → 7.08 at k = 100"), "{}", row.ours);
        let Verdict::NotJudged(why) = stabler(&hand_made(0.85, 0.80), "stabler to pruning") else { panic!("judged where accuracy fell") };
        assert!(why.starts_with("rewinding to k = 100 does not raise accuracy here"), "{why}");
    }
}
