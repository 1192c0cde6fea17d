//! Masks and pruning.
//!
//! A [`Mask`] holds one `{0, 1}` `f32` tensor per prunable weight (same name and shape), in
//! sorted-name order. Pruning only ever removes weights: a weight masked at level L stays masked
//! at every later level.
//!
//! **Counting and ties (stated and tested).** Sparsity counts prunable weights only (conv and
//! linear weights; no biases, no batch norm). Pruning a fraction `p` of the `n` surviving weights
//! of a group removes `round(p · n)` of them (round half away from zero) — per layer for
//! layer-wise pruning, over the pooled layers for global pruning; a layer-wise rule may instead
//! count as Zhou et al.'s code does ([`Count::Truncated`]). The removed weights are those
//! with the smallest magnitude (of the `scores` tensors: final weights for magnitude pruning);
//! among equal magnitudes the one that comes first — by sorted layer name, then row-major flat
//! index — is removed first. Random pruning removes, per layer, the same count, uniformly among
//! the survivors (ChaCha stream of the run seed).

use crate::models::{LayerInfo, LayerRole, Model};
use crate::rng;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// How to choose the weights removed at one pruning level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "strategy")]
pub enum PruneConfig {
    /// Each layer loses `fraction` of its survivors; the rate depends on the layer's role
    /// (Frankle & Carbin: conv 10–15 %, fc 20 %, output layer half the fc rate).
    LayerWise {
        conv: f64,
        fc: f64,
        output: f64,
        shortcut: f64,
        /// How many survivors a rate removes (left out of configs, and so of the trunk hash,
        /// while [`Count::Rounded`]).
        #[serde(default, skip_serializing_if = "Count::is_rounded")]
        count: Count,
    },
    /// One magnitude threshold over the pooled `roles`; other layers are never pruned.
    Global { fraction: f64, roles: Vec<LayerRole> },
}

impl PruneConfig {
    /// Fraction of survivors removed per level for a layer with `role` (0 = never pruned).
    pub fn rate(&self, role: LayerRole) -> f64 {
        match self {
            PruneConfig::LayerWise { conv, fc, output, shortcut, .. } => match role {
                LayerRole::Conv => *conv,
                LayerRole::Fc => *fc,
                LayerRole::Output => *output,
                LayerRole::Shortcut => *shortcut,
                LayerRole::Bias | LayerRole::Embedding | LayerRole::Recurrent => 0.0,
            },
            PruneConfig::Global { fraction, roles } => {
                if roles.contains(&role) {
                    *fraction
                } else {
                    0.0
                }
            }
        }
    }

    pub fn validate(&self) -> Result<()> {
        let rates: Vec<f64> = match self {
            PruneConfig::LayerWise { conv, fc, output, shortcut, .. } => vec![*conv, *fc, *output, *shortcut],
            PruneConfig::Global { fraction, .. } => vec![*fraction],
        };
        if !rates.iter().any(|&r| r > 0.0) {
            bail!("pruning removes nothing: set a pruning fraction in (0, 1)");
        }
        if let Some(r) = rates.iter().find(|&&r| !(0.0..1.0).contains(&r)) {
            bail!("pruning fraction {r} is outside (0, 1); use e.g. 0.2 to remove 20% of the surviving weights per level");
        }
        Ok(())
    }

    /// Layer-wise rates at Frankle & Carbin's counting (`round(p · n)`).
    pub const fn layer_wise(conv: f64, fc: f64, output: f64) -> PruneConfig {
        PruneConfig::LayerWise { conv, fc, output, shortcut: 0.0, count: Count::Rounded }
    }

    /// How many of `n` survivors a level removes at rate `p` under this rule.
    pub fn removed(&self, p: f64, n: i64) -> i64 {
        match self {
            PruneConfig::LayerWise { count: Count::Truncated, .. } => truncated_count(p, n),
            _ => prune_count(p, n),
        }
    }
}

/// How a pruning rate becomes a count of removed weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Count {
    /// `round(p · n)`, half away from zero (the project's rule, Frankle & Carbin's counts).
    #[default]
    Rounded,
    /// Zhou et al.'s arithmetic (`get_weight_init.py`, one round per call with `prune_power`
    /// 1): `np.int(n · (1 − base) · 100 / 100)` in `f64` with `base = 1 − p` — truncated, and
    /// since `1 − 0.8` is `0.19999999999999996`, one weight fewer than `p · n` whenever `p · n`
    /// is whole (235,200 survivors at 20 %: 47,039 removed, not 47,040).
    Truncated,
}

impl Count {
    fn is_rounded(&self) -> bool {
        *self == Count::Rounded
    }
}

/// `round(p · n)`, half away from zero, as an integer count.
pub fn prune_count(p: f64, n: i64) -> i64 {
    (p * n as f64).round() as i64
}

/// [`Count::Truncated`]: `⌊n · ((1 − (1 − p)) · 100) / 100⌋` evaluated in `f64` as Zhou et
/// al.'s code evaluates it.
pub fn truncated_count(p: f64, n: i64) -> i64 {
    let percentile = (1.0 - (1.0 - p)) * 100.0;
    (n as f64 * percentile / 100.0) as i64
}

/// One `{0,1}` tensor per prunable layer.
#[derive(Debug)]
pub struct Mask(pub BTreeMap<String, Tensor>);

impl Clone for Mask {
    fn clone(&self) -> Self {
        Mask(self.0.iter().map(|(k, v)| (k.clone(), v.copy())).collect())
    }
}

/// Survivors of one layer after pruning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerDensity {
    pub name: String,
    pub kept: i64,
    pub total: i64,
}

impl Mask {
    /// Everything kept.
    pub fn dense(model: &Model) -> Mask {
        let params = model.parameters();
        Mask(model.layers().iter().map(|l| (l.name.clone(), params[&l.name].ones_like().detach())).collect())
    }

    pub fn to_device(&self, d: Device) -> Mask {
        Mask(self.0.iter().map(|(k, v)| (k.clone(), v.to_device(d))).collect())
    }

    /// Zeroes the masked weights of `model` in place.
    pub fn apply(&self, model: &Model) {
        let params = model.parameters();
        tch::no_grad(|| {
            for (name, m) in &self.0 {
                let _ = params[name].shallow_clone().g_mul_(m);
            }
        });
    }

    /// The masks of the layers with at least one pruned entry, by weight name (the optimizer
    /// masks gradients and weights of exactly these).
    pub fn pruned(&self) -> BTreeMap<String, Tensor> {
        self.0.iter().filter(|(_, m)| m.numel() as i64 != m.sum(Kind::Int64).int64_value(&[])).map(|(name, m)| (name.clone(), m.shallow_clone())).collect()
    }

    /// Per-layer survivors, in sorted-name order.
    pub fn report(&self) -> Vec<LayerDensity> {
        self.0.iter().map(|(name, m)| LayerDensity { name: name.clone(), kept: m.sum(Kind::Int64).int64_value(&[]), total: m.numel() as i64 }).collect()
    }

    /// Fraction of prunable weights remaining, in [0, 1].
    pub fn density(&self) -> f64 {
        let r = self.report();
        r.iter().map(|l| l.kept).sum::<i64>() as f64 / r.iter().map(|l| l.total).sum::<i64>() as f64
    }

    /// Prunes one level by magnitude of `scores` (usually the trained weights) under `config`.
    pub fn prune_magnitude(&self, scores: &BTreeMap<String, Tensor>, layers: &[LayerInfo], config: &PruneConfig) -> Mask {
        self.prune_scores(&self.magnitudes(scores), layers, config)
    }

    /// Prunes one level under `config`, removing the survivors with the lowest `scores` (a
    /// [`crate::pruners::Pruner`]'s), ties to the first by layer name, then flat index.
    pub fn prune_scores(&self, scores: &BTreeMap<String, Tensor>, layers: &[LayerInfo], config: &PruneConfig) -> Mask {
        match config {
            PruneConfig::LayerWise { .. } => {
                let survivors: BTreeMap<String, i64> = self.report().into_iter().map(|l| (l.name, l.kept)).collect();
                let removed = layers.iter().map(|l| (l.name.clone(), config.removed(config.rate(l.role), survivors[&l.name]) as usize)).collect();
                self.select_layerwise(scores, &removed)
            }
            PruneConfig::Global { fraction, roles } => {
                let names: Vec<String> = layers.iter().filter(|l| roles.contains(&l.role)).map(|l| l.name.clone()).collect();
                self.select_global(scores, &names, *fraction)
            }
        }
    }

    /// Layer-wise magnitude pruning: each layer in `removed` loses that many survivors.
    pub fn prune_layerwise(&self, scores: &BTreeMap<String, Tensor>, removed: &BTreeMap<String, usize>) -> Mask {
        self.select_layerwise(&self.magnitudes(scores), removed)
    }

    /// Global magnitude pruning over the layers `names`: `round(f · pooled survivors)` removed.
    pub fn prune_global(&self, scores: &BTreeMap<String, Tensor>, names: &[String], fraction: f64) -> Mask {
        self.select_global(&self.magnitudes(scores), names, fraction)
    }

    /// |scores| of the masked layers.
    fn magnitudes(&self, scores: &BTreeMap<String, Tensor>) -> BTreeMap<String, Tensor> {
        self.0.keys().map(|name| (name.clone(), scores[name].abs())).collect()
    }

    /// Each layer in `removed` loses that many of its lowest-scoring survivors.
    fn select_layerwise(&self, scores: &BTreeMap<String, Tensor>, removed: &BTreeMap<String, usize>) -> Mask {
        let mut out = self.clone();
        for (name, m) in &self.0 {
            let k = removed.get(name).copied().unwrap_or(0);
            let mvec = to_vec(m);
            let svec = to_vec(&scores[name]);
            let alive: Vec<usize> = (0..mvec.len()).filter(|&i| mvec[i] != 0.0).collect();
            let mut order = alive;
            order.sort_by(|&a, &b| svec[a].total_cmp(&svec[b]).then(a.cmp(&b)));
            out.0.insert(name.clone(), remove(m, &order[..k]));
        }
        out
    }

    /// The layers `names` pooled lose their `round(f · pooled survivors)` lowest-scoring ones.
    fn select_global(&self, scores: &BTreeMap<String, Tensor>, names: &[String], fraction: f64) -> Mask {
        let mut pool: Vec<(f32, usize, usize)> = Vec::new(); // (score, layer index, flat index)
        let sorted: Vec<&String> = self.0.keys().filter(|k| names.contains(k)).collect();
        let masks: Vec<Vec<f32>> = sorted.iter().map(|n| to_vec(&self.0[*n])).collect();
        for (li, n) in sorted.iter().enumerate() {
            let s = to_vec(&scores[*n]);
            pool.extend((0..s.len()).filter(|&i| masks[li][i] != 0.0).map(|i| (s[i], li, i)));
        }
        let k = prune_count(fraction, pool.len() as i64) as usize;
        pool.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut per_layer: Vec<Vec<usize>> = vec![vec![]; sorted.len()];
        for &(_, li, i) in &pool[..k] {
            per_layer[li].push(i);
        }
        let mut out = self.clone();
        for (li, n) in sorted.iter().enumerate() {
            out.0.insert((*n).clone(), remove(&self.0[*n], &per_layer[li]));
        }
        out
    }

    /// Tanaka et al.'s global rule (`_global_mask` in their code), over the layers `names`:
    /// with `N` their weights, pruned or not, `k = ⌊(1 − density) · N⌋` and τ the `k`-th smallest
    /// of their pooled `scores`, a weight survives iff its score is above τ — ties at τ are
    /// pruned, so a level can keep fewer than `N − k` (every zero score, say, once τ = 0).
    /// `k < 1` leaves the mask as it is; layers outside `names` are kept as they are. Unlike
    /// [`Mask::prune_scores`], already-pruned weights are not forced to stay pruned: a pruner
    /// that scores them 0 (SynFlow, SNIP and magnitude on masked weights) keeps them pruned.
    pub fn keep_above_kth(&self, scores: &BTreeMap<String, Tensor>, names: &[String], density: f64) -> Mask {
        let pooled: Vec<(&String, Tensor)> =
            self.0.keys().filter(|k| names.contains(k)).map(|n| (n, scores[n].to_device(Device::Cpu).to_kind(Kind::Float))).collect();
        let all = Tensor::cat(&pooled.iter().map(|(_, s)| s.flatten(0, -1)).collect::<Vec<_>>(), 0);
        let k = ((1.0 - density) * all.numel() as f64).floor() as i64;
        let mut out = self.clone();
        if k < 1 {
            return out;
        }
        let (tau, _) = all.kthvalue(k, 0, false);
        for (n, s) in pooled {
            out.0.insert(n.clone(), s.gt_tensor(&tau).to_kind(Kind::Float).to_device(self.0[n].device()));
        }
        out
    }

    /// Random pruning with the per-layer counts that `reference` (a pruned child of `self`)
    /// removed: for each layer, that many survivors chosen uniformly by the stream `seed`.
    pub fn prune_random_like(&self, reference: &Mask, seed: u64) -> Mask {
        let mut out = self.clone();
        for (li, (name, m)) in self.0.iter().enumerate() {
            let mvec = to_vec(m);
            let mut alive: Vec<usize> = (0..mvec.len()).filter(|&i| mvec[i] != 0.0).collect();
            let target = reference.0[name].sum(Kind::Int64).int64_value(&[]) as usize;
            let k = alive.len().saturating_sub(target);
            rng::shuffle(&mut rng::stream(seed, "random-prune", &[li as u64]), &mut alive);
            out.0.insert(name.clone(), remove(m, &alive[..k]));
        }
        out
    }

    /// Saves the masks as safetensors (names as the weights they mask).
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        let named: Vec<(String, Tensor)> = self.0.iter().map(|(k, v)| (k.clone(), v.shallow_clone())).collect();
        crate::util::write_tensors(path, &named)
    }

    pub fn load(path: &std::path::Path, device: Device) -> Result<Mask> {
        let t = Tensor::read_safetensors(path).map_err(|e| anyhow::format_err!("cannot read mask {}: {e}", path.display()))?;
        Ok(Mask(t.into_iter().map(|(k, v)| (k, v.to_device(device))).collect()))
    }
}

/// A tensor's values as a flat `f32` vector on the CPU (logical, row-major order).
pub(crate) fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_device(Device::Cpu).to_kind(Kind::Float).flatten(0, -1)).expect("f32 tensor")
}

/// A copy of `m` with the flat indices `ix` set to 0.
fn remove(m: &Tensor, ix: &[usize]) -> Tensor {
    let mut v = to_vec(m);
    for &i in ix {
        v[i] = 0.0;
    }
    Tensor::from_slice(&v).view(m.size().as_slice()).to_device(m.device())
}
