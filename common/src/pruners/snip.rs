//! `snip` (Lee et al. 2019, as Tanaka et al.'s code computes it): a weight's score is
//! `|θ ⊙ ∂L/∂θ|`, the magnitude of the loss's sensitivity to its mask entry, with `L` the
//! cross-entropy of the network in evaluation mode on the prune set (10 training examples per
//! class, batches of 256), gradients summed over the batches. Their code then divides by the
//! global sum, which changes no ranking and is left out here. On a pruned network this is
//! `|θ ⊙ m ⊙ ∂L/∂w|` (pruned weights score 0); the benchmark scores only the dense θ_0.

use super::{PruneCx, Pruner};
use crate::train::Weights;
use anyhow::Result;

/// Tanaka et al.'s prune set: 10 examples per class, in batches of 256.
pub const PRUNE_SET_PER_CLASS: usize = 10;
pub const PRUNE_SET_BATCH: usize = 256;

pub struct Snip;

impl Pruner for Snip {
    fn name(&self) -> &'static str {
        "snip"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        let weights = cx.weights();
        let mut sum: Option<Weights> = None;
        for (x, y) in cx.prune_set(PRUNE_SET_PER_CLASS, PRUNE_SET_BATCH) {
            let loss = cx.model.forward_t(&x, false).cross_entropy_for_logits(&y);
            let g = cx.gradients(&loss, false);
            sum = Some(super::accumulate(sum.take(), g));
        }
        let sum = sum.ok_or_else(|| anyhow::format_err!("SNIP needs training examples for its prune set; the training split is empty"))?;
        Ok(tch::no_grad(|| sum.into_iter().map(|(name, g)| (name.clone(), (g * &weights[&name]).abs())).collect()))
    }
}
