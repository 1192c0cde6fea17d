//! `synflow` (Tanaka et al. 2020): data-free scores that conserve synaptic flow. Every variable
//! of the network — weights, biases, batch-norm scales, shifts and running statistics — is
//! replaced by its absolute value; in evaluation mode the network maps an all-ones input of one
//! example, `[1, C, H, W]`, to `R = Σ f(1)`; a weight's score is `|θ ⊙ ∂R/∂θ|` on those
//! absolute values. The variables are then put back exactly. Pruned weights (zero in the
//! network) score 0. Iterating it (100 times in the paper) is the stage's business
//! ([`crate::stage::at_init`]).
//!
//! For a bias-free ReLU network the per-layer sums of these scores are equal: each is `R`
//! (synaptic saliency is conserved across every cut of the network, their Theorem 2).

use super::{PruneCx, Pruner};
use crate::train::Weights;
use anyhow::{ensure, Result};
use tch::{Kind, Tensor};

pub struct SynFlow;

impl Pruner for SynFlow {
    fn name(&self) -> &'static str {
        "synflow"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        let variables = cx.model.parameters();
        let kept: Vec<(Tensor, Tensor)> = tch::no_grad(|| {
            variables
                .values()
                .map(|v| {
                    let original = v.copy();
                    let _ = v.shallow_clone().abs_();
                    (v.shallow_clone(), original)
                })
                .collect()
        });
        let [c, h, w] = cx.stage.exp.data.shape;
        let ones = Tensor::ones([1, c, h, w], (Kind::Float, cx.model.device()));
        let r = cx.model.forward_t(&ones, false).sum(Kind::Float);
        let finite = r.double_value(&[]).is_finite();
        let grads = cx.gradients(&r, false);
        let weights = cx.weights();
        let scores = tch::no_grad(|| grads.into_iter().map(|(name, g)| (name.clone(), (g * &weights[&name]).abs())).collect());
        tch::no_grad(|| {
            for (mut v, original) in kept {
                v.copy_(&original);
            }
        });
        ensure!(finite, "SynFlow's objective R = Σ f(1) is not finite in 32-bit floats for this network; it needs fewer or narrower layers");
        Ok(scores)
    }
}
