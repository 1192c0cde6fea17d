//! `oneshot` and `oneshot-reinit`: the dense network's trained weights (level 0's) pruned
//! directly to the survivor counts IMP has at the level — which the config alone determines
//! ([`crate::config::ExperimentConfig::kept_at`]), so it needs only the dense trunk — then
//! retrained as `cfg.retrain` says (Frankle & Carbin Fig. 4c), or, `oneshot-reinit`, on new
//! weights (purpose `oneshot-reinit-init`). One copy: `oneshot` is its stage name.

use super::{Kind, StageCx, Start};
use crate::config::{ExperimentConfig, Kept};
use crate::imp::JobId;
use crate::prune::{Mask, PruneConfig};
use anyhow::Result;

pub struct Oneshot {
    name: &'static str,
    /// New weights instead of the retraining start.
    reinit: bool,
}

pub const ONESHOT: Oneshot = Oneshot { name: "oneshot", reinit: false };
pub const ONESHOT_REINIT: Oneshot = Oneshot { name: "oneshot-reinit", reinit: true };

impl Kind for Oneshot {
    fn name(&self) -> &'static str {
        self.name
    }

    fn stage_name(&self, label: &str, copy: u32) -> String {
        if label == "oneshot" && copy == 0 {
            "oneshot".into()
        } else {
            format!("{label}_{copy}")
        }
    }

    fn copies(&self, asked: u32) -> u32 {
        if self.reinit {
            asked
        } else {
            1
        }
    }

    /// Only the dense network: its counts come from the config.
    fn parents(&self, job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        vec![job.trunk(0)]
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let seed = if self.reinit { cx.copy_seed("oneshot-reinit-init", cx.job.stage.copy()) } else { cx.init_seed() };
        let mut model = cx.fresh_model(seed)?;
        let mask = oneshot_mask(cx, &Mask::dense(&model), model.layers())?;
        if self.reinit {
            return Ok(Start::new(model, mask, cx.config()));
        }
        let r = cx.retrain(&mut model, 0)?;
        Ok(Start { train: r.train, optimizer: r.optimizer, ..Start::new(model, mask, cx.config()) })
    }
}

/// The dense final weights of level 0 pruned by magnitude to the survivor counts IMP has at
/// the job's level (per layer; global: in total over the pruned roles).
fn oneshot_mask(cx: &StageCx, dense: &Mask, layers: &[crate::models::LayerInfo]) -> Result<Mask> {
    let cfg = cx.config();
    let (_, final0) = cx.exp.read_main(cx.job.replicate, 0)?;
    Ok(match (&cfg.prune, cfg.kept_at(cx.job.level, layers)) {
        (PruneConfig::Global { roles, .. }, Kept::Pooled(kept)) => {
            let pooled: Vec<&crate::models::LayerInfo> = layers.iter().filter(|l| roles.contains(&l.role)).collect();
            let total: i64 = pooled.iter().map(|l| l.numel).sum();
            let names: Vec<String> = pooled.iter().map(|l| l.name.clone()).collect();
            dense.prune_global(&final0, &names, 1.0 - kept as f64 / total as f64)
        }
        (_, Kept::PerLayer(kept)) => {
            let removed = layers.iter().zip(kept).map(|(l, k)| (l.name.clone(), (l.numel - k) as usize)).collect();
            dense.prune_layerwise(&final0, &removed)
        }
        (_, Kept::Pooled(_)) => unreachable!("pooled counts come from global pruning"),
    })
}
