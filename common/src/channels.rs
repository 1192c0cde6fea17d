//! Structured pruning of whole channels by batch-norm scale: network slimming (Liu et al.
//! 2017) as You et al. (2020) use it to draw early-bird tickets.
//!
//! A channel is one output filter of a convolution with its batch-norm scale γ and shift β.
//! Channel layers are a VGG's convolutions in forward order (`layers.{i}`); a [`ChannelMask`]
//! keeps or removes each channel of each layer. [`ChannelMask::global`] is the authors' rule:
//! all |γ| of the network pooled and sorted ascending, the threshold the value at index
//! `⌊total · p⌋`, a channel kept iff its |γ| is strictly above it. [`ChannelMask::distance`] is
//! their mask distance (normalised Hamming), and [`EarlyBird`] their detector: the mask of every
//! epoch start enters a window of the last five, and a ticket is found when the newest is within
//! ε of each of the four before it.
//!
//! [`prune`] removes the channels physically: a smaller VGG ([`Arch::VggChannels`]) whose
//! convolutions, batch norms and the next layer's input channels hold the survivors' values, so
//! it computes what the dense network computes with those channels' γ and β set to zero (a
//! removed channel's output is then zero after its ReLU). [`element_mask`] states the same
//! removal as a weight mask of the dense network (what density counts), and [`forward_flops`]
//! counts a forward pass as the authors' `compute_flops.py` does.

use crate::models::{Arch, Model};
use crate::prune::Mask;
use crate::train::hooks::Hook;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, VecDeque};
use tch::{Kind, Tensor};

/// Kept (`true`) or removed, per channel of each channel layer in forward order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMask(pub Vec<Vec<bool>>);

impl ChannelMask {
    /// You et al.'s global rule at pruning ratio `ratio` over `scales` (|γ| per channel layer):
    /// the pooled values sorted ascending, threshold = the one at index `⌊total · ratio⌋`,
    /// kept iff strictly above it (so at initialisation, every γ equal, nothing is kept).
    pub fn global(scales: &[Vec<f32>], ratio: f64) -> ChannelMask {
        let mut all: Vec<f32> = scales.concat();
        all.sort_by(f32::total_cmp);
        let at = ((all.len() as f64 * ratio) as usize).min(all.len().saturating_sub(1));
        let threshold = all.get(at).copied().unwrap_or(f32::INFINITY);
        ChannelMask(scales.iter().map(|layer| layer.iter().map(|&s| s > threshold).collect()).collect())
    }

    /// The same mask with every layer keeping at least its largest-|γ| channel (the first on
    /// ties): a layer with no channel left has no network to build. The authors' `vggprune.py`
    /// drops such a layer from the plan instead; it only happens at extreme ratios.
    pub fn with_every_layer(mut self, scales: &[Vec<f32>]) -> ChannelMask {
        for (keep, s) in self.0.iter_mut().zip(scales) {
            if !keep.iter().any(|&k| k) {
                if let Some(best) = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b]).then(b.cmp(&a))) {
                    keep[best] = true;
                }
            }
        }
        self
    }

    /// Kept channels per layer.
    pub fn kept(&self) -> Vec<i64> {
        self.0.iter().map(|l| l.iter().filter(|&&k| k).count() as i64).collect()
    }

    /// Normalised Hamming distance: the fraction of channels on which the masks differ (0 for
    /// equal masks, 1 for complements). Both must cover the same channels.
    pub fn distance(&self, other: &ChannelMask) -> f64 {
        let (mut total, mut differ) = (0usize, 0usize);
        for (a, b) in self.0.iter().zip(&other.0) {
            assert_eq!(a.len(), b.len(), "masks of different networks");
            total += a.len();
            differ += a.iter().zip(b).filter(|(x, y)| x != y).count();
        }
        differ as f64 / total.max(1) as f64
    }
}

/// You et al.'s early-bird detector for one pruning ratio: the masks of the last `window`
/// epoch starts (the authors' FIFO, 5), a ticket found when the window is full and the newest
/// mask is within `epsilon` (0.1; a distance equal to it passes) of every older one.
#[derive(Debug, Clone)]
pub struct EarlyBird {
    ratio: f64,
    window: usize,
    epsilon: f64,
    recent: VecDeque<ChannelMask>,
}

impl EarlyBird {
    pub fn new(ratio: f64, window: usize, epsilon: f64) -> EarlyBird {
        EarlyBird { ratio, window, epsilon, recent: VecDeque::new() }
    }

    /// Takes the mask of the epoch starting now (from `scales` at this ratio); whether an
    /// early-bird ticket is found here.
    pub fn push(&mut self, scales: &[Vec<f32>]) -> bool {
        let mask = ChannelMask::global(scales, self.ratio);
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(mask);
        let newest = self.recent.back().expect("just pushed");
        self.recent.len() == self.window && self.recent.iter().all(|m| m.distance(newest) <= self.epsilon)
    }
}

/// The convolutions whose channels can be removed, and their channel plan (0: a max-pool):
/// VGG's. Other networks are refused with the reason.
fn plan(arch: &Arch) -> Result<(usize, Vec<i64>)> {
    arch.vgg_plan().with_context(|| format!("channel pruning is built for VGG networks only, not {arch:?}; use a vgg-11, vgg-16 or vgg-19 model"))
}

/// |γ| of every channel of `model`, per channel layer in forward order.
pub fn bn_scales(model: &Model) -> Result<Vec<Vec<f32>>> {
    let (_, plan) = plan(&model.config.arch)?;
    let params = model.parameters();
    let layers = plan.iter().filter(|&&w| w != 0).count();
    (0..layers)
        .map(|i| {
            let gamma = params.get(&format!("layers.{i}.bn.weight")).with_context(|| format!("no batch norm layers.{i}.bn"))?;
            Ok(Vec::<f32>::try_from(gamma.detach().abs().to_device(tch::Device::Cpu).to_kind(Kind::Float).flatten(0, -1))?)
        })
        .collect()
}

/// The channel-pruned copy of `model`: a VGG with `keep`'s channels only, holding their values
/// (convolution filters and their input channels, batch-norm scale, shift and running
/// statistics, the output layer's input columns), on the same device.
pub fn prune(model: &Model, keep: &ChannelMask) -> Result<Model> {
    let (depth, plan) = plan(&model.config.arch)?;
    let kept = keep.kept();
    if kept.len() != plan.iter().filter(|&&w| w != 0).count() || kept.contains(&0) {
        bail!("a channel mask must keep at least one channel in each of the network's {} convolutions (kept {kept:?})", kept.len());
    }
    let device = model.device();
    let index = |i: usize| Tensor::from_slice(&(0..keep.0[i].len() as i64).filter(|&c| keep.0[i][c as usize]).collect::<Vec<_>>()).to_device(device);
    let last = kept.len() - 1;
    let mut values = BTreeMap::new();
    for (name, v) in model.parameters() {
        let v = v.detach();
        let layer = name.strip_prefix("layers.").and_then(|rest| rest.split_once('.')).and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)));
        let pruned = match (layer, name.as_str()) {
            (Some((i, "conv.weight")), _) if i > 0 => v.index_select(0, &index(i)).index_select(1, &index(i - 1)),
            (Some((i, "conv.weight")), _) => v.index_select(0, &index(i)),
            (Some((i, rest)), _) if rest.starts_with("bn.") => v.index_select(0, &index(i)),
            (None, "fc.weight") => v.index_select(1, &index(last)),
            (None, "fc.bias") => v.copy(),
            _ => bail!("cannot remove channels from variable {name}"),
        };
        values.insert(name, pruned);
    }
    let config = crate::models::ModelConfig { arch: Arch::VggChannels { depth, channels: kept }, init: model.config.init };
    let mut small = Model::new(&config, model.shape, model.classes, 0, device)?;
    small.restore(&values)?;
    Ok(small)
}

/// `keep` as a mask of the dense network's prunable weights: a convolution's filter is kept iff
/// its channel is and, within it, each input channel iff the previous layer keeps it; the
/// output layer's columns iff the last convolution keeps them.
pub fn element_mask(model: &Model, keep: &ChannelMask) -> Result<Mask> {
    let device = model.device();
    let as_tensor = |k: &[bool]| Tensor::from_slice(&k.iter().map(|&b| f32::from(u8::from(b))).collect::<Vec<_>>()).to_device(device);
    let mut mask = Mask::dense(model);
    let last = keep.0.len() - 1;
    for (name, m) in mask.0.iter_mut() {
        let shaped = if name == "fc.weight" {
            m.shallow_clone() * as_tensor(&keep.0[last]).view([1, -1])
        } else {
            let i: usize = name.strip_prefix("layers.").and_then(|r| r.split('.').next()).and_then(|i| i.parse().ok()).context("a VGG layer name")?;
            let out = m.shallow_clone() * as_tensor(&keep.0[i]).view([-1, 1, 1, 1]);
            if i > 0 {
                out * as_tensor(&keep.0[i - 1]).view([1, -1, 1, 1])
            } else {
                out
            }
        };
        *m = shaped.to_kind(m.kind());
    }
    Ok(mask)
}

/// FLOPs of one example's forward pass through VGG `arch` on `shape = (C, H, W)` inputs with
/// `classes` outputs, counted as the authors' `compute_flops.py` counts (multiply–adds as two):
/// a 3×3 convolution `2·9·c_in` per output element, batch norm 2 and ReLU 1 per element, a 2×2
/// max-pool 4 per output element (skipped below 2 pixels, as the network skips it), the global
/// average pool one per input element, the linear layer `2·in·out + out`.
pub fn forward_flops(arch: &Arch, shape: [i64; 3], classes: i64) -> Result<u64> {
    let (_, plan) = plan(arch)?;
    let [mut c, mut h, mut w] = shape;
    let mut flops = 0i64;
    for &out in &plan {
        if out == 0 {
            if h >= 2 {
                h /= 2;
                w /= 2;
                flops += 4 * c * h * w;
            }
        } else {
            let elements = out * h * w;
            flops += 2 * 9 * c * elements + 2 * elements + elements;
            c = out;
        }
    }
    flops += c * h * w + 2 * c * classes + classes;
    Ok(flops as u64)
}

/// Network slimming's sparsity penalty: `strength · Σ |γ|` over every batch-norm scale, added
/// to each step's loss (its gradient `strength · sign(γ)` is what the authors' `updateBN` adds
/// to γ's gradient; s = 1e-4 in You et al.).
pub struct SlimmingPenalty {
    strength: f64,
    /// The network's batch-norm scales (sharing storage), found at the first step.
    scales: Option<Vec<Tensor>>,
}

impl SlimmingPenalty {
    pub fn new(strength: f64) -> SlimmingPenalty {
        SlimmingPenalty { strength, scales: None }
    }
}

impl Hook for SlimmingPenalty {
    fn adds_loss(&self) -> bool {
        true
    }

    fn extra_loss(&mut self, model: &Model, _t: u64) -> Option<Tensor> {
        let scales = self
            .scales
            .get_or_insert_with(|| model.trainable().into_iter().filter(|(n, _)| n.contains(".bn.") && n.ends_with(".weight")).map(|(_, g)| g).collect());
        let sums: Vec<Tensor> = scales.iter().map(|g| g.abs().sum(Kind::Float)).collect();
        (!sums.is_empty()).then(|| Tensor::stack(&sums, 0).sum(Kind::Float) * self.strength)
    }
}
