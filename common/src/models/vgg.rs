//! CIFAR VGG-11/16/19 with batch norm (open_lth `cifar_vgg`): 3×3 convolutions + BN + ReLU,
//! 2×2 max-pools between groups, then global average pooling and one linear layer, so the input
//! size and class count may change (Morcos et al. transfer). Names: `layers.{i}.conv|bn`, `fc`.

use super::{Init, LayerRole};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Channel plan at width 64; 0 marks a max-pool.
fn plan(depth: usize) -> &'static [i64] {
    match depth {
        11 => &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512],
        16 => &[64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512],
        _ => &[64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512],
    }
}

/// The plan of VGG-`depth` whose first group has `width` channels (every group scales with it).
pub fn widths(depth: usize, width: i64) -> Vec<i64> {
    plan(depth).iter().map(|&w| w * width / 64).collect()
}

/// The plan of VGG-`depth` with `channels[i]` channels in its `i`-th convolution.
pub fn with_channels(depth: usize, channels: &[i64]) -> Vec<i64> {
    let mut next = channels.iter();
    plan(depth).iter().map(|&w| if w == 0 { 0 } else { next.next().copied().unwrap_or(0) }).collect()
}

/// How many convolutions VGG-`depth` has.
pub fn convolutions(depth: usize) -> usize {
    plan(depth).iter().filter(|&&w| w != 0).count()
}

pub struct Vgg {
    /// `None` = max-pool.
    layers: Vec<Option<(nn::Conv2D, nn::BatchNorm)>>,
    fc: nn::Linear,
    n_conv: usize,
}

impl Vgg {
    /// `plan`: each convolution's output channels in forward order, 0 for a max-pool
    /// ([`widths`], [`with_channels`]).
    pub fn new(p: &nn::Path, init: &Init, shape: [i64; 3], plan: &[i64], classes: i64) -> Self {
        let mut c = shape[0];
        let mut layers = Vec::new();
        let mut n_conv = 0;
        for &w in plan {
            if w == 0 {
                layers.push(None);
            } else {
                let q = p / "layers" / n_conv.to_string();
                layers.push(Some((init.conv(&q / "conv", c, w, 3, 1, false), init.bn(&q / "bn", w))));
                n_conv += 1;
                c = w;
            }
        }
        let fc = init.linear(p / "fc", c, classes);
        Vgg { layers, fc, n_conv }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut v: Vec<_> = (0..self.n_conv).map(|i| (format!("layers.{i}.conv.weight"), LayerRole::Conv)).collect();
        v.push(("fc.weight".into(), LayerRole::Output));
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, classes]` (global average pool before the linear layer).
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = xs.shallow_clone();
        for l in &self.layers {
            h = match l {
                Some((conv, bn)) => bn.forward_t(&conv.forward(&h), train).relu(),
                None if h.size()[2] >= 2 => h.max_pool2d_default(2),
                None => h,
            };
        }
        let h = h.adaptive_avg_pool2d([1, 1]).flatten(1, -1); // [B, 512]
        self.fc.forward(&h)
    }
}
