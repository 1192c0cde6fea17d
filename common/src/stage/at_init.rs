//! Pruning at initialisation, as Tanaka et al. (2020) benchmark it: `prune-at-init` scores the
//! replicate's θ_0 with a pruner (SynFlow, SNIP, GraSP, magnitude, random), keeps the weights
//! above their global threshold ([`Mask::keep_above_kth`]) and trains θ_0 under that mask from
//! iteration 0, with the replicate's data order (the trunk's dense level 0 is the same network
//! unpruned). `mask-at-init` builds the same mask and trains nothing: its record is the mask's
//! per-layer counts (layer collapse) and the scores' per-layer sums (conservation).
//!
//! Level `L` is the target density `(1 − f)^L` of the config's global rule (`f` its fraction;
//! the paper's grid of compressions 10^0, 10^0.25, … is `f = 1 − 10^−0.25`) over the layers of
//! its roles. The mask is built in `iterations` rounds (their `prune_epochs`: 1 for the
//! baselines, 100 for SynFlow) on the exponential schedule: round `i` of `n` rescores the
//! masked network and keeps density `d^(i/n)`. Every record carries `score_sum`, the per-layer
//! sums of the first round's scores (those of the dense θ_0).

use super::{Kind, Params, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::imp::JobId;
use crate::models::LayerInfo;
use crate::prune::{Mask, PruneConfig};
use crate::pruners::{PruneCx, PrunerName};
use crate::train::{EvalLog, Status, TrainOutcome};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::Kind as DType;

pub struct AtInit {
    name: &'static str,
    /// Train the pruned θ_0 (otherwise only the mask is recorded).
    trains: bool,
}

pub const PRUNE_AT_INIT: AtInit = AtInit { name: "prune-at-init", trains: true };
pub const MASK_AT_INIT: AtInit = AtInit { name: "mask-at-init", trains: false };

/// A branch's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtInitParams {
    /// The scores (default `magnitude`).
    #[serde(default)]
    pub pruner: PrunerName,
    /// Scoring rounds on the exponential schedule (default 1: single shot).
    #[serde(default = "one")]
    pub iterations: u32,
}

fn one() -> u32 {
    1
}

impl Default for AtInitParams {
    fn default() -> Self {
        AtInitParams { pruner: PrunerName::default(), iterations: 1 }
    }
}

impl AtInitParams {
    /// The canonical params of `pruner` in `iterations` rounds.
    pub fn params(pruner: PrunerName, iterations: u32) -> Params {
        canonical(&AtInitParams { pruner, iterations })
    }
}

/// `p` with its default values left out.
fn canonical(p: &AtInitParams) -> Params {
    let default = AtInitParams::default();
    let mut out = Params::new();
    if p.pruner != default.pruner {
        out.insert("pruner".into(), p.pruner.as_str().into());
    }
    if p.iterations != default.iterations {
        out.insert("iterations".into(), p.iterations.into());
    }
    out
}

impl Kind for AtInit {
    fn name(&self) -> &'static str {
        self.name
    }

    fn params(&self, params: &Params) -> Result<Params> {
        let p: AtInitParams = super::from_params(params)?;
        if p.iterations == 0 || p.iterations > 10_000 {
            bail!("iterations = {} is out of range; use 1 (single shot) to 10,000 (SynFlow: 100)", p.iterations);
        }
        Ok(canonical(&p))
    }

    /// θ_0 needs no other stage.
    fn parents(&self, _job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        vec![]
    }

    fn trains_weights(&self) -> bool {
        self.trains
    }

    /// Stability to pruning compares with IMP's trunk, which these stages do not have.
    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        false
    }

    fn first_iteration(&self, _job: JobId, _cfg: &ExperimentConfig) -> u64 {
        0
    }

    fn validate(&self, branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        if !matches!(cfg.prune, PruneConfig::Global { .. }) {
            bail!("branch {}: pruning at initialisation needs the global rule (strategy = \"global\", a fraction and roles); its levels are that rule's densities", branch.kind);
        }
        if cfg.rewind_iteration != 0 {
            bail!("branch {}: pruning at initialisation trains from θ_0; set rewind_iteration = 0", branch.kind);
        }
        Ok(())
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let p: AtInitParams = cx.params()?;
        let PruneConfig::Global { fraction, roles } = &cx.config().prune else { bail!("pruning at initialisation needs the global rule") };
        let target = (1.0 - fraction).powi(cx.job.level as i32);
        let mut model = cx.fresh_model(cx.init_seed())?;
        let theta0 = model.snapshot();
        let names: Vec<String> = model.layers().iter().filter(|l| roles.contains(&l.role)).map(|l| l.name.clone()).collect();
        let mut mask = Mask::dense(&model);
        let mut score_sum = None;
        for round in 1..=p.iterations {
            mask.apply(&model);
            let scores = p.pruner.get().scores(&PruneCx { stage: cx, model: &model, mask: &mask })?;
            score_sum.get_or_insert_with(|| sums(&scores, model.layers()));
            mask = mask.keep_above_kth(&scores, &names, target.powf(f64::from(round) / f64::from(p.iterations)));
        }
        model.restore(&theta0)?;
        let mut start = Start::new(model, mask, cx.config());
        start.metrics.insert("score_sum".into(), score_sum.unwrap_or_default());
        Ok(start)
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        if self.trains {
            return cx.train(start, self.data_seed(cx), None);
        }
        Ok(TrainOutcome { log: EvalLog::default(), status: Status::Completed, wall_s: 0.0, sparse: false })
    }
}

/// Each prunable layer's score sum, in sorted-name order (0 for a layer the pruner did not score).
fn sums(scores: &crate::train::Weights, layers: &[LayerInfo]) -> Vec<f64> {
    layers.iter().map(|l| scores.get(&l.name).map_or(0.0, |s| s.to_kind(DType::Double).sum(DType::Double).double_value(&[]))).collect()
}
