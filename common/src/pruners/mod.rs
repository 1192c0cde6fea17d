//! Pruners: how the trunk scores the surviving weights before each pruning level. A pruner
//! gives one score per prunable weight; the config's rule ([`crate::prune::PruneConfig`]:
//! per-layer rates or one global fraction) then removes the lowest-scoring survivors with the
//! project's rounding and tie rule ([`Mask::prune_scores`]). The config's `pruner` names one
//! (default `magnitude`, the lottery ticket's).
//!
//! Adding a pruner is one file and a line in [`builtin`] (or a [`register`] call for a paper's
//! or a test's own), with no edit to [`crate::imp`], [`crate::stage`] or [`crate::config`].
//! Zhou et al.'s criteria, with their random tie key and intersection rules, are the config's
//! `ticket` ([`crate::ticket`]), which replaces the pruner when set.

pub mod magnitude;
pub mod random;

use crate::models::LayerInfo;
use crate::prune::Mask;
use crate::registry::Registry;
use crate::stage::StageCx;
use crate::train::Weights;
use anyhow::Result;

/// Scores the survivors of a mask for one pruning level.
pub trait Pruner: Sync + Send {
    /// Config name (`magnitude`): an API boundary, as stage kinds' names.
    fn name(&self) -> &'static str;

    /// One score per weight of every masked layer (same names and shapes as the mask's); the
    /// lowest-scoring survivors are removed. Scores of already-pruned weights are ignored.
    fn scores(&self, cx: &PruneCx) -> Result<Weights>;
}

/// What a pruner sees: the stage being built (its experiment, replicate and level), the
/// network's prunable layers, the mask it prunes further and the weights that mask was trained
/// to.
pub struct PruneCx<'a> {
    pub stage: &'a StageCx<'a>,
    pub layers: &'a [LayerInfo],
    /// The previous level's mask.
    pub mask: &'a Mask,
    /// The previous level's final weights.
    pub trained: &'a Weights,
}

/// The built-in pruners.
fn builtin() -> Vec<&'static dyn Pruner> {
    vec![&magnitude::Magnitude, &random::Random]
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
}

impl Default for PrunerName {
    fn default() -> Self {
        PrunerName::MAGNITUDE
    }
}

/// The child of `cx.mask` that `pruner` and the config's rule give at `cx.stage`'s level.
pub fn prune(pruner: PrunerName, cx: &PruneCx) -> Result<Mask> {
    let scores = pruner.get().scores(cx)?;
    Ok(cx.mask.prune_scores(&scores, cx.layers, &cx.stage.config().prune))
}
