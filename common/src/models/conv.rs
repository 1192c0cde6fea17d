//! Conv-2/4/6 (Frankle & Carbin, Figure 2): VGG-like blocks of two 3×3 same-padded convolutions
//! with ReLU and a 2×2 max-pool (64, 128, 256 channels), then FC 256 → 256 → classes.
//! Names: `conv1 … conv{depth}`, `fc1`, `fc2`, `fc3` (output).

use super::{Init, LayerRole};
use tch::nn::{self, Module};
use tch::Tensor;

pub struct ConvNet {
    convs: Vec<nn::Conv2D>,
    fcs: Vec<nn::Linear>,
}

impl ConvNet {
    pub fn new(p: &nn::Path, init: &Init, shape: [i64; 3], depth: usize, classes: i64) -> Self {
        let mut convs = Vec::new();
        let mut c = shape[0];
        for i in 0..depth {
            let out = 64 << (i / 2);
            convs.push(init.conv(p / format!("conv{}", i + 1), c, out, 3, 1, true));
            c = out;
        }
        let side = shape[1] >> (depth / 2);
        let side_w = shape[2] >> (depth / 2);
        let flat = c * side * side_w;
        let fcs = vec![init.linear(p / "fc1", flat, 256), init.linear(p / "fc2", 256, 256), init.linear(p / "fc3", 256, classes)];
        ConvNet { convs, fcs }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut v: Vec<_> = (0..self.convs.len()).map(|i| (format!("conv{}.weight", i + 1), LayerRole::Conv)).collect();
        v.push(("fc1.weight".into(), LayerRole::Fc));
        v.push(("fc2.weight".into(), LayerRole::Fc));
        v.push(("fc3.weight".into(), LayerRole::Output));
        v
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, classes]`; after the convolutions `[B, 64·2^(depth/2-1), H/2^(depth/2), W/2^(depth/2)]`.
    pub fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let mut h = xs.shallow_clone();
        for pair in self.convs.chunks(2) {
            for c in pair {
                h = c.forward(&h).relu();
            }
            h = h.max_pool2d_default(2);
        }
        let h = h.flatten(1, -1);
        let h = self.fcs[0].forward(&h).relu();
        let h = self.fcs[1].forward(&h).relu();
        self.fcs[2].forward(&h)
    }
}
