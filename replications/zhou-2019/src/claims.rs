//! The paper's headline claims beside ours, each with the tolerance it is judged by.
//!
//! Trained accuracies are test accuracies at early stop, compared at one sparsity per network:
//! 12 rounds (0.8^12 = 6.9 % of LeNet's hidden weights; the deepest level when a run has fewer),
//! mean over trials. Tolerances, fixed before looking at our numbers and stated in every row:
//! - criterion ranking: large_final and magnitude_increase both among the 3 best of the 9
//!   criteria of the paper's figure; small_final, small_init and random each at least 2 pp
//!   below large_final (judged on those a scale runs), at the deepest level the run trains —
//!   the paper's failures are at high sparsity, and the gaps still widen there;
//! - "the sign is what matters": the signed actions' mean at least 1 pp above the unsigned
//!   ones', and every signed action within 2 pp of rewinding;
//! - freezing at w_i at least 1 pp below zero; zeroing the weights that moved toward zero
//!   (Variant 1) as the paper states it: at least the lottery ticket (zero) and above freezing
//!   them all;
//! - untrained supermask on MNIST: the best large_final_same_sign mask (on w_i or on signed
//!   constants, any sparsity) within 10 pp of the paper's 86 %;
//! - learned supermask: within 3 pp of the paper's 95.3 % on MNIST; on CIFAR-10 (dynamic
//!   weight rescaling) at least the trained dense network minus 5 pp (the paper: 1.8–3.2 pp
//!   below).
//!
//! Every row carries the trials' spread of the accuracies it compares (each run's per-trial
//! accuracies at the compared level); a verdict closer to its rule's boundary than that spread
//! is "within noise".

use crate::figures;
use crate::presets::{Ablation, Loaded, Net, Results, LOTTERY};
use anyhow::Result;
use common::aggregate::Stat;
use common::config::BranchKind;
use common::criteria::{Criterion, KeptValues};
use common::ticket::PrunedValues;
use harness::claims::{pct, pp, Cmp};
use harness::{Claim, ScaleData, Spread, Tolerance};

const CLAIM_LEVEL: u32 = 12;

/// One network's experiments.
struct Runs<'a> {
    net: Net,
    all: Vec<(Ablation, &'a Loaded)>,
}

impl<'a> Runs<'a> {
    fn get(&self, a: Ablation) -> Option<&'a Loaded> {
        self.all.iter().find(|(x, _)| *x == a).map(|(_, l)| *l)
    }

    fn level(&self) -> u32 {
        self.get(LOTTERY).map_or(CLAIM_LEVEL, |l| l.config.levels.min(CLAIM_LEVEL))
    }

    /// Trained accuracy of `a` at the claim level.
    fn acc(&self, a: Ablation) -> Option<f64> {
        self.acc_at(a, self.level())
    }

    fn acc_at(&self, a: Ablation, level: u32) -> Option<f64> {
        Stat::mean_of(&figures::trained_accuracy(self.get(a)?, level))
    }

    /// The trials' spread of the accuracies of `ablations` at `level` (those that ran).
    fn spread_at(&self, ablations: &[Ablation], level: u32) -> Spread {
        let trials: Vec<Vec<f64>> = ablations.iter().filter_map(|&a| Some(figures::trained_accuracy(self.get(a)?, level))).collect();
        Spread::of(&trials.iter().map(Vec::as_slice).collect::<Vec<_>>())
    }

    /// The deepest level the lottery ticket's run trains.
    fn deepest(&self) -> u32 {
        self.get(LOTTERY).map_or(CLAIM_LEVEL, |l| l.config.levels)
    }

    /// "LeNet-300-100 at 7.0 %": the network and the density of `level`.
    fn at_level(&self, level: u32) -> String {
        match self.get(LOTTERY).and_then(|l| l.density(level)) {
            Some(density) => format!("{} at {:.1} %", self.net.label(), 100.0 * density),
            None => format!("{} after {level} rounds", self.net.label()),
        }
    }

    fn setting(&self) -> ScaleData {
        ScaleData::of(self.get(LOTTERY))
    }

    fn at(&self) -> String {
        self.at_level(self.level())
    }

    fn criteria_best(&self) -> Claim {
        let ranked: Option<Vec<(Criterion, f64)>> = crate::presets::CRITERIA
            .iter()
            .filter(|&&c| c != Criterion::LargeFinalSameSign)
            .map(|&c| self.acc(Ablation::Criterion(c)).map(|a| (c, a)))
            .collect();
        let ours = ranked.map(|mut r| {
            r.sort_by(|a, b| b.1.total_cmp(&a.1));
            let rank = |c: Criterion| r.iter().position(|x| x.0 == c).map_or(usize::MAX, |p| p + 1);
            let acc = |c: Criterion| r.iter().find(|x| x.0 == c).map_or(f64::NAN, |x| x.1);
            let (lf, mi) = (rank(Criterion::LargeFinal), rank(Criterion::MagnitudeIncrease));
            let top: Vec<String> = r.iter().take(3).map(|(c, a)| format!("{} {}", Ablation::Criterion(*c).label(), pct(*a))).collect();
            // Both are among the 3 best of 9 exactly when the weaker of the two is at least the
            // second best of the other seven: that criterion is the boundary.
            let weaker = acc(Criterion::LargeFinal).min(acc(Criterion::MagnitudeIncrease));
            let boundary = r.iter().filter(|(c, _)| ![Criterion::LargeFinal, Criterion::MagnitudeIncrease].contains(c)).nth(1).copied();
            // The spread of what decides the verdict: the two and the criterion at the boundary.
            let deciding: Vec<Ablation> =
                [Criterion::LargeFinal, Criterion::MagnitudeIncrease].into_iter().chain(boundary.map(|b| b.0)).map(Ablation::Criterion).collect();
            (format!("large_final #{lf}, magnitude_increase #{mi} of 9; top 3: {}", top.join(", ")), weaker - boundary.map_or(f64::NAN, |b| b.1), deciding)
        });
        let compared = ours.as_ref().map_or(Vec::new(), |o| o.2.clone());
        Claim::measured(
            &format!("{}: large_final and magnitude_increase are the best criteria", self.at()),
            "best of the criteria (papers.md §4.2)",
            Tolerance::Margin {
                subject: "the weaker of large_final and magnitude_increase",
                cmp: Cmp::AtLeast,
                of: "the second best of the other seven (both among the 3 best of 9)",
                margin: 0.0,
            },
            &self.setting(),
            ours.map(|(text, value, _)| (text, value)),
        )
        .with_spread(self.spread_at(&compared, self.level()))
    }

    fn criteria_fail(&self) -> Claim {
        let failing = [Criterion::SmallFinal, Criterion::SmallInit, Criterion::Random];
        // Judged on those of the three a scale runs (small's Conv-2 runs random only), at the
        // deepest level.
        let level = self.deepest();
        let ours = self.acc_at(LOTTERY, level).and_then(|lf| {
            let gaps: Vec<(Criterion, f64)> = failing.iter().filter_map(|&c| Some((c, self.acc_at(Ablation::Criterion(c), level)? - lf))).collect();
            if gaps.is_empty() {
                return None;
            }
            let text = gaps.iter().map(|(c, g)| format!("{} {}", Ablation::Criterion(*c).label(), pp(*g))).collect::<Vec<_>>().join(", ");
            // The criterion closest to the boundary decides the verdict; the spread is its and
            // large_final's.
            let (closest, gap) = gaps.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
            Some((format!("{text} vs large_final"), gap, closest))
        });
        let compared = ours.as_ref().map_or(vec![LOTTERY], |o| vec![LOTTERY, Ablation::Criterion(o.2)]);
        Claim::measured(
            &format!("{}: small_final, small_init and random fail", self.at_level(level)),
            "far below large_final (papers.md §4.2)",
            Tolerance::Margin { subject: "the best of them", cmp: Cmp::AtMost, of: "large_final", margin: -0.02 },
            &self.setting(),
            ours.map(|(text, gap, _)| (text, gap)),
        )
        .with_spread(self.spread_at(&compared, level))
    }

    fn sign_matters(&self) -> Claim {
        let signed = [KeptValues::SignedReinit, KeptValues::SignedReshuffle, KeptValues::SignedConstant];
        let unsigned = [KeptValues::Reinit, KeptValues::Reshuffle, KeptValues::RandomSignedConstant];
        let accs = |v: &[KeptValues]| -> Option<Vec<f64>> { v.iter().map(|&k| self.acc(Ablation::Kept(k))).collect() };
        let ours = (|| {
            let (s, u, rewind) = (accs(&signed)?, accs(&unsigned)?, self.acc(LOTTERY)?);
            let (ms, mu) = (Stat::mean_of(&s)?, Stat::mean_of(&u)?);
            let worst = s.iter().copied().fold(f64::INFINITY, f64::min) - rewind;
            Some((format!("signed mean {}, unsigned {}, rewind {}; worst signed {} vs rewind", pct(ms), pct(mu), pct(rewind), pp(worst)), vec![ms - mu, worst]))
        })();
        let compared: Vec<Ablation> = std::iter::once(LOTTERY).chain(signed.iter().chain(&unsigned).map(|&k| Ablation::Kept(k))).collect();
        Claim::all_of(
            &format!("{}: the kept weights' sign is what matters", self.at()),
            "unsigned reinit / reshuffle / constant do poorly; with the original sign all three recover most of the ticket (§4.3)",
            &[
                Tolerance::Margin { subject: "signed mean", cmp: Cmp::AtLeast, of: "unsigned mean", margin: 0.01 },
                Tolerance::Margin { subject: "the worst signed", cmp: Cmp::AtLeast, of: "rewind", margin: -0.02 },
            ],
            &self.setting(),
            ours,
        )
        .with_spread(self.spread_at(&compared, self.level()))
    }

    fn freezing(&self) -> Claim {
        let ours = (|| {
            let (zero, freeze) = (self.acc(LOTTERY)?, self.acc(Ablation::Pruned(PrunedValues::FreezeInit))?);
            Some((format!("freeze_init {} vs zero", pp(freeze - zero)), freeze - zero))
        })();
        Claim::measured(
            &format!("{}: freezing pruned weights at w_i is worse than zeroing them", self.at()),
            "much worse than zero (§4.4)",
            Tolerance::Margin { subject: "freeze_init", cmp: Cmp::AtMost, of: "zero", margin: -0.01 },
            &self.setting(),
            ours,
        )
        .with_spread(self.spread_at(&[LOTTERY, Ablation::Pruned(PrunedValues::FreezeInit)], self.level()))
    }

    fn zero_what_shrank(&self) -> Claim {
        let ours = (|| {
            let (freeze, v1) = (self.acc(Ablation::Pruned(PrunedValues::FreezeInit))?, self.acc(Ablation::Pruned(PrunedValues::FreezeInitZeroMask))?);
            let zero = self.acc(LOTTERY)?;
            Some((format!("zero-where-shrank {} vs freeze_init, {} vs zero", pp(v1 - freeze), pp(v1 - zero)), vec![v1 - zero, v1 - freeze]))
        })();
        let compared = [LOTTERY, Ablation::Pruned(PrunedValues::FreezeInit), Ablation::Pruned(PrunedValues::FreezeInitZeroMask)];
        Claim::all_of(
            &format!("{}: zeroing the pruned weights that moved toward zero recovers the ticket", self.at()),
            "masking is training: zeroing exactly those helps, even beats the dense net (§4.4)",
            &[
                Tolerance::Margin { subject: "freeze_init_zero_mask", cmp: Cmp::AtLeast, of: "zero (the lottery ticket)", margin: 0.0 },
                Tolerance::Margin { subject: "freeze_init_zero_mask", cmp: Cmp::Over, of: "freeze_init", margin: 0.0 },
            ],
            &self.setting(),
            ours,
        )
        .with_spread(self.spread_at(&compared, self.level()))
    }

    fn untrained_supermask(&self) -> Claim {
        let ours = self.get(Ablation::Criterion(Criterion::LargeFinalSameSign)).and_then(|l| {
            let best = (1..=l.config.levels)
                .flat_map(|level| {
                    [BranchKind::UNTRAINED, BranchKind::UNTRAINED_SIGNED_CONSTANT].map(|k| (level, k, Stat::mean_of(&figures::untrained_accuracy(l, level, k))))
                })
                .filter_map(|(level, k, a)| Some((level, k, a?)))
                .max_by(|a, b| a.2.total_cmp(&b.2))?;
            let on = if best.1 == BranchKind::UNTRAINED { "w_i" } else { "signed constants" };
            let at = l.density(best.0).unwrap_or(f64::NAN);
            let trials = figures::untrained_accuracy(l, best.0, best.1);
            Some((format!("{} (on {on}, {:.1} % remaining)", pct(best.2), 100.0 * at), best.2 - 0.86, trials))
        });
        let spread = ours.as_ref().map_or(Spread::NotStated, |o| Spread::of(&[&o.2]));
        Claim::measured(
            &format!("{}: an untrained large_final_same_sign supermask classifies", self.net.label()),
            "86 % on MNIST (abstract)",
            Tolerance::Margin { subject: "the best", cmp: Cmp::AtLeast, of: "the paper's 86 %", margin: -0.10 },
            &self.setting(),
            ours.map(|(text, value, _)| (text, value)),
        )
        .with_spread(spread)
    }

    /// The learned supermask's accuracy against `reference` (the paper's number), or against
    /// the dense network where `None`, judged by `rule` on the difference.
    fn learned_supermask(&self, paper: &str, rule: Tolerance, reference: Option<f64>) -> Claim {
        let ours = self.get(LOTTERY).and_then(|l| {
            let (mask, dense) = (Stat::mean_of(&figures::learned_supermask_accuracy(l))?, Stat::mean_of(&figures::trained_accuracy(l, 0))?);
            Some((format!("{} (dense {})", pct(mask), pct(dense)), mask - reference.unwrap_or(dense)))
        });
        let spread = self.get(LOTTERY).map_or(Spread::NotStated, |l| Spread::of(&[&figures::learned_supermask_accuracy(l), &figures::trained_accuracy(l, 0)]));
        Claim::measured(&format!("{}: a learned supermask over untrained weights", self.net.label()), paper, rule, &self.setting(), ours).with_spread(spread)
    }
}

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let mut out = Vec::new();
    for net in Net::ALL {
        let r = Runs {
            net,
            all: figures::of(results, net, "figure-2")
                .into_iter()
                .chain(figures::of(results, net, "figure-3"))
                .chain(figures::of(results, net, "figure-4"))
                .collect(),
        };
        if matches!(net, Net::Lenet | Net::Conv2) {
            out.extend([r.criteria_best(), r.criteria_fail(), r.sign_matters(), r.freezing(), r.zero_what_shrank()]);
        }
        match net {
            Net::Lenet => {
                out.push(r.untrained_supermask());
                out.push(r.learned_supermask(
                    "95.3 % on MNIST (papers.md §4.5, secondary)",
                    Tolerance::Margin { subject: "", cmp: Cmp::AtLeast, of: "the paper's 95.3 %", margin: -0.03 },
                    Some(0.953),
                ));
            }
            _ => {
                let paper = match net {
                    Net::Conv2 => "66.0 % vs dense 69.2 % (CIFAR-10, DWR)",
                    Net::Conv4 => "72.5 % vs dense 75.4 % (CIFAR-10, DWR)",
                    _ => "76.5 % vs dense 78.3 % (CIFAR-10, DWR)",
                };
                out.push(r.learned_supermask(paper, Tolerance::Margin { subject: "", cmp: Cmp::AtLeast, of: "dense", margin: -0.05 }, None));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{claims, CLAIM_LEVEL};
    use common::imp::StageKind;
    use harness::testkit::{committed_small, set_accuracy};
    use harness::Verdict;

    /// Zeroing the pruned weights that moved toward zero, judged as the paper states it: at
    /// least the lottery ticket and above freezing them all — not 1 pp above freezing.
    #[test]
    fn zero_where_shrank_is_judged_as_the_paper_states_it() {
        let verdict = |zero: f64, freeze: f64, shrank: f64| {
            let mut results = committed_small(&crate::Deconstructing, env!("CARGO_MANIFEST_DIR"));
            for (name, value) in [("lenet-large-final", zero), ("lenet-pruned-freeze-init", freeze), ("lenet-pruned-freeze-init-zero-mask", shrank)] {
                set_accuracy(results.get_mut(name).unwrap(), CLAIM_LEVEL, StageKind::Main, &[value]);
            }
            claims(&results)
                .unwrap()
                .into_iter()
                .find(|c| c.claim.ends_with("moved toward zero recovers the ticket") && c.claim.starts_with("LeNet"))
                .unwrap()
                .verdict
        };
        // +0.55 pp over freezing (short of the old 1 pp), at least the ticket: agrees.
        assert_eq!(verdict(0.97, 0.965, 0.9705), Verdict::Agrees);
        // Above freezing by 1.1 pp but below the ticket: disagrees.
        assert_eq!(verdict(0.98, 0.96, 0.971), Verdict::Disagrees);
    }

    /// The failing criteria's row carries the spread of what decides it (large_final and the
    /// criterion closest to the 2 pp boundary): 0.05 pp short of failing disagrees when that
    /// criterion's trials agree, and is within noise when they spread over 0.2 pp.
    #[test]
    fn the_failing_criteria_are_within_noise_when_the_deciding_criterion_spreads() {
        let row = |small_init: &[f64]| {
            let mut results = committed_small(&crate::Deconstructing, env!("CARGO_MANIFEST_DIR"));
            let level = results.get("lenet-large-final").unwrap().config.levels;
            for (name, values) in
                [("lenet-large-final", &[0.98][..]), ("lenet-small-final", &[0.90]), ("lenet-random", &[0.90]), ("lenet-small-init", small_init)]
            {
                set_accuracy(results.get_mut(name).unwrap(), level, StageKind::Main, values);
            }
            let c = claims(&results)
                .unwrap()
                .into_iter()
                .find(|c| c.claim.starts_with("LeNet") && c.claim.ends_with("small_final, small_init and random fail"))
                .unwrap();
            (c.verdict, c.spread.text())
        };
        assert_eq!(row(&[0.9605]).0, Verdict::Disagrees);
        let (verdict, spread) = row(&[0.9595, 0.9605, 0.9615]);
        assert!(matches!(verdict, Verdict::WithinNoise(_)), "{verdict:?} with spread {spread}");
        assert_eq!(spread, "0.20 pp");
    }
}
