//! The paper's headline claims beside ours, each with the tolerance it is judged by.
//!
//! Tolerances, fixed before looking at our numbers and stated in every row:
//! - stable / unstable: the paper's own threshold, a test-error barrier below / at least 2 %
//!   (mean over pairs);
//! - "stable early in training": the first k of our grid at which the dense network is stable
//!   lies within 10 % of training (the paper: ResNet-20 at k = 2000 of 63K, 3 %; VGG-16 at
//!   1000, 1.5 %);
//! - matching: the paper's own threshold (§4.4), mean final test accuracy of the subnetwork's
//!   copies at least the dense reference's minus 0.2 percentage points. The dense reference is
//!   the mean of every dense network the variant's runs trained ([`harness::dense_accuracies`]:
//!   the trunk and the dense copies spawned at every k, all trials), and the row shows the
//!   trials' spread; a verdict closer to its boundary than that spread is "within noise";
//! - "matching only when stable": no sparse point (network, k, IMP / random pruning / random
//!   reinit) that is matching without being stable.

use crate::figures::{self, MATCHING, SPARSE_KINDS, STABLE};
use crate::presets::{Loaded, Net, Recipe, Results, Variant};
use anyhow::Result;
use common::aggregate::Stat;
use common::config::BranchKind;
use common::interpolate::PairRecord;
use harness::claims::{pct, pp, Cmp};
use harness::{Claim, ScaleData, Spread, Tolerance};

/// Mean test instability of the pairs of `kind` at `level`.
fn instability(l: &Loaded, level: u32, kind: BranchKind) -> Option<f64> {
    Stat::mean_of(&figures::pairs(l, level, kind).into_iter().map(PairRecord::test_instability).collect::<Vec<_>>())
}

/// The paper's stability threshold: the test-error barrier (mean over pairs) compared with 2 %.
fn barrier(cmp: Cmp) -> Tolerance {
    Tolerance::Margin { subject: "test-error barrier", cmp, of: "the paper's 2 % threshold", margin: 0.0 }
}

/// One variant's experiments, by k.
struct Runs<'a> {
    variant: Variant,
    by_k: Vec<(u64, &'a Loaded)>,
}

impl<'a> Runs<'a> {
    fn at(&self, k: u64) -> Option<&'a Loaded> {
        self.by_k.iter().find(|(kk, _)| *kk == k).map(|(_, l)| *l)
    }

    fn setting(&self) -> ScaleData {
        ScaleData::of(self.by_k.first().map(|(_, l)| *l))
    }

    /// Final test accuracies of every dense network the variant's runs trained.
    fn dense(&self) -> Vec<f64> {
        harness::dense_accuracies(&self.by_k.iter().map(|(_, l)| *l).collect::<Vec<_>>())
    }

    /// Dense instability at k, judged against `unstable` (true: the paper finds it unstable).
    fn dense_claim(&self, k: u64, paper: &str, unstable: bool) -> Claim {
        let what = if unstable { "unstable" } else { "stable" };
        Claim::measured(
            &format!("{} (dense): {what} at k = {k}", self.variant.label()),
            paper,
            barrier(if unstable { Cmp::AtLeast } else { Cmp::Under }),
            &self.setting(),
            self.at(k).and_then(|l| instability(l, 0, BranchKind::SPAWN)).map(|x| (pct(x), x - STABLE)),
        )
        .with_spread(Spread::of(&[&self
            .at(k)
            .map(|l| figures::pairs(l, 0, BranchKind::SPAWN).into_iter().map(PairRecord::test_instability).collect::<Vec<_>>())
            .unwrap_or_default()]))
    }

    /// The dense network becomes stable within 10 % of training.
    fn stable_early_claim(&self, paper: &str) -> Claim {
        let first_stable = self.by_k.iter().find(|(_, l)| instability(l, 0, BranchKind::SPAWN).is_some_and(|x| x < STABLE));
        Claim::measured(
            &format!("{} (dense): stable early in training", self.variant.label()),
            paper,
            Tolerance::Margin { subject: "first stable k", cmp: Cmp::AtMost, of: "10 % of training", margin: 0.0 },
            &self.setting(),
            (self.by_k.len() > 1).then(|| match first_stable {
                Some((k, l)) => {
                    let f = *k as f64 / l.config.train.iterations as f64;
                    (format!("from k = {k} ({:.0} % of training)", 100.0 * f), f - 0.10)
                }
                // Never stable: no k is early enough (a non-finite number never agrees).
                None => (format!("not stable at any k up to {}", self.by_k.last().map_or(0, |(k, _)| *k)), f64::INFINITY),
            }),
        )
    }

    /// IMP subnetworks rewound to k at the variant's sparsity: matching (and stable) or not.
    fn imp_claim(&self, k: u64, paper: &str, matching_expected: bool) -> Claim {
        let l = self.at(k).filter(|l| self.variant.sparse_at(&l.config.scale));
        let density = l.and_then(|l| l.results.records.iter().find(|r| r.level == l.config.levels && r.level > 0).map(|r| r.density));
        let at = density.map_or_else(|| format!("{:.1} %", 100.0 * 0.8f64.powi(self.variant.sparse_level() as i32)), |d| format!("{:.1} %", 100.0 * d));
        let dense = self.dense();
        let copies = l.map(|l| figures::accuracies(l, l.config.levels, BranchKind::SPAWN)).unwrap_or_default();
        let judged = l.and_then(|l| {
            let networks = dense.len();
            let dense = Stat::mean_of(&dense)?;
            let acc = Stat::mean_of(&copies)?;
            let inst = instability(l, l.config.levels, BranchKind::SPAWN)?;
            let values = if matching_expected { vec![acc - dense, inst - STABLE] } else { vec![acc - dense] };
            Some((acc - dense, format!("{} vs dense ({networks} networks), instability {}", pp(acc - dense), pct(inst)), values))
        });
        let matching = |cmp| Tolerance::Margin { subject: "", cmp, of: "dense", margin: -MATCHING };
        let rules = if matching_expected { vec![matching(Cmp::AtLeast), barrier(Cmp::Under)] } else { vec![matching(Cmp::Under)] };
        let what = if matching_expected { "matching and stable" } else { "not matching" };
        let claim = Claim::all_of(
            &format!("{} IMP at {at}, k = {k}: {what}", self.variant.label()),
            paper,
            &rules,
            &self.setting(),
            judged.as_ref().map(|(_, text, values)| (text.clone(), values.clone())),
        );
        // The accuracy side of the rule is the one trials move; its distance to the boundary.
        claim.with_noise(judged.map_or(0.0, |(d, ..)| d + MATCHING), Spread::of(&[&copies, &dense]))
    }
}

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let runs = |variant: Variant| Runs { variant, by_k: figures::by_k(results, variant) };
    let lenet = runs(Variant::LENET);
    let resnet = runs(Variant::RESNET20);
    let vgg = runs(Variant { net: Net::Vgg16, recipe: Recipe::Standard });
    let mut out = vec![
        lenet.dense_claim(0, "instability ≈ 0 (< 2 %)", false),
        resnet.dense_claim(0, "error rises toward chance on the path", true),
        resnet.stable_early_claim("from k = 2000 (3 % of training)"),
        vgg.dense_claim(0, "error rises toward chance on the path", true),
        vgg.stable_early_claim("from k = 1000 (1.5 % of training)"),
        lenet.imp_claim(0, "matching and stable", true),
    ];

    // LeNet's controls at k = 0.
    let l0 = lenet.at(0).filter(|l| l.config.levels > 0);
    let lenet_dense = lenet.dense();
    let control = |kind| l0.map(|l| figures::accuracies(l, l.config.levels, kind)).unwrap_or_default();
    let (pruned, reinit) = (control(BranchKind::SPAWN_RANDOM_PRUNE), control(BranchKind::SPAWN_REINIT));
    let controls = (|| {
        let dense = Stat::mean_of(&lenet_dense)?;
        Some((Stat::mean_of(&pruned)? - dense, Stat::mean_of(&reinit)? - dense))
    })();
    out.push(
        Claim::all_of(
            "LeNet-300-100 at its IMP sparsity, k = 0: random pruning and random reinit not matching",
            "below dense − 0.2 pp (Fig. 6; papers.md §6.4)",
            &["random pruning", "random reinit"].map(|subject| Tolerance::Margin { subject, cmp: Cmp::Under, of: "dense", margin: -MATCHING }),
            &lenet.setting(),
            controls.map(|(p, r)| (format!("random pruning {}, reinit {}", pp(p), pp(r)), vec![p, r])),
        )
        .with_spread(Spread::of(&[&pruned, &reinit, &lenet_dense])),
    );

    // Matching only when stable, over every sparse point present.
    let mut points = 0;
    let mut violations = Vec::new();
    for variant in Variant::ALL {
        let dense = Stat::mean_of(&runs(variant).dense());
        for (k, l) in figures::by_k(results, variant) {
            if !variant.sparse_at(&l.config.scale) || l.config.levels == 0 {
                continue;
            }
            let (level, Some(dense)) = (l.config.levels, dense) else { continue };
            for (kind, label) in SPARSE_KINDS {
                let (Some(acc), Some(inst)) = (Stat::mean_of(&figures::accuracies(l, level, kind)), instability(l, level, kind)) else { continue };
                points += 1;
                if acc >= dense - MATCHING && inst >= STABLE {
                    violations.push(format!("{} {label} k = {k}", variant.label()));
                }
            }
        }
    }
    out.push(Claim::judged(
        "Sparse subnetworks are matching only when stable",
        "no matching subnetwork is unstable",
        "no point matching and unstable",
        &lenet.setting(),
        (points > 0).then(|| {
            let ours =
                if violations.is_empty() { format!("0 of {points} points") } else { format!("{} of {points}: {}", violations.len(), violations.join(", ")) };
            (ours, violations.is_empty())
        }),
    ));

    // The CIFAR networks at paper scale: standard recipes need rewinding, low-rate and warmup
    // recipes match at k = 0 (§6.4).
    out.push(resnet.imp_claim(0, "not matching (no better than random pruning)", false));
    out.push(resnet.imp_claim(500, "matching and stable", true));
    out.push(vgg.imp_claim(0, "not matching (no better than random pruning)", false));
    out.push(vgg.imp_claim(1000, "matching and stable", true));
    for variant in Variant::ALL.into_iter().filter(|v| v.recipe != Recipe::Standard) {
        out.push(runs(variant).imp_claim(0, "matching and stable at k = 0", true));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::claims;
    use crate::presets::{Experiment, Results, Variant};
    use common::config::BranchKind;
    use common::imp::StageKind;
    use harness::testkit::{committed_small, set_accuracy};
    use harness::Verdict;

    /// LeNet's dense networks at `trunk` (every k's trunk: the same network) and `copies` (the
    /// dense copies spawned at every k), its IMP copies at k = 0 at `imp`.
    fn hand_made(trunk: f64, copies: f64, imp: f64) -> Results {
        let mut results = committed_small(&crate::LinearModeConnectivity, env!("CARGO_MANIFEST_DIR"));
        for l in results.values_mut().filter(|l| l.spec.id.variant == Variant::LENET) {
            set_accuracy(l, 0, StageKind::Main, &[trunk]);
            let spawn = StageKind::Branch(l.branch(BranchKind::SPAWN));
            set_accuracy(l, 0, spawn, &[copies]);
            if l.spec.id == (Experiment { variant: Variant::LENET, k: 0 }) {
                let level = l.config.levels;
                set_accuracy(l, level, spawn, &[imp]);
            }
        }
        results
    }

    fn imp_row(results: &Results) -> harness::Claim {
        claims(results).unwrap().into_iter().find(|c| c.claim.starts_with("LeNet-300-100 IMP at")).expect("the LeNet IMP row")
    }

    /// One dense network no longer decides "matching": against the trunk alone (99 %) IMP at
    /// 97.45 % is 1.55 pp short; against all 51 dense networks of the 3 committed trials (each
    /// trial's trunk once, 48 copies at 97.5 %: mean 97.59 %) it is 0.14 pp short, and the trunk's outlying draw makes the spread
    /// 1.5 pp — within noise, not a disagreement. With every dense network at 97.5 %, it matches.
    #[test]
    fn matching_is_judged_against_every_dense_network_the_run_trained() {
        let row = imp_row(&hand_made(0.99, 0.975, 0.9745));
        assert!(row.ours.starts_with("-0.14 pp vs dense (51 networks)"), "{}", row.ours);
        assert_eq!(row.spread.text(), "1.50 pp");
        assert!(matches!(row.verdict, Verdict::WithinNoise(_)), "{:?}", row.verdict);
        let row = imp_row(&hand_made(0.975, 0.975, 0.9745));
        assert_eq!(row.verdict, Verdict::Agrees);
        assert_eq!(imp_row(&hand_made(0.975, 0.975, 0.97)).verdict, Verdict::Disagrees);
    }
}
