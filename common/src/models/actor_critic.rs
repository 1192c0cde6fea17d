//! The actor–critic MLP of Yu et al.'s classic-control games (Table A1, FLARE's
//! `SimpleModelAC`): a shared ReLU trunk `fc1 … fcK` over the observation, then two linear
//! heads on its last layer — `policy` (action logits; the softmax is the task's) and `value`
//! (the state value). Every weight *and bias* is prunable: Yu et al. pool biases with the
//! weights ("all weights (including biases)"), so the biases are listed with
//! [`LayerRole::Bias`] and a global rule decides whether they are pruned.

use super::{Init, LayerRole};
use tch::nn::{self, Module};
use tch::Tensor;

pub struct ActorCritic {
    trunk: Vec<nn::Linear>,
    policy: nn::Linear,
    value: nn::Linear,
}

impl ActorCritic {
    /// `inputs` observation values, `actions` discrete actions.
    pub fn new(p: &nn::Path, init: &Init, inputs: i64, hidden: &[i64], actions: i64) -> Self {
        let mut widths = vec![inputs];
        widths.extend_from_slice(hidden);
        let trunk = widths.windows(2).enumerate().map(|(i, w)| init.linear(p / format!("fc{}", i + 1), w[0], w[1])).collect();
        let last = *widths.last().expect("the input width at least");
        ActorCritic { trunk, policy: init.linear(p / "policy", last, actions), value: init.linear(p / "value", last, 1) }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut out = Vec::new();
        for i in 1..=self.trunk.len() {
            out.push((format!("fc{i}.weight"), LayerRole::Fc));
            out.push((format!("fc{i}.bias"), LayerRole::Bias));
        }
        for head in ["policy", "value"] {
            out.push((format!("{head}.weight"), LayerRole::Output));
            out.push((format!("{head}.bias"), LayerRole::Bias));
        }
        out
    }

    /// # Shapes
    /// `[B, …]` (flattened to `[B, inputs]`) → `[B, actions + 1]`: the policy's logits, then
    /// the value.
    pub fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let h = self.trunk.iter().fold(xs.flatten(1, -1), |h, l| l.forward(&h).relu());
        Tensor::cat(&[self.policy.forward(&h), self.value.forward(&h)], 1)
    }
}
