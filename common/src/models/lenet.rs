//! Fully connected LeNet (LeNet-300-100 with `hidden = [300, 100]`): flatten, ReLU hidden layers
//! `fc1 … fcK`, output layer `fc{K+1}`.

use super::{Init, LayerRole};
use tch::nn::{self, Module};
use tch::Tensor;

pub struct Lenet {
    layers: Vec<nn::Linear>,
}

impl Lenet {
    pub fn new(p: &nn::Path, init: &Init, shape: [i64; 3], hidden: &[i64], classes: i64) -> Self {
        let mut widths = vec![shape.iter().product::<i64>()];
        widths.extend_from_slice(hidden);
        widths.push(classes);
        let layers = widths.windows(2).enumerate().map(|(i, w)| init.linear(p / format!("fc{}", i + 1), w[0], w[1])).collect();
        Lenet { layers }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let n = self.layers.len();
        (0..n).map(|i| (format!("fc{}.weight", i + 1), if i + 1 == n { LayerRole::Output } else { LayerRole::Fc })).collect()
    }

    /// # Shapes
    /// `[B, C, H, W]` → `[B, classes]`.
    pub fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let mut h = xs.flatten(1, -1); // [B, C*H*W]
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h);
            if i < last {
                h = h.relu();
            }
        }
        h
    }
}
