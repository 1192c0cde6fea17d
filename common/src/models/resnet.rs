//! CIFAR ResNets of basic blocks: a 3×3 stem convolution, stages of basic blocks (widths w, 2w,
//! 4w, …; stride 2 entering every stage after the first, with a 1×1 projection shortcut + BN
//! where the shape changes), global average pool, linear layer. ResNet-20 and -56 (He et al.
//! 2016, §4.2; open_lth `cifar_resnet_20|56`): three stages of three or nine blocks from w = 16.
//! ResNet-18 for 32×32 inputs (the `tinyimagenet` ResNet-18 of Tanaka et al.'s code, after
//! weiaicunzai/pytorch-cifar100): four stages of two blocks from w = 64, a 3×3 stem without
//! max-pool.
//! Names: `conv`, `bn`, `blocks.{i}.conv1|bn1|conv2|bn2|shortcut.conv|shortcut.bn`, `fc`.

use super::{Init, LayerRole};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

struct Block {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    /// The 1×1 projection, its batch norm and its stride.
    shortcut: Option<(nn::Conv2D, nn::BatchNorm, i64)>,
}

pub struct Resnet {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    blocks: Vec<Block>,
    fc: nn::Linear,
}

impl Resnet {
    /// `stages[i]` basic blocks in stage `i` (width `width · 2^i`): `[3, 3, 3]` for ResNet-20,
    /// `[9, 9, 9]` for ResNet-56, `[2, 2, 2, 2]` for ResNet-18.
    pub fn new(p: &nn::Path, init: &Init, shape: [i64; 3], width: i64, stages: &[usize], classes: i64) -> Self {
        let conv = init.conv(p / "conv", shape[0], width, 3, 1, false);
        let bn = init.bn(p / "bn", width);
        let mut blocks = Vec::new();
        let mut cin = width;
        for (stage, &per_stage) in stages.iter().enumerate() {
            let cout = width << stage;
            for b in 0..per_stage {
                let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                let q = p / "blocks" / (blocks.len()).to_string();
                let shortcut = (stride != 1 || cin != cout)
                    .then(|| (init.conv(&q / "shortcut" / "conv", cin, cout, 1, stride, false), init.bn(&q / "shortcut" / "bn", cout), stride));
                blocks.push(Block {
                    conv1: init.conv(&q / "conv1", cin, cout, 3, stride, false),
                    bn1: init.bn(&q / "bn1", cout),
                    conv2: init.conv(&q / "conv2", cout, cout, 3, 1, false),
                    bn2: init.bn(&q / "bn2", cout),
                    shortcut,
                });
                cin = cout;
            }
        }
        let fc = init.linear(p / "fc", cin, classes);
        Resnet { conv, bn, blocks, fc }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut v = vec![("conv.weight".to_string(), LayerRole::Conv)];
        for (i, b) in self.blocks.iter().enumerate() {
            v.push((format!("blocks.{i}.conv1.weight"), LayerRole::Conv));
            v.push((format!("blocks.{i}.conv2.weight"), LayerRole::Conv));
            if b.shortcut.is_some() {
                v.push((format!("blocks.{i}.shortcut.conv.weight"), LayerRole::Shortcut));
            }
        }
        v.push(("fc.weight".into(), LayerRole::Output));
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, classes]`; stage i gives `[B, 2^i·w, H/2^i, W/2^i]`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = self.bn.forward_t(&self.conv.forward(xs), train).relu();
        for b in &self.blocks {
            let y = b.bn1.forward_t(&b.conv1.forward(&h), train).relu();
            let y = b.bn2.forward_t(&b.conv2.forward(&y), train);
            let s = match &b.shortcut {
                Some((c, bn, stride)) => bn.forward_t(&project(c, *stride, &h), train),
                None => h.shallow_clone(),
            };
            h = (y + s).relu();
        }
        let h = h.adaptive_avg_pool2d([1, 1]).flatten(1, -1); // [B, last stage's width]
        self.fc.forward(&h)
    }
}

/// The 1×1 projection shortcut `c` (stride `stride`, no padding or bias) on `h` (a PreResNet's
/// downsampling too). oneDNN 3.10.2 (libtorch 2.11) corrupts the heap in the
/// weight gradient of a channels-last 1×1 stride-2 convolution with fewer than 8 input channels
/// on AVX2 CPUs (its `jit_1x1:avx2` backward-weights kernel; reproduced in PyTorch itself with
/// input `[32, 4, 28, 28]`): such a projection — a ResNet narrower than 8 — runs in the standard
/// layout on the CPU, on every machine alike, so the arithmetic does not depend on the CPU's
/// instruction set. Wider projections (every committed result's) keep channels-last.
pub(super) fn project(c: &nn::Conv2D, stride: i64, h: &Tensor) -> Tensor {
    if c.ws.size()[1] >= 8 || h.device() != tch::Device::Cpu {
        return c.forward(h);
    }
    h.contiguous().conv2d(&c.ws.contiguous(), None::<&Tensor>, [stride, stride], [0, 0], [1, 1], 1)
}
