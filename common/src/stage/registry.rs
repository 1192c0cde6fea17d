//! The stage kinds a branch can be, by name: the built-in ones in canonical order (the order of
//! a replicate's stages), then any a paper or a test registers ([`register`]).

use super::{at_init, early_bird, learned_supermask, oneshot, perturbed, pretrained, random_prune, reinit, spawn, statistics, untrained, Kind};
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
        &at_init::PRUNE_AT_INIT,
        &at_init::MASK_AT_INIT,
        &early_bird::Search,
        &early_bird::ChannelTicket,
        &perturbed::RewindPerturbed,
        &statistics::EarlyStatistics,
        &pretrained::Pretrain,
        &pretrained::RewindPretrained,
    ]
}

static KINDS: Registry<dyn Kind> = Registry::new("branch kind", builtin, |k| k.name());

/// Adds a branch kind (a paper's own, or a test's) after the built-in ones.
pub fn register(kind: &'static dyn Kind) -> Result<()> {
    KINDS.register(kind)
}

crate::registered_name! {
    /// A registered kind's name.
    KindName => KINDS, dyn Kind
}

/// Identity of a branch's parameters: the first 32 bits of the SHA-256 of their canonical JSON
/// (the kind's non-default parameters, [`Kind::params`]); 0 when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ParamsId(u32);

impl ParamsId {
    /// The identity of canonical `params` (0 for none).
    pub fn of(params: &super::Params) -> ParamsId {
        if params.is_empty() {
            return ParamsId(0);
        }
        let digest = crate::util::sha256_hex(serde_json::Value::Object(params.clone()).to_string().as_bytes());
        ParamsId(u32::from_str_radix(&digest[..8], 16).expect("hex digits"))
    }
}

/// A branch kind with its parameters' identity: what stage folders (`reinit_2`; with
/// non-default parameters `<kind>-<8 hex digits>_2`, open_lth's rule) and HDF5 groups call a
/// branch. A config's branch names the kind and its `params` separately
/// ([`crate::config::BranchConfig`]). Copy, compared and hashed by (name, parameters),
/// ordered as registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchKind {
    name: KindName,
    params: ParamsId,
}

impl BranchKind {
    pub const REINIT: BranchKind = BranchKind::builtin("reinit");
    pub const RANDOM_PRUNE: BranchKind = BranchKind::builtin("random-prune");
    pub const ONESHOT: BranchKind = BranchKind::builtin("oneshot");
    pub const ONESHOT_REINIT: BranchKind = BranchKind::builtin("oneshot-reinit");
    pub const SPAWN: BranchKind = BranchKind::builtin("spawn");
    pub const SPAWN_REINIT: BranchKind = BranchKind::builtin("spawn-reinit");
    pub const SPAWN_RANDOM_PRUNE: BranchKind = BranchKind::builtin("spawn-random-prune");
    pub const UNTRAINED: BranchKind = BranchKind::builtin("untrained");
    pub const UNTRAINED_SIGNED_CONSTANT: BranchKind = BranchKind::builtin("untrained-signed-constant");
    pub const LEARNED_SUPERMASK: BranchKind = BranchKind::builtin("learned-supermask");
    pub const PRUNE_AT_INIT: BranchKind = BranchKind::builtin("prune-at-init");
    pub const MASK_AT_INIT: BranchKind = BranchKind::builtin("mask-at-init");
    pub const REWIND_PERTURBED: BranchKind = BranchKind::builtin("rewind-perturbed");
    pub const EARLY_STATISTICS: BranchKind = BranchKind::builtin("early-statistics");
    pub const PRETRAIN: BranchKind = BranchKind::builtin(super::pretrained::PRETRAIN);
    pub const REWIND_PRETRAINED: BranchKind = BranchKind::builtin(super::pretrained::REWIND_PRETRAINED);
    pub const EARLY_BIRD_SEARCH: BranchKind = BranchKind::builtin(super::early_bird::SEARCH);
    pub const CHANNEL_TICKET: BranchKind = BranchKind::builtin(super::early_bird::TICKET);

    const fn builtin(name: &'static str) -> BranchKind {
        BranchKind { name: KindName(name), params: ParamsId(0) }
    }

    /// The registered kind called `name`, with its default parameters.
    pub fn named(name: &str) -> Result<BranchKind> {
        Ok(BranchKind { name: KindName::named(name)?, params: ParamsId(0) })
    }

    /// The same kind with parameters of identity `params`.
    pub fn with_params(self, params: ParamsId) -> BranchKind {
        BranchKind { params, ..self }
    }

    /// Whether `self` and `other` are the same kind, whatever their parameters.
    pub fn same_kind(self, other: BranchKind) -> bool {
        self.name == other.name
    }

    /// The kind's name (`spawn`), whatever its parameters.
    pub fn as_str(self) -> &'static str {
        self.name.as_str()
    }

    /// What the kind does.
    pub fn get(self) -> &'static dyn Kind {
        self.name.get()
    }

    /// The name stage folders use: the kind's, then `-<params>` when it has parameters.
    pub fn label(self) -> String {
        match self.params {
            ParamsId(0) => self.as_str().to_string(),
            ParamsId(id) => format!("{}-{id:08x}", self.as_str()),
        }
    }

    /// Inverse of [`BranchKind::label`].
    pub fn parse_label(label: &str) -> Result<BranchKind> {
        if let Ok(kind) = BranchKind::named(label) {
            return Ok(kind);
        }
        if let Some((name, id)) = label.rsplit_once('-') {
            if id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                if let Ok(kind) = BranchKind::named(name) {
                    let id = u32::from_str_radix(id, 16)?;
                    if id != 0 {
                        return Ok(kind.with_params(ParamsId(id)));
                    }
                }
            }
        }
        BranchKind::named(label)
    }
}

impl std::fmt::Display for BranchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}
