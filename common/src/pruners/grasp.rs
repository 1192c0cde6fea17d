//! `grasp` (Wang et al. 2020, as Tanaka et al.'s code computes it): a weight's score is
//! `θ ⊙ (H g)`, higher kept, with the logits divided by the temperature 200, `g` the gradient
//! of the cross-entropy on the prune set (10 training examples per class, batches of 256,
//! summed over batches, held constant) and `H g` the gradient of `gᵀ ∇L` by double
//! backpropagation, summed over batches; the network is in evaluation mode. Their code then
//! divides by `|Σ scores| + 1e-10`, which changes no ranking and is left out here.

use super::snip::{PRUNE_SET_BATCH, PRUNE_SET_PER_CLASS};
use super::{PruneCx, Pruner};
use crate::train::Weights;
use anyhow::Result;
use tch::{Kind, Tensor};

/// The logits' temperature.
pub const TEMPERATURE: f64 = 200.0;

pub struct Grasp;

impl Pruner for Grasp {
    fn name(&self) -> &'static str {
        "grasp"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        let batches = cx.prune_set(PRUNE_SET_PER_CLASS, PRUNE_SET_BATCH);
        anyhow::ensure!(!batches.is_empty(), "GraSP needs training examples for its prune set; the training split is empty");
        let loss = |x: &Tensor, y: &Tensor| (cx.model.forward_t(x, false) / TEMPERATURE).cross_entropy_for_logits(y);
        let mut stopped: Option<Weights> = None;
        for (x, y) in &batches {
            let g = cx.gradients(&loss(x, y), false);
            stopped = Some(super::accumulate(stopped.take(), g));
        }
        let stopped = stopped.expect("at least one batch");
        let mut hg: Option<Weights> = None;
        for (x, y) in &batches {
            let g = cx.gradients(&loss(x, y), true);
            let dot = g.iter().map(|(name, t)| (t * &stopped[name]).sum(Kind::Float)).reduce(|a, b| a + b).expect("a prunable layer");
            let h = cx.gradients(&dot, false);
            hg = Some(super::accumulate(hg.take(), h));
        }
        let weights = cx.weights();
        Ok(tch::no_grad(|| hg.expect("at least one batch").into_iter().map(|(name, t)| (name.clone(), t * &weights[&name])).collect()))
    }
}
