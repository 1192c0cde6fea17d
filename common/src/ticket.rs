//! How each pruned IMP level builds its subnetwork (Zhou, Lan, Liu & Yosinski 2019,
//! "Deconstructing Lottery Tickets", papers.md §4.2–4.4): which weights survive (a mask
//! criterion of the rewind weights `w_i` = θ_k and the trained weights `w_f` the level is pruned
//! from), what the survivors start from (the "mask-1 actions"), and what the pruned weights hold
//! (the "mask-0 actions"). The default, [`TicketConfig::LOTTERY`], is the lottery ticket:
//! magnitude pruning by the experiment's `prune` rule, survivors rewound to θ_k, pruned weights
//! zero. The ticket applies to the trunk's pruned levels; branches keep their own semantics.

use crate::config::{ExperimentConfig, Kept};
use crate::criteria::{self, Criterion, KeptValues};
use crate::models::LayerInfo;
use crate::prune::Mask;
use crate::train::Weights;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::Kind;

/// What the pruned weights hold while the survivors train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrunedValues {
    /// Zero (the lottery ticket's `mask`).
    #[default]
    Zero,
    /// Frozen at their initial values `w_i` (the authors' `freeze_init`).
    FreezeInit,
    /// Zero where the weight moved toward zero in training (|w_i| > |w_f|), frozen at `w_i`
    /// elsewhere (`freeze_init_zero_mask`, the paper's "Variant 1").
    FreezeInitZeroMask,
    /// The same rule for every weight: survivors that moved toward zero also start at zero, and
    /// pruned weights are frozen at those values (`freeze_init_zero_all`, "Variant 2").
    FreezeInitZeroAll,
}

/// Zhou et al.'s three choices for a pruned level (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketConfig {
    /// `None`: magnitude pruning by the experiment's `prune` rule. A criterion keeps, per layer,
    /// the layer-wise rule's survivor count of the highest scores (layer-wise pruning only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<Criterion>,
    #[serde(default = "rewind")]
    pub kept: KeptValues,
    #[serde(default)]
    pub pruned: PrunedValues,
}

fn rewind() -> KeptValues {
    KeptValues::Rewind
}

impl Default for TicketConfig {
    fn default() -> Self {
        Self::LOTTERY
    }
}

/// Where a pruned level starts: its weights (every variable) and, when pruned weights are
/// frozen at non-zero values, those values by weight name (zero at the survivors).
pub struct Start {
    pub weights: Weights,
    pub frozen: Option<Weights>,
}

impl TicketConfig {
    pub const LOTTERY: TicketConfig = TicketConfig { criterion: None, kept: KeptValues::Rewind, pruned: PrunedValues::Zero };

    /// Checks the choices against the rest of the experiment.
    pub fn validate(&self, cfg: &ExperimentConfig) -> Result<()> {
        if *self == Self::LOTTERY {
            return Ok(());
        }
        if cfg.retrain != crate::config::Retrain::WeightRewind {
            bail!("ticket criteria and actions start each level from its rewind weights; use retrain = \"weight-rewind\" with them");
        }
        if self.criterion.is_some() && !matches!(cfg.prune, crate::prune::PruneConfig::LayerWise { .. }) {
            bail!("a ticket criterion keeps per-layer counts; use layer-wise pruning (strategy = \"layer-wise\") with it");
        }
        if self.pruned == PrunedValues::FreezeInitZeroAll && self.kept != KeptValues::Rewind {
            bail!("pruned = \"freeze_init_zero_all\" sets the survivors' start values itself; use kept = \"rewind\" with it");
        }
        Ok(())
    }

    /// The mask of a pruned level under the ticket's criterion (`None` without one: the
    /// config's pruner builds it): `previous` (the level before) keeps, per layer, IMP's
    /// survivor count `kept` (layer-wise pruning, as `validate` requires) of the highest scores
    /// of (`rewind`, `trained`).
    pub fn criterion_mask(&self, previous: &Mask, rewind: &Weights, trained: &Weights, kept: Kept, layers: &[LayerInfo], seed: u64) -> Option<Mask> {
        let criterion = self.criterion?;
        let Kept::PerLayer(kept) = kept else { unreachable!("a criterion needs layer-wise pruning (TicketConfig::validate)") };
        let keep: BTreeMap<String, usize> = layers.iter().zip(kept).map(|(l, k)| (l.name.clone(), k as usize)).collect();
        Some(criteria::mask(previous, criterion, rewind, trained, &keep, seed))
    }

    /// The level's start under `mask`: `rewind` (θ_k) with the survivors' values set by `kept`
    /// and the pruned weights by `pruned` (`trained`: the weights the level was pruned from).
    pub fn start(&self, rewind: &Weights, trained: &Weights, mask: &Mask, seed: u64) -> Start {
        let mut weights: Weights = rewind.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
        let mut frozen: Weights = BTreeMap::new();
        for (li, (name, m)) in mask.0.iter().enumerate() {
            let (wi, wf) = (&rewind[name], &trained[name]);
            let m = m.to_device(wi.device()).to_kind(wi.kind());
            let pruned = m.ones_like() - &m;
            // |w_i| > |w_f|: the weight moved toward zero while it trained.
            let stay = wi.abs().le_tensor(&wf.abs()).to_kind(wi.kind());
            let kept = match self.pruned {
                PrunedValues::FreezeInitZeroAll => wi * &stay * &m,
                _ => criteria::kept_values(self.kept, wi, &m, crate::rng::derive_seed(seed, "kept-values", &[li as u64])),
            };
            let held = match self.pruned {
                PrunedValues::Zero => None,
                PrunedValues::FreezeInit => Some(wi * &pruned),
                PrunedValues::FreezeInitZeroMask | PrunedValues::FreezeInitZeroAll => Some(wi * &stay * &pruned),
            };
            let start = match &held {
                Some(h) => &kept + h,
                None => kept,
            };
            weights.insert(name.clone(), start.to_kind(Kind::Float));
            if let Some(h) = held {
                frozen.insert(name.clone(), h);
            }
        }
        Start { weights, frozen: (self.pruned != PrunedValues::Zero).then_some(frozen) }
    }
}
