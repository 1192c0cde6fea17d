//! Network slimming's CIFAR PreResNet (Liu et al. 2017's `preresnet.py`, which You et al.'s
//! `models/preresnet.py` keeps): pre-activation bottleneck blocks, depth `9n + 2` (101 in You
//! et al., 164 in Liu et al.): a 3×3 stem convolution to `w` channels, three stages of `n`
//! blocks of `planes` = w, 2w, 4w (stride 2 entering stages 2 and 3), each block
//! `BN → ReLU → 1×1 conv (planes) → BN → ReLU → 3×3 conv (planes, the stage's stride) → BN →
//! ReLU → 1×1 conv (4·planes)` added to its input (through a bias-free 1×1 convolution, the
//! `downsample`, where the shape changes), then a final BN → ReLU, global average pooling and
//! one linear layer.
//!
//! A channel-pruned PreResNet ([`Arch::PreresnetChannels`](super::Arch)) keeps the residual
//! stream whole: each block's first batch norm normalises every channel of its input and a
//! channel selection (the authors' `channel_selection` layer) passes only the kept ones to the
//! first convolution; the two inner widths shrink; the final batch norm's selection feeds the
//! linear layer.
//!
//! Names are the authors': `conv1`, `layer{1,2,3}.{b}.bn1|conv1|bn2|conv2|bn3|conv3`,
//! `layer{s}.0.downsample.0`, `bn`, `fc`. Initialisation: the configured one for convolutions
//! and batch norms (network slimming's: convolutions N(0, √(2/(9·out))), γ = 0.5); the linear
//! layer keeps PyTorch's default under network slimming's initialiser, as `preresnet.py`
//! re-initialises convolutions and batch norms only.

use super::{Init, InitKind, LayerRole};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// One block of a channel-pruned PreResNet: the input channels its first batch norm passes on
/// (indices into the block's input, ascending) and its two inner widths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedBlock {
    pub select: Vec<i64>,
    pub inner: [i64; 2],
}

/// Blocks per stage of PreResNet-`depth` (`None` unless depth = 9n + 2, n ≥ 1).
pub fn blocks_per_stage(depth: usize) -> Option<usize> {
    (depth >= 11 && (depth - 2).is_multiple_of(9)).then(|| (depth - 2) / 9)
}

/// Each block's `(input channels, planes, stride)` in forward order, for base width `width`.
pub fn block_plan(depth: usize, width: i64) -> Vec<(i64, i64, i64)> {
    let n = blocks_per_stage(depth).unwrap_or(0);
    let mut plan = Vec::new();
    let mut inplanes = width;
    for stage in 0..3 {
        let planes = width << stage;
        for b in 0..n {
            plan.push((inplanes, planes, if stage > 0 && b == 0 { 2 } else { 1 }));
            inplanes = 4 * planes;
        }
    }
    plan
}

/// `layer{s}.{b}` of block `i` of PreResNet-`depth`.
pub fn block_name(depth: usize, i: usize) -> String {
    let n = blocks_per_stage(depth).unwrap_or(1);
    format!("layer{}.{}", i / n + 1, i % n)
}

/// The batch norms in forward order — each block's `bn1`, `bn2`, `bn3`, then the final `bn` —
/// whose scales network slimming pools (the authors iterate `model.modules()` in this order).
pub fn batch_norms(depth: usize) -> Vec<String> {
    let blocks = 3 * blocks_per_stage(depth).unwrap_or(0);
    let mut out: Vec<String> = (0..blocks).flat_map(|i| ["bn1", "bn2", "bn3"].map(|bn| format!("{}.{bn}", block_name(depth, i)))).collect();
    out.push("bn".into());
    out
}

/// Whether a channel-pruned PreResNet's plan fits PreResNet-`depth` of width `width`: one block
/// per block of the network, each selection non-empty, ascending and within its input, each
/// inner width 1 to 8,192; the final selection likewise within the `16 · width` channels.
pub fn valid_pruning(depth: usize, width: i64, blocks: &[PrunedBlock], output: &[i64]) -> bool {
    let selection = |s: &[i64], within: i64| !s.is_empty() && s.windows(2).all(|w| w[0] < w[1]) && s.iter().all(|&c| (0..within).contains(&c));
    let plan = block_plan(depth, width);
    blocks_per_stage(depth).is_some()
        && (1..=1_024).contains(&width)
        && plan.len() == blocks.len()
        && plan.iter().zip(blocks).all(|(&(inplanes, _, _), b)| selection(&b.select, inplanes) && b.inner.iter().all(|&c| (1..=8_192).contains(&c)))
        && selection(output, 16 * width)
}

struct Block {
    bn1: nn::BatchNorm,
    /// The kept input channels (a pruned network), on the CPU.
    select: Option<Tensor>,
    conv1: nn::Conv2D,
    bn2: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn3: nn::BatchNorm,
    conv3: nn::Conv2D,
    /// The 1×1 projection of the residual and its stride.
    downsample: Option<(nn::Conv2D, i64)>,
}

pub(crate) struct Preresnet {
    conv1: nn::Conv2D,
    blocks: Vec<Block>,
    names: Vec<String>,
    bn: nn::BatchNorm,
    select: Option<Tensor>,
    fc: nn::Linear,
}

/// `index_select` over channels by a CPU index, moved to `h`'s device.
fn selected(h: Tensor, select: &Option<Tensor>) -> Tensor {
    match select {
        Some(index) => h.index_select(1, &index.to_device(h.device())),
        None => h,
    }
}

impl Preresnet {
    /// PreResNet-`depth` of base width `width` on `shape` inputs; `pruned`: per block its
    /// selection and inner widths, and the final selection (a channel-pruned network), or
    /// `None` for the whole one.
    pub(crate) fn new(p: &nn::Path, init: &Init, shape: [i64; 3], depth: usize, width: i64, pruned: Option<(&[PrunedBlock], &[i64])>, classes: i64) -> Self {
        let conv1 = init.conv(p / "conv1", shape[0], width, 3, 1, false);
        let index = |v: &[i64]| Tensor::from_slice(v);
        let mut blocks = Vec::new();
        let mut names = Vec::new();
        for (i, (inplanes, planes, stride)) in block_plan(depth, width).into_iter().enumerate() {
            let name = block_name(depth, i);
            let (layer, b) = name.split_once('.').expect("layer{s}.{b}");
            let q = p / layer / b;
            let (select, [c1, c2]) = match pruned {
                Some((b, _)) => (Some(index(&b[i].select)), b[i].inner),
                None => (None, [planes, planes]),
            };
            let c0 = pruned.map_or(inplanes, |(b, _)| b[i].select.len() as i64);
            let downsample =
                (stride != 1 || inplanes != 4 * planes).then(|| (init.conv(&q / "downsample" / "0", inplanes, 4 * planes, 1, stride, false), stride));
            blocks.push(Block {
                bn1: init.bn(&q / "bn1", inplanes),
                select,
                conv1: init.conv(&q / "conv1", c0, c1, 1, 1, false),
                bn2: init.bn(&q / "bn2", c1),
                conv2: init.conv(&q / "conv2", c1, c2, 3, stride, false),
                bn3: init.bn(&q / "bn3", c2),
                conv3: init.conv(&q / "conv3", c2, 4 * planes, 1, 1, false),
                downsample,
            });
            names.push(name);
        }
        let out = 16 * width;
        let select = pruned.map(|(_, last)| index(last));
        let kept = pruned.map_or(out, |(_, last)| last.len() as i64);
        let torch_default = Init(InitKind::TorchDefault);
        let head = if init.0 == InitKind::NetworkSlimming { &torch_default } else { init };
        Preresnet { conv1, blocks, names, bn: init.bn(p / "bn", out), select, fc: head.linear(p / "fc", kept, classes) }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut v = vec![("conv1.weight".to_string(), LayerRole::Conv)];
        for (b, name) in self.blocks.iter().zip(&self.names) {
            v.extend(["conv1", "conv2", "conv3"].map(|c| (format!("{name}.{c}.weight"), LayerRole::Conv)));
            if b.downsample.is_some() {
                v.push((format!("{name}.downsample.0.weight"), LayerRole::Shortcut));
            }
        }
        v.push(("fc.weight".into(), LayerRole::Output));
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, classes]`; stage i's blocks give `[B, 4·2^i·w, H/2^i, W/2^i]`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = self.conv1.forward(xs);
        for b in &self.blocks {
            let y = selected(b.bn1.forward_t(&h, train), &b.select).relu();
            let y = b.bn2.forward_t(&b.conv1.forward(&y), train).relu();
            let y = b.bn3.forward_t(&b.conv2.forward(&y), train).relu();
            let y = b.conv3.forward(&y);
            h = match &b.downsample {
                Some((c, stride)) => y + super::resnet::project(c, *stride, &h),
                None => y + h,
            };
        }
        let h = selected(self.bn.forward_t(&h, train), &self.select).relu();
        self.fc.forward(&h.adaptive_avg_pool2d([1, 1]).flatten(1, -1))
    }
}
