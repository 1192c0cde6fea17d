//! Ticket transfer (Morcos et al. 2019): the mask and rewind weights found by one experiment's
//! IMP, used as the starting point of a network trained on another dataset or optimizer.
//!
//! Every prunable layer and every other variable whose shape matches is taken from the source:
//! the mask of the source's level and its θ_k (late-reset weights). A layer whose shape differs
//! — the output layer when the class counts differ, as CIFAR-100 → CIFAR-10 — keeps the target's
//! fresh initialisation and is dense. The output layer is re-initialised and dense in any case
//! when `reinit_output` is set (the paper re-initialises it for every transfer).
//!
//! An experiment whose config has a [`TransferConfig`] is a *transfer experiment*: its level L
//! is the source's level-L ticket trained on this experiment's data with its optimizer and
//! schedule, from iteration 0 to the end (level 0: the source's θ_k, dense). It prunes nothing
//! itself; replicate r takes replicate r's ticket. The source's resolved config is part of the
//! target's config, so its identity is part of the target's run hash, and the target's run
//! folder name also carries the source's run folder (its data included).

use crate::config::ExperimentConfig;
use crate::imp::Stage;
use crate::models::{LayerRole, Model};
use crate::paths;
use crate::prune::Mask;
use crate::train::checkpoint;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a transfer experiment's tickets come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferConfig {
    /// The experiment whose IMP levels give the tickets, as its paper names it (`lenet-mnist`);
    /// a run trains its missing levels first.
    pub experiment: String,
    /// That experiment's config as resolved for this run (with this run's seed and trials).
    pub source: Box<ExperimentConfig>,
    /// Re-initialise the output layer (Morcos et al. do for every transfer); a layer whose
    /// shape differs from the source's is re-initialised regardless.
    #[serde(default = "yes")]
    pub reinit_output: bool,
}

fn yes() -> bool {
    true
}

impl TransferConfig {
    /// Checks `target`'s use of this source: same network, no more levels or trials than the
    /// source has, trained from iteration 0, a plain (lottery) ticket, no chained transfers.
    pub fn validate(&self, target: &ExperimentConfig) -> Result<()> {
        let source = &self.source;
        source.validate().with_context(|| format!("transfer source {}", self.experiment))?;
        if source.transfer.is_some() {
            bail!("transfer source {} is itself a transfer experiment; name the experiment that found the tickets", self.experiment);
        }
        if source.model.arch != target.model.arch {
            bail!("transfer source {} trains another network ({:?}); a ticket transfers to the same architecture", self.experiment, source.model.arch);
        }
        if target.levels > source.levels {
            bail!(
                "{} levels requested, but transfer source {} stops at level {}; ask for at most {}",
                target.levels,
                self.experiment,
                source.levels,
                source.levels
            );
        }
        if target.replicates > source.replicates {
            bail!("{} trials requested, but transfer source {} has {}; pass the same --trials to both", target.replicates, self.experiment, source.replicates);
        }
        if target.rewind_iteration != 0 {
            bail!(
                "a transferred ticket trains the whole schedule from the source's θ_k; set rewind_iteration = 0 (the source's k is {})",
                source.rewind_iteration
            );
        }
        if target.ticket != crate::ticket::TicketConfig::LOTTERY {
            bail!("a transfer experiment takes its masks from the source; remove its [ticket] table");
        }
        Ok(())
    }
}

/// What a transferred ticket starts from, read out of the source's run folder.
pub struct Ticket {
    pub mask: Mask,
    /// Variables copied from the source's θ_k, by name (the rest stay as the target drew them).
    pub copied: Vec<String>,
}

/// Loads into `target` the ticket of `source` (a run folder, `runs/<name>-<identity>`) at
/// `replicate` and `level`: its mask and its θ_k (`rewind_iteration` = k of the source).
pub fn load_ticket(source: &Path, replicate: u32, level: u32, rewind_iteration: u64, reinit_output: bool, target: &mut Model) -> Result<Ticket> {
    let dir = |level| paths::stage_dir(source, replicate, level, &Stage::Main.name());
    let level_dir = dir(level);
    let source_mask = Mask::load(&level_dir.join(paths::MASK), target.device()).with_context(|| {
        format!("the source ticket (replicate {replicate}, level {level}) is not in {}; train the source experiment first", source.display())
    })?;
    let rewind = if rewind_iteration == 0 { paths::START } else { paths::REWIND };
    let theta_k = checkpoint::load_weights(&dir(0).join(rewind)).with_context(|| format!("θ_k of the source is missing in {}", dir(0).display()))?;
    let output: Vec<String> = target.layers().iter().filter(|l| l.role == LayerRole::Output).map(|l| l.name.clone()).collect();
    let is_output = |name: &str| output.iter().any(|o| name == o || name.strip_suffix("bias").is_some_and(|stem| o.starts_with(stem)));
    let mut weights = target.snapshot();
    let mut copied = Vec::new();
    for (name, value) in weights.iter_mut() {
        let fits = theta_k.get(name).is_some_and(|s| s.size() == value.size());
        if fits && !(reinit_output && is_output(name)) {
            *value = theta_k[name].copy();
            copied.push(name.clone());
        }
    }
    target.restore(&weights)?;
    let mut mask = Mask::dense(target);
    for (name, m) in mask.0.iter_mut() {
        if copied.contains(name) {
            if let Some(src) = source_mask.0.get(name) {
                *m = src.to_device(target.device());
            }
        }
    }
    mask.apply(target);
    Ok(Ticket { mask, copied })
}
