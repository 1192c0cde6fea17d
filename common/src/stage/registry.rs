//! The stage kinds a branch can be, by name: the built-in ones in canonical order (the order of
//! a replicate's stages), then any a paper or a test registers ([`register`]).

use super::{learned_supermask, oneshot, random_prune, reinit, spawn, untrained, Kind};
use crate::registry::Registry;
use anyhow::Result;

/// The built-in branch kinds. Adding one: a file beside this one, a line here, and (to name it
/// in presets) a constant of [`BranchKind`].
fn builtin() -> Vec<&'static dyn Kind> {
    vec![
        &reinit::Reinit,
        &random_prune::RandomPrune,
        &oneshot::ONESHOT,
        &oneshot::ONESHOT_REINIT,
        &spawn::SPAWN,
        &spawn::SPAWN_REINIT,
        &spawn::SPAWN_RANDOM_PRUNE,
        &untrained::UNTRAINED,
        &untrained::UNTRAINED_SIGNED_CONSTANT,
        &learned_supermask::LearnedSupermask,
    ]
}

static KINDS: Registry<dyn Kind> = Registry::new("branch kind", builtin, |k| k.name());

/// Adds a branch kind (a paper's own, or a test's) after the built-in ones.
pub fn register(kind: &'static dyn Kind) -> Result<()> {
    KINDS.register(kind)
}

crate::registered_name! {
    /// A branch kind by name: what a config's `branches` table, stage folders (`reinit_2`) and
    /// HDF5 groups call it.
    BranchKind => KINDS, dyn Kind
}

impl BranchKind {
    pub const REINIT: BranchKind = BranchKind("reinit");
    pub const RANDOM_PRUNE: BranchKind = BranchKind("random-prune");
    pub const ONESHOT: BranchKind = BranchKind("oneshot");
    pub const ONESHOT_REINIT: BranchKind = BranchKind("oneshot-reinit");
    pub const SPAWN: BranchKind = BranchKind("spawn");
    pub const SPAWN_REINIT: BranchKind = BranchKind("spawn-reinit");
    pub const SPAWN_RANDOM_PRUNE: BranchKind = BranchKind("spawn-random-prune");
    pub const UNTRAINED: BranchKind = BranchKind("untrained");
    pub const UNTRAINED_SIGNED_CONSTANT: BranchKind = BranchKind("untrained-signed-constant");
    pub const LEARNED_SUPERMASK: BranchKind = BranchKind("learned-supermask");
}
