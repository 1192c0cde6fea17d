//! Tanaka et al.'s headline claims beside ours, each with the tolerance it is judged by.
//!
//! Tolerances, chosen before any run of ours and stated in every row:
//! - SynFlow reaches maximal critical compression when its critical compression is the largest
//!   grid point at or below ρ_max (the grid steps by 10^0.25, so no finer claim can be made);
//! - a gap between critical compressions the paper measures in decades agrees with its sign
//!   and at least half its size;
//! - "collapses first" and "more stable" agree when ours is below the others';
//! - conservation agrees when the largest per-layer sum is within 0.1 % of the smallest
//!   (float32 rounding over up to 20 layers), and the inverse size law when the fitted log–log
//!   slope is −1 within ±25 %;
//! - "best of five" agrees when SynFlow's mean is at least the best other mean − 0.5 pp (the
//!   seed spread of LeNet on MNIST), and is within noise when the gap is smaller than the larger
//!   of the two pruners' seed spreads (min–max; one seed has none). The spreads are printed
//!   beside each accuracy.

use crate::figures::{critical_compressions, masks_of, max_compression, network_order, pruner_label, trained_of};
use crate::presets::{log10_compression, Loaded, Net, Results, LEVELS_PER_DECADE, PRUNERS};
use anyhow::Result;
use common::aggregate::Stat;
use common::config::BranchKind;
use common::pruners::PrunerName;
use harness::claims::{pct, pp, Cmp};
use harness::{Claim, Readout, ScaleData, Spread, Tolerance};

pub fn claims(results: &Results) -> Result<Vec<Claim>> {
    let mut out = Vec::new();
    for (net, paper_gap, paper_text) in
        [(Net::Vgg16, 2.34, "ρ_cr 10^5.92 vs ≤ 10^3.58 (VGG-16, CIFAR-100)"), (Net::Vgg19, 2.71, "2^-23 vs ≤ 2^-14 density (VGG-19, ImageNet)")]
    {
        let Some(l) = results.get(net.name()) else { continue };
        collapse_claims(&mut out, l, paper_gap, paper_text);
        conservation_claims(&mut out, l);
    }
    for net in [Net::Resnet20, Net::Lenet] {
        if let Some(l) = results.get(net.name()) {
            out.push(maximal_critical_compression(l));
        }
    }
    for net in Net::TRAINED {
        let Some(l) = results.get(net.name()) else { continue };
        accuracy_claims(&mut out, l);
    }
    Ok(out)
}

/// Mean critical compression (log10) of each pruner over seeds.
fn criticals(l: &Loaded) -> Vec<(PrunerName, Option<f64>)> {
    PRUNERS.iter().map(|&(p, n)| (p, Stat::mean_of(&critical_compressions(l, masks_of(p, n))))).collect()
}

/// The trials' spread of the critical compressions of `pruners` (decades): the widest range over
/// seeds among them.
fn critical_spread(l: &Loaded, pruners: &[PrunerName]) -> Spread {
    let per_seed: Vec<Vec<f64>> = PRUNERS.iter().filter(|(p, _)| pruners.contains(p)).map(|&(p, n)| critical_compressions(l, masks_of(p, n))).collect();
    Spread::of(&per_seed.iter().map(Vec::as_slice).collect::<Vec<_>>()).in_units("decades")
}

/// The log–log slope of SNIP's mean score per weight against layer size, in network order.
fn snip_slope(r: &common::imp::StageRecord, sums: &[f64]) -> Option<f64> {
    let pts: Vec<(f64, f64)> =
        network_order(&r.layers).into_iter().map(|i| ((r.layers[i].total as f64).log10(), (sums[i] / r.layers[i].total as f64).log10())).collect();
    fit_slope(&pts)
}

fn decades(x: f64) -> String {
    format!("10^{x:.2}")
}

fn maximal_critical_compression(l: &Loaded) -> Claim {
    let synflow = criticals(l).into_iter().find(|(p, _)| *p == PrunerName::SYNFLOW).and_then(|(_, c)| c);
    let max = l.results.records.first().map(|r| max_compression(&r.layers).log10());
    // The largest grid point at or below ρ_max.
    let grid_max = max.map(|m| (m * f64::from(LEVELS_PER_DECADE)).floor() / f64::from(LEVELS_PER_DECADE));
    Claim::measured(
        &format!("{}: SynFlow reaches maximal critical compression ρ_max = N/L", l.spec.label),
        "ρ_cr = ρ_max (Theorem 3; VGG-16 10^5.92 of 10^6.02)",
        Tolerance::Margin { subject: "SynFlow ρ_cr", cmp: Cmp::AtLeast, of: "the grid's last point ≤ ρ_max", margin: 0.0 },
        &masks_setting(l),
        synflow.zip(grid_max).zip(max).map(|((c, g), m)| (format!("ρ_cr {} (ρ_max {})", decades(c), decades(m)), c - g)),
    )
    .with_spread(critical_spread(l, &[PrunerName::SYNFLOW]))
}

fn collapse_claims(out: &mut Vec<Claim>, l: &Loaded, paper_gap: f64, paper_text: &str) {
    out.push(maximal_critical_compression(l));
    let c = criticals(l);
    let get = |p: PrunerName| c.iter().find(|(q, _)| *q == p).and_then(|(_, v)| *v);
    let others: Vec<(PrunerName, f64)> = c.iter().filter(|(p, _)| *p != PrunerName::SYNFLOW).filter_map(|(p, v)| v.map(|v| (*p, v))).collect();
    let listed = others.iter().map(|(p, v)| format!("{} {}", pruner_label(*p), decades(*v))).collect::<Vec<_>>().join(", ");
    let best_other = others.iter().copied().reduce(|a, b| if b.1 > a.1 { b } else { a });
    out.push(
        Claim::measured(
            &format!("{}: SynFlow's critical compression beyond every other pruner's (decades)", l.spec.label),
            &format!("+{paper_gap:.2} decades: {paper_text}"),
            Tolerance::half_of(paper_gap),
            &masks_setting(l),
            get(PrunerName::SYNFLOW).zip(best_other).map(|(s, (_, o))| (format!("+{:.2} (SynFlow {}; {listed})", s - o, decades(s)), s - o)),
        )
        .with_spread(critical_spread(l, &[PrunerName::SYNFLOW, best_other.map_or(PrunerName::SYNFLOW, |(p, _)| p)])),
    );
    if l.spec.id == Net::Vgg16 {
        let rest = others.iter().filter(|(p, _)| *p != PrunerName::MAGNITUDE).copied().reduce(|a, b| if b.1 < a.1 { b } else { a });
        out.push(
            Claim::measured(
                "VGG-16: magnitude collapses first (lowest critical compression)",
                "magnitude 10^2.75 < random 10^3.33 < SNIP, GraSP 10^3.58",
                Tolerance::Below { of: "every other pruner's" },
                &masks_setting(l),
                get(PrunerName::MAGNITUDE).zip(rest).map(|(m, (_, r))| (format!("magnitude {} vs ≥ {} (others)", decades(m), decades(r)), m - r)),
            )
            .with_spread(critical_spread(l, &[PrunerName::MAGNITUDE, rest.map_or(PrunerName::MAGNITUDE, |(p, _)| p)])),
        );
    }
}

fn conservation_claims(out: &mut Vec<Claim>, l: &Loaded) {
    let sums = |p: PrunerName, n: u32| l.records(0, masks_of(p, n)).next().and_then(|r| r.metrics.get("score_sum").map(|s| (r, s.clone())));
    // Largest over smallest layer sum of SynFlow's scores, per seed.
    let ratio = |s: &[f64]| {
        let (lo, hi) = s.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        hi / lo
    };
    let per_seed = |p: PrunerName, n: u32, f: &dyn Fn(&common::imp::StageRecord, &[f64]) -> Option<f64>| -> Spread {
        let values: Vec<f64> = l.records(0, masks_of(p, n)).filter_map(|r| f(r, r.metrics.get("score_sum")?)).collect();
        Spread::of(&[&values]).as_ratio()
    };
    out.push(
        Claim::measured(
            &format!("{}: SynFlow's per-layer score sums are equal (conservation)", l.spec.label),
            "equal in every layer (Theorem 2)",
            Tolerance::Ratio { lo: 1.0, hi: 1.001, of: "the smallest layer's sum" },
            &masks_setting(l),
            sums(PrunerName::SYNFLOW, crate::presets::SYNFLOW_ROUNDS)
                .map(|(_, s)| (format!("largest / smallest = {:.6} over {} layers", ratio(&s), s.len()), ratio(&s))),
        )
        .with_spread(per_seed(PrunerName::SYNFLOW, crate::presets::SYNFLOW_ROUNDS, &|_, s| Some(ratio(s)))),
    );
    if l.spec.id == Net::Vgg16 {
        out.push(
            Claim::measured(
                "VGG-16: SNIP's mean score per weight ∝ 1 / layer size",
                "inverse relation (Fig. 4)",
                Tolerance::Ratio { lo: 0.75, hi: 1.25, of: "slope −1" },
                &masks_setting(l),
                sums(PrunerName::SNIP, 1).and_then(|(r, s)| {
                    let slope = snip_slope(r, &s)?;
                    Some((format!("log–log slope {slope:.2}"), -slope))
                }),
            )
            .with_spread(per_seed(PrunerName::SNIP, 1, &|r, s| snip_slope(r, s).map(|slope| -slope))),
        );
    }
}

/// The setting of a masks-only number: nothing is trained.
fn masks_setting(l: &Loaded) -> ScaleData {
    let seeds = l.trials_text().replace("trial", "seed");
    l.measured_as(format!("{}, {seeds}, masks at init (no training), {}", l.results.scale, l.config.dataset.as_str()))
}

/// The least-squares slope of `pts` (`None` for fewer than two distinct x).
fn fit_slope(pts: &[(f64, f64)]) -> Option<f64> {
    let n = pts.len() as f64;
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx)
}

/// Final test accuracies of `pruner` at `level` over seeds.
fn accuracy(l: &Loaded, p: PrunerName, n: u32, level: u32) -> Option<Stat> {
    Stat::of(&l.accuracies(level, trained_of(p, n), Readout::Final))
}

fn accuracy_claims(out: &mut Vec<Claim>, l: &Loaded) {
    let setting = l.setting();
    for (level, paper) in [(8, "best in 10/12 panels at 10^2"), (12, "best in 12/12 panels from 10^2.5")] {
        let rho = log10_compression(level);
        let stats: Vec<(PrunerName, Option<Stat>)> = PRUNERS.iter().map(|&(p, n)| (p, accuracy(l, p, n, level))).collect();
        let synflow = stats.iter().find(|(p, _)| *p == PrunerName::SYNFLOW).and_then(|(_, s)| *s);
        let best = stats.iter().filter(|(p, _)| *p != PrunerName::SYNFLOW).filter_map(|(p, s)| s.map(|s| (*p, s))).max_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
        out.push(
            Claim::measured(
                &format!("{}: SynFlow the most accurate of five at ρ = 10^{rho}", l.spec.label),
                paper,
                Tolerance::Margin { subject: "SynFlow", cmp: Cmp::AtLeast, of: "best other", margin: -0.005 },
                &setting,
                synflow
                    .zip(best)
                    .map(|(s, (bp, b))| (format!("{} vs {} {} ({})", pct(s.mean), pruner_label(bp), pct(b.mean), pp(s.mean - b.mean)), s.mean - b.mean)),
            )
            .with_spread(match synflow.zip(best) {
                Some((s, (_, b))) if l.config.replicates > 1 => Spread::Measured((s.max - s.min).max(b.max - b.min)),
                _ => Spread::OneTrial,
            }),
        );
    }
    // The first grid compression at which a pruner's mean accuracy is within 2 pp of chance.
    let chance = if l.config.dataset == common::data::DatasetName::Cifar100 { 0.01 } else { 0.1 };
    let levels: Vec<u32> =
        l.config.branches.iter().find(|b| b.kind.as_str() == BranchKind::PRUNE_AT_INIT.as_str()).map(|b| b.levels.clone()).unwrap_or_default();
    // The collapse point (decades) of accuracies `at(level)`: the first level at or below chance
    // + 2 pp, or one grid step past the grid.
    let collapse_of = |at: &dyn Fn(u32) -> Option<f64>| -> Option<f64> {
        let seen: Vec<(u32, f64)> = levels.iter().filter_map(|&lv| at(lv).map(|a| (lv, a))).collect();
        if seen.len() < levels.len() {
            return None;
        }
        let beyond = log10_compression(*levels.last()?) + 1.0 / f64::from(LEVELS_PER_DECADE);
        Some(seen.iter().find(|(_, a)| *a <= chance + 0.02).map_or(beyond, |(lv, _)| log10_compression(*lv)))
    };
    let collapse = |p: PrunerName, n: u32| collapse_of(&|lv| accuracy(l, p, n, lv).map(|s| s.mean));
    // Per seed, for the trials' spread.
    let collapse_per_seed = |p: PrunerName, n: u32| -> Vec<f64> {
        (0..l.config.replicates as usize).filter_map(|seed| collapse_of(&|lv| l.accuracies(lv, trained_of(p, n), Readout::Final).get(seed).copied())).collect()
    };
    let mag = collapse(PrunerName::MAGNITUDE, 1);
    let rest: Option<f64> = PRUNERS
        .iter()
        .filter(|(p, _)| *p != PrunerName::MAGNITUDE)
        .map(|&(p, n)| collapse(p, n))
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().reduce(f64::min));
    out.push(
        Claim::measured(
            &format!("{}: magnitude falls to chance first", l.spec.label),
            "first to chance (VGG at 10^2.5, ResNet at 10^1.25)",
            Tolerance::Margin { subject: "magnitude", cmp: Cmp::AtMost, of: "every other pruner's collapse point", margin: 0.0 },
            &setting,
            mag.zip(rest).map(|(m, r)| (format!("magnitude at {} vs others ≥ {} (past the grid: none)", decades(m), decades(r)), m - r)),
        )
        .with_spread(
            Spread::of(&PRUNERS.iter().map(|&(p, n)| collapse_per_seed(p, n)).collect::<Vec<_>>().iter().map(Vec::as_slice).collect::<Vec<_>>())
                .in_units("decades"),
        ),
    );
    if l.config.replicates > 1 {
        // Mean min–max spread over seeds at ρ ≥ 10^1.5, as the paper's stability claim.
        let spread = |p: PrunerName, n: u32| -> Option<f64> {
            Stat::mean_of(
                &levels.iter().filter(|&&lv| log10_compression(lv) >= 1.5).filter_map(|&lv| accuracy(l, p, n, lv).map(|s| s.max - s.min)).collect::<Vec<_>>(),
            )
        };
        let synflow = spread(PrunerName::SYNFLOW, crate::presets::SYNFLOW_ROUNDS);
        let others = Stat::mean_of(&[PrunerName::RANDOM, PrunerName::SNIP, PrunerName::GRASP].iter().filter_map(|&p| spread(p, 1)).collect::<Vec<_>>());
        out.push(Claim::measured(
            &format!("{}: SynFlow's accuracy varies least over seeds (ρ ≥ 10^1.5)", l.spec.label),
            "0.49 pp vs 2.70 (random), 3.55 (SNIP), 2.81 (GraSP)",
            Tolerance::Below { of: "the mean spread of random, SNIP and GraSP" },
            &setting,
            synflow.zip(others).map(|(s, o)| (format!("{:.2} pp vs {:.2} pp", 100.0 * s, 100.0 * o), s - o)),
        ));
    }
}
