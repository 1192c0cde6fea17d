//! Pruners: how a stage scores the weights of a network before pruning it. A pruner gives one
//! score per prunable weight, higher = kept, from whatever it needs: the weights (magnitude),
//! nothing (random), gradients on a prune set of training examples (SNIP, GraSP) or of a
//! data-free objective (SynFlow). In IMP the config's rule ([`crate::prune::PruneConfig`]:
//! per-layer rates or one global fraction) then removes the lowest-scoring survivors with the
//! project's rounding and tie rule ([`Mask::prune_scores`]); the config's `pruner` names one
//! (default `magnitude`, the lottery ticket's). Pruning at initialisation
//! ([`crate::stage::at_init`]) scores θ_0 and keeps the scores above Tanaka et al.'s global
//! threshold ([`Mask::keep_above_kth`]).
//!
//! Adding a pruner is one file and a line in [`builtin`] (or a [`register`] call for a paper's
//! or a test's own), with no edit to [`crate::imp`], [`crate::stage`] or [`crate::config`].
//! Zhou et al.'s criteria, with their random tie key and intersection rules, are the config's
//! `ticket` ([`crate::ticket`]), which replaces the pruner when set.

pub mod grasp;
pub mod magnitude;
pub mod random;
pub mod snip;
pub mod synflow;

use crate::models::{LayerInfo, Model};
use crate::prune::Mask;
use crate::registry::Registry;
use crate::rng;
use crate::stage::StageCx;
use crate::train::Weights;
use anyhow::Result;
use tch::Tensor;

/// Scores the survivors of a mask for one pruning level.
pub trait Pruner: Sync + Send {
    /// Config name (`magnitude`): an API boundary, as stage kinds' names.
    fn name(&self) -> &'static str;

    /// One score per weight of every masked layer (same names and shapes as the mask's); the
    /// lowest-scoring survivors are removed. Scores of already-pruned weights are ignored.
    fn scores(&self, cx: &PruneCx) -> Result<Weights>;
}

/// What a pruner sees: the stage being built (its experiment and data, replicate and level),
/// the network holding the weights it scores (IMP: the previous level's final weights; at
/// initialisation: θ_0), already multiplied by `mask`, and that mask. A pruner may run the
/// network forward and backward, and may change its values if it puts them back.
pub struct PruneCx<'a> {
    pub stage: &'a StageCx<'a>,
    pub model: &'a Model,
    /// The mask being pruned further (the previous level's, or the previous iteration's).
    pub mask: &'a Mask,
}

impl PruneCx<'_> {
    /// The network's prunable layers, in sorted-name order.
    pub fn layers(&self) -> &[LayerInfo] {
        self.model.layers()
    }

    /// The masked layers' tensors (sharing the model's storage), by name.
    pub fn weights(&self) -> Weights {
        let params = self.model.parameters();
        self.mask.0.keys().map(|name| (name.clone(), params[name].shallow_clone())).collect()
    }

    /// Gradients of the scalar `objective` with respect to each masked layer's weights, by name
    /// (`create_graph` keeps them differentiable, for a Hessian–vector product).
    pub fn gradients(&self, objective: &Tensor, create_graph: bool) -> Weights {
        let weights = self.weights();
        let inputs: Vec<&Tensor> = weights.values().collect();
        let grads = Tensor::run_backward(&[objective], &inputs, create_graph, create_graph);
        weights.keys().cloned().zip(grads).collect()
    }

    /// The prune set of the data-dependent pruners, as Tanaka et al. draw it: `per_class` ×
    /// classes training examples chosen uniformly without replacement (not balanced by class)
    /// by the stream `prune-set` at the replicate, in batches of at most `batch` —
    /// `(images [B, C, H, W], labels [B])` on the model's device.
    pub fn prune_set(&self, per_class: usize, batch: usize) -> Vec<(Tensor, Tensor)> {
        let train = &self.stage.exp.data.train;
        let n = (per_class * self.stage.exp.data.num_classes as usize).min(train.len());
        let mut stream = rng::stream(self.stage.config().seed, "prune-set", &[self.stage.job.replicate as u64]);
        let order = rng::permutation(&mut stream, train.len());
        let device = self.model.device();
        order[..n]
            .chunks(batch)
            .map(|ix| {
                let ix = Tensor::from_slice(ix).to_device(train.images.device());
                (train.images.index_select(0, &ix).to_device(device), train.labels.index_select(0, &ix).to_device(device))
            })
            .collect()
    }
}

/// `sum + g`, layer by layer (`g` when there is no sum yet): gradients summed over batches.
fn accumulate(sum: Option<Weights>, g: Weights) -> Weights {
    match sum {
        None => g,
        Some(s) => s.into_iter().map(|(name, t)| (name.clone(), t + &g[&name])).collect(),
    }
}

/// The built-in pruners.
fn builtin() -> Vec<&'static dyn Pruner> {
    vec![&magnitude::Magnitude, &random::Random, &snip::Snip, &grasp::Grasp, &synflow::SynFlow]
}

static PRUNERS: Registry<dyn Pruner> = Registry::new("pruner", builtin, |p| p.name());

/// Adds a pruner (a paper's own, or a test's) after the built-in ones.
pub fn register(pruner: &'static dyn Pruner) -> Result<()> {
    PRUNERS.register(pruner)
}

crate::registered_name! {
    /// A pruner by name, as the config's `pruner` names it.
    PrunerName => PRUNERS, dyn Pruner
}

impl PrunerName {
    pub const MAGNITUDE: PrunerName = PrunerName("magnitude");
    pub const RANDOM: PrunerName = PrunerName("random");
    pub const SNIP: PrunerName = PrunerName("snip");
    pub const GRASP: PrunerName = PrunerName("grasp");
    pub const SYNFLOW: PrunerName = PrunerName("synflow");
}

impl Default for PrunerName {
    fn default() -> Self {
        PrunerName::MAGNITUDE
    }
}

/// The child of `cx.mask` that `pruner` and the config's rule give at `cx.stage`'s level.
pub fn prune(pruner: PrunerName, cx: &PruneCx) -> Result<Mask> {
    let scores = pruner.get().scores(cx)?;
    Ok(cx.mask.prune_scores(&scores, cx.layers(), &cx.stage.config().prune))
}
