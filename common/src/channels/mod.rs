//! Structured pruning of whole channels by batch-norm scale: network slimming (Liu et al.
//! 2017) as You et al. (2020) use it to draw early-bird tickets.
//!
//! A channel layer is one batch norm; its channels are its scales γ (and shifts β). The channel
//! layers of a network are its batch norms in forward order: a VGG's (`layers.{i}.bn`, one per
//! convolution, [`vgg`]) or a PreResNet's (each block's `bn1`, `bn2`, `bn3`, then the final
//! `bn`, [`preresnet`]). A [`ChannelMask`] keeps or removes each channel of each layer.
//! [`ChannelMask::global`] is the authors' rule: all |γ| of the network pooled and sorted
//! ascending, the threshold the value at index `⌊total · p⌋`, a channel kept iff its |γ| is
//! strictly above it. [`ChannelMask::distance`] is their mask distance (normalised Hamming),
//! and [`EarlyBird`] their detector: the mask of every epoch start enters a window of the last
//! five, and a ticket is found when the newest is within ε of each of the four before it.
//!
//! [`prune`] removes the channels physically: a smaller network ([`Arch::VggChannels`],
//! [`Arch::PreresnetChannels`]) whose convolutions, batch norms and the next layer's input
//! channels hold the survivors' values, so it computes what the dense network computes with
//! the removed channels' γ and β set to zero (a removed channel's output is then zero after
//! its ReLU). Where a batch norm normalises a residual stream (a PreResNet block's `bn1`, the
//! final `bn`), the stream keeps every channel and only the convolution (or linear layer) it
//! feeds loses the removed ones — the authors' `channel_selection`. Which tensor loses which
//! channels is one table per network ([`Axes`]), shared by [`prune`] and [`element_mask`] (the
//! same removal as a weight mask of the dense network: what density counts). [`forward_flops`]
//! counts a forward pass as the authors' `compute_flops.py` does.

mod preresnet;
mod vgg;

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

/// The channel layers whose output (dimension 0) and input (dimension 1) channels a variable
/// follows; `None`: that dimension is kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Axes {
    out: Option<usize>,
    inp: Option<usize>,
}

impl Axes {
    const WHOLE: Axes = Axes { out: None, inp: None };
}

/// A network whose channels network slimming can remove.
enum Slimmable {
    Vgg { depth: usize, plan: Vec<i64> },
    Preresnet { depth: usize, width: i64, pruned: bool },
}

impl Slimmable {
    fn of(arch: &Arch) -> Result<Slimmable> {
        Ok(match arch {
            Arch::Vgg { .. } | Arch::VggChannels { .. } => {
                let (depth, plan) = arch.vgg_plan().context("a VGG has a plan")?;
                Slimmable::Vgg { depth, plan }
            }
            Arch::Preresnet { depth, width } => Slimmable::Preresnet { depth: *depth, width: *width, pruned: false },
            Arch::PreresnetChannels { depth, width, .. } => Slimmable::Preresnet { depth: *depth, width: *width, pruned: true },
            other => bail!("channel pruning is built for VGG and PreResNet networks, not {other:?}; use a vgg-11, vgg-16, vgg-19 or preresnet-101 model"),
        })
    }

    /// The channel layers' batch norms in forward order.
    fn batch_norms(&self) -> Vec<String> {
        match self {
            Slimmable::Vgg { plan, .. } => (0..plan.iter().filter(|&&w| w != 0).count()).map(|i| format!("layers.{i}.bn")).collect(),
            Slimmable::Preresnet { depth, .. } => crate::models::preresnet::batch_norms(*depth),
        }
    }

    /// Which channel layers variable `name` follows.
    fn axes(&self, name: &str, layers: usize) -> Result<Axes> {
        match self {
            Slimmable::Vgg { .. } => vgg::axes(name, layers),
            Slimmable::Preresnet { depth, .. } => preresnet::axes(*depth, name),
        }
    }
}

/// Whether `arch` is a network whose channels can be removed (the reason and the fix if not).
pub fn check_supported(arch: &Arch) -> Result<()> {
    Slimmable::of(arch).map(|_| ())
}

/// |γ| of every channel of `model`, per channel layer in forward order.
pub fn bn_scales(model: &Model) -> Result<Vec<Vec<f32>>> {
    let params = model.parameters();
    Slimmable::of(&model.config.arch)?
        .batch_norms()
        .iter()
        .map(|bn| {
            let gamma = params.get(&format!("{bn}.weight")).with_context(|| format!("no batch norm {bn}"))?;
            Ok(Vec::<f32>::try_from(gamma.detach().abs().to_device(tch::Device::Cpu).to_kind(Kind::Float).flatten(0, -1))?)
        })
        .collect()
}

/// The channel-pruned copy of the whole network `model`: only `keep`'s channels, holding their
/// values (convolution filters and their input channels, batch-norm scale, shift and running
/// statistics, the output layer's input columns), on the same device.
pub fn prune(model: &Model, keep: &ChannelMask) -> Result<Model> {
    let net = Slimmable::of(&model.config.arch)?;
    let layers = net.batch_norms().len();
    let kept = keep.kept();
    if kept.len() != layers || kept.contains(&0) {
        bail!("a channel mask must keep at least one channel in each of the network's {layers} channel layers (kept {kept:?})");
    }
    let arch = match net {
        Slimmable::Vgg { depth, .. } => Arch::VggChannels { depth, channels: kept },
        Slimmable::Preresnet { pruned: true, .. } => bail!("the network is channel-pruned already; prune the whole network"),
        Slimmable::Preresnet { depth, width, pruned: false } => preresnet::pruned_arch(depth, width, keep),
    };
    let device = model.device();
    let index = |i: usize| Tensor::from_slice(&(0..keep.0[i].len() as i64).filter(|&c| keep.0[i][c as usize]).collect::<Vec<_>>()).to_device(device);
    let mut values = BTreeMap::new();
    for (name, v) in model.parameters() {
        let axes = net.axes(&name, layers)?;
        // `restore` copies into the small network's own variables: no copy here.
        let mut v = v.detach();
        if let Some(i) = axes.out {
            v = v.index_select(0, &index(i));
        }
        if let Some(i) = axes.inp {
            v = v.index_select(1, &index(i));
        }
        values.insert(name, v);
    }
    let config = crate::models::ModelConfig { arch, init: model.config.init };
    let mut small = Model::new(&config, model.shape, model.classes, 0, device)?;
    small.restore(&values)?;
    Ok(small)
}

/// `keep` as a mask of the dense network's prunable weights: an entry is kept iff its output
/// channel and its input channel survive, in whichever channel layers the weight follows.
pub fn element_mask(model: &Model, keep: &ChannelMask) -> Result<Mask> {
    let net = Slimmable::of(&model.config.arch)?;
    let layers = net.batch_norms().len();
    let device = model.device();
    let along = |i: usize, dim: usize, ndim: usize| {
        let mut shape = vec![1i64; ndim];
        shape[dim] = -1;
        Tensor::from_slice(&keep.0[i].iter().map(|&b| f32::from(u8::from(b))).collect::<Vec<_>>()).to_device(device).view(shape.as_slice())
    };
    let mut mask = Mask::dense(model);
    for (name, m) in mask.0.iter_mut() {
        let axes = net.axes(name, layers)?;
        let mut shaped = m.to_kind(Kind::Float);
        if let Some(i) = axes.out {
            shaped *= along(i, 0, m.dim());
        }
        if let Some(i) = axes.inp {
            shaped *= along(i, 1, m.dim());
        }
        *m = shaped.to_kind(m.kind());
    }
    Ok(mask)
}

/// FLOPs of one example's forward pass through `arch` on `shape = (C, H, W)` inputs with
/// `classes` outputs, counted as the authors' `compute_flops.py` counts (multiply–adds as two):
/// a k×k convolution `2·k²·c_in` per output element, batch norm 2 and ReLU 1 per input element,
/// a 2×2 max-pool 4 per output element, the linear layer `2·in·out + out` ([`vgg::flops`],
/// [`preresnet::flops`] for what each network adds).
pub fn forward_flops(arch: &Arch, shape: [i64; 3], classes: i64) -> Result<u64> {
    Ok(match Slimmable::of(arch)? {
        Slimmable::Vgg { plan, .. } => vgg::flops(&plan, shape, classes),
        Slimmable::Preresnet { .. } => preresnet::flops(arch, shape, classes)?,
    })
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

/// Every batch norm's scale γ in `model` (a `.weight` with a `.running_mean` beside it), in
/// sorted-name order, sharing storage: what network slimming's penalty sums (the authors'
/// `updateBN` visits every `BatchNorm2d`, a PreResNet block's `bn1` and the final `bn`
/// included).
fn batch_norm_scales(model: &Model) -> Vec<Tensor> {
    let params = model.parameters();
    let is_batch_norm = |n: &str| n.strip_suffix(".weight").is_some_and(|layer| params.contains_key(&format!("{layer}.running_mean")));
    model.trainable().into_iter().filter(|(n, _)| is_batch_norm(n)).map(|(_, g)| g).collect()
}

impl Hook for SlimmingPenalty {
    fn adds_loss(&self) -> bool {
        true
    }

    fn extra_loss(&mut self, model: &Model, _t: u64) -> Option<Tensor> {
        let scales = self.scales.get_or_insert_with(|| batch_norm_scales(model));
        let sums: Vec<Tensor> = scales.iter().map(|g| g.abs().sum(Kind::Float)).collect();
        (!sums.is_empty()).then(|| Tensor::stack(&sums, 0).sum(Kind::Float) * self.strength)
    }
}
