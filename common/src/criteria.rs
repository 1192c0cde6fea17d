//! Zhou et al.'s mask criteria (Deconstructing Lottery Tickets, NeurIPS 2019): which weights to
//! keep, as a score of each weight's initial value `w_i` and trained value `w_f`.
//!
//! Each layer keeps its `count` highest-scoring weights among the survivors of the previous mask.
//! Ties are broken by a seeded random key (the authors sort with `np.lexsort` on a random
//! secondary key), so equal scores never favour low indices. The two intersection criteria
//! (`large_init_large_final`, `small_init_small_final`) keep the weights that lie in the top (or
//! bottom) set of both `|w_i|` and `|w_f|`, with one common percentile threshold searched so the
//! intersection holds `count` weights — as the authors' `get_weight_init.py` does.
//!
//! [`kept_values`] gives the kept weights their starting values (rewind, reinit, reshuffle,
//! constants, each optionally with the original sign). The authors' treatments of the *pruned*
//! weights other than zero (frozen at their initial values, or zeroed only where they moved
//! toward zero) are [`crate::ticket`]'s, held by the optimizer.

use crate::prune::{to_vec, Mask};
use crate::rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::Tensor;

/// A named mask criterion of `(w_i, w_f)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// `|w_f|` — the lottery ticket's criterion.
    LargeFinal,
    /// `−|w_f|`.
    SmallFinal,
    /// `|w_i|`.
    LargeInit,
    /// `−|w_i|`.
    SmallInit,
    /// In the top set of both `|w_i|` and `|w_f|`.
    LargeInitLargeFinal,
    /// In the bottom set of both.
    SmallInitSmallFinal,
    /// `|w_f| − |w_i|`.
    MagnitudeIncrease,
    /// `|w_f − w_i|`.
    Movement,
    /// Random scores.
    Random,
    /// `|w_f|` where `sign(w_i) = sign(w_f)`, else 0.
    LargeFinalSameSign,
    /// `|w_f|` where the signs differ, else 0.
    LargeFinalDiffSign,
    /// `|w_f| − |w_i|` where the signs agree, else the lowest score.
    MagnitudeIncreaseSameSign,
    /// `|w_f| − |w_i|` where the signs differ, else the lowest score.
    MagnitudeIncreaseDiffSign,
}

impl Criterion {
    pub const ALL: [Criterion; 13] = [
        Self::LargeFinal,
        Self::SmallFinal,
        Self::LargeInit,
        Self::SmallInit,
        Self::LargeInitLargeFinal,
        Self::SmallInitSmallFinal,
        Self::MagnitudeIncrease,
        Self::Movement,
        Self::Random,
        Self::LargeFinalSameSign,
        Self::LargeFinalDiffSign,
        Self::MagnitudeIncreaseSameSign,
        Self::MagnitudeIncreaseDiffSign,
    ];

    /// Per-weight scores (higher = kept) for a score criterion; `None` for the two intersection
    /// criteria, which [`mask`] handles by percentile search. `w_i`, `w_f`: same shape.
    pub fn scores(self, wi: &[f32], wf: &[f32], random: &mut impl rand_core::RngCore) -> Option<Vec<f64>> {
        let same = |i: usize| (wi[i] >= 0.0) == (wf[i] >= 0.0);
        let n = wi.len();
        let v: Vec<f64> = match self {
            Self::LargeFinal => (0..n).map(|i| wf[i].abs() as f64).collect(),
            Self::SmallFinal => (0..n).map(|i| -(wf[i].abs() as f64)).collect(),
            Self::LargeInit => (0..n).map(|i| wi[i].abs() as f64).collect(),
            Self::SmallInit => (0..n).map(|i| -(wi[i].abs() as f64)).collect(),
            Self::MagnitudeIncrease => (0..n).map(|i| wf[i].abs() as f64 - wi[i].abs() as f64).collect(),
            Self::Movement => (0..n).map(|i| (wf[i] as f64 - wi[i] as f64).abs()).collect(),
            Self::Random => (0..n).map(|_| rng::uniform(random)).collect(),
            Self::LargeFinalSameSign => (0..n).map(|i| if same(i) { wf[i].abs() as f64 } else { 0.0 }).collect(),
            Self::LargeFinalDiffSign => (0..n).map(|i| if same(i) { 0.0 } else { wf[i].abs() as f64 }).collect(),
            Self::MagnitudeIncreaseSameSign => (0..n).map(|i| if same(i) { wf[i].abs() as f64 - wi[i].abs() as f64 } else { f64::NEG_INFINITY }).collect(),
            Self::MagnitudeIncreaseDiffSign => (0..n).map(|i| if same(i) { f64::NEG_INFINITY } else { wf[i].abs() as f64 - wi[i].abs() as f64 }).collect(),
            Self::LargeInitLargeFinal | Self::SmallInitSmallFinal => return None,
        };
        Some(v)
    }
}

/// A child of `previous` keeping `keep[layer]` survivors per layer, chosen by `criterion` from
/// the initial weights `init` and trained weights `trained` (by layer name). Layers missing
/// from `keep` are copied. Ties and random scores come from the stream `seed`.
pub fn mask(
    previous: &Mask,
    criterion: Criterion,
    init: &BTreeMap<String, Tensor>,
    trained: &BTreeMap<String, Tensor>,
    keep: &BTreeMap<String, usize>,
    seed: u64,
) -> Mask {
    let mut out = previous.clone();
    for (li, (name, m)) in previous.0.iter().enumerate() {
        let Some(&count) = keep.get(name) else { continue };
        let alive_mask = to_vec(m);
        let alive: Vec<usize> = (0..alive_mask.len()).filter(|&i| alive_mask[i] != 0.0).collect();
        let (wi, wf) = (to_vec(&init[name]), to_vec(&trained[name]));
        let mut g = rng::stream(seed, "criterion", &[li as u64]);
        let kept: Vec<usize> = match criterion.scores(&wi, &wf, &mut g) {
            Some(scores) => top(&alive, &scores, count, &mut g),
            None => {
                let sign = if criterion == Criterion::LargeInitLargeFinal { 1.0 } else { -1.0 };
                let a: Vec<f64> = wi.iter().map(|x| sign * x.abs() as f64).collect();
                let b: Vec<f64> = wf.iter().map(|x| sign * x.abs() as f64).collect();
                intersection(&alive, &a, &b, count, &mut g)
            }
        };
        let mut v = vec![0f32; alive_mask.len()];
        for i in kept {
            v[i] = 1.0;
        }
        out.0.insert(name.clone(), Tensor::from_slice(&v).view(m.size().as_slice()).to_device(m.device()));
    }
    out
}

/// The `count` indices of `alive` with the highest `scores`, ties in a random order.
fn top(alive: &[usize], scores: &[f64], count: usize, g: &mut impl rand_core::RngCore) -> Vec<usize> {
    let mut keyed: Vec<(f64, u64, usize)> = alive.iter().map(|&i| (scores[i], g.next_u64(), i)).collect();
    keyed.sort_by(|x, y| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)));
    keyed.into_iter().take(count).map(|(_, _, i)| i).collect()
}

/// The survivors in the top `q`-fraction of both `a` and `b` for the smallest `q` whose
/// intersection holds at least `count` (binary search on `q`), trimmed to exactly `count` by `a + b`.
fn intersection(alive: &[usize], a: &[f64], b: &[f64], count: usize, g: &mut impl rand_core::RngCore) -> Vec<usize> {
    if count == 0 {
        return vec![];
    }
    let mut rank = |s: &[f64]| -> Vec<usize> {
        // rank[i] = position of alive[i] in descending order of s (0 = highest).
        let mut order: Vec<usize> = (0..alive.len()).collect();
        let keys: Vec<u64> = (0..alive.len()).map(|_| g.next_u64()).collect();
        order.sort_by(|&x, &y| s[alive[y]].total_cmp(&s[alive[x]]).then(keys[y].cmp(&keys[x])));
        let mut r = vec![0; alive.len()];
        for (pos, &i) in order.iter().enumerate() {
            r[i] = pos;
        }
        r
    };
    let ra = rank(a);
    let rb = rank(b);
    let within = |q: usize| -> Vec<usize> { (0..alive.len()).filter(|&i| ra[i] < q && rb[i] < q).collect() };
    let (mut lo, mut hi) = (count, alive.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if within(mid).len() >= count {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let mut chosen = within(lo);
    chosen.sort_by_key(|&i| ra[i] + rb[i]);
    chosen.truncate(count);
    chosen.into_iter().map(|i| alive[i]).collect()
}

/// Values given to the kept weights before retraining (Zhou et al.'s "mask-1 actions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptValues {
    /// Their initial values (the lottery ticket).
    Rewind,
    /// Values drawn from the whole layer's initial values, shuffled (a fresh draw from the
    /// layer's initial distribution).
    Reinit,
    /// The kept weights' initial values permuted among the kept positions.
    Reshuffle,
    /// ±σ of the layer's initial values, random sign.
    RandomSignedConstant,
    /// `Reinit` magnitudes with each weight's original sign.
    SignedReinit,
    /// `Reshuffle` magnitudes with each weight's original sign.
    SignedReshuffle,
    /// σ of the layer's initial values with each weight's original sign.
    SignedConstant,
}

/// Starting values of one layer: `init` (the layer's initial weights) transformed by `action`
/// at the kept positions of `mask`, 0 elsewhere. Random choices come from the stream `seed`.
pub fn kept_values(action: KeptValues, init: &Tensor, mask: &Tensor, seed: u64) -> Tensor {
    let (wi, m) = (to_vec(init), to_vec(mask));
    let kept: Vec<usize> = (0..m.len()).filter(|&i| m[i] != 0.0).collect();
    let mut g = rng::stream(seed, "kept-values", &[]);
    let n = wi.len() as f64;
    let mean = wi.iter().map(|&x| x as f64).sum::<f64>() / n;
    let std = (wi.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt() as f32;
    let sign = |x: f32| if x >= 0.0 { 1.0f32 } else { -1.0 };
    let mut out = vec![0f32; wi.len()];
    match action {
        KeptValues::Rewind => kept.iter().for_each(|&i| out[i] = wi[i]),
        KeptValues::Reinit | KeptValues::SignedReinit => {
            let mut pool = wi.clone();
            rng::shuffle(&mut g, &mut pool);
            for (j, &i) in kept.iter().enumerate() {
                out[i] = if action == KeptValues::SignedReinit { sign(wi[i]) * pool[j].abs() } else { pool[j] };
            }
        }
        KeptValues::Reshuffle | KeptValues::SignedReshuffle => {
            let mut pool: Vec<f32> = kept.iter().map(|&i| wi[i]).collect();
            rng::shuffle(&mut g, &mut pool);
            for (j, &i) in kept.iter().enumerate() {
                out[i] = if action == KeptValues::SignedReshuffle { sign(wi[i]) * pool[j].abs() } else { pool[j] };
            }
        }
        KeptValues::RandomSignedConstant => kept.iter().for_each(|&i| out[i] = if rng::below(&mut g, 2) == 1 { std } else { -std }),
        KeptValues::SignedConstant => kept.iter().for_each(|&i| out[i] = sign(wi[i]) * std),
    }
    Tensor::from_slice(&out).view(init.size().as_slice()).to_device(init.device())
}
