//! `learned-supermask` (Zhou et al. 2019 §4.5): a mask learned over the level's θ_k ⊙ m, frozen,
//! as the branch's parameters say ([`SupermaskConfig`]: `params = { lr, batch_size, iterations,
//! eval_every, … }`) — one logit per prunable weight, Bernoulli masks with a straight-through
//! estimator; no weight changes. The logits are kept in the stage folder. The parameters name
//! the branch's folders (`learned-supermask-<8 hex digits>_0`) and stay out of the trunk's hash.

use super::{Kind, Params, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::paths;
use crate::supermask::SupermaskConfig;
use crate::train::{Status, TrainOutcome};
use anyhow::Result;

pub struct LearnedSupermask;

fn parse(params: &Params) -> Result<SupermaskConfig> {
    let usage = "state lr, batch_size, iterations, eval_every (optional momentum, score_init, signed_constant, dynamic_scaling)";
    let how: SupermaskConfig = super::read_params(params, "learned-supermask", usage)?;
    how.check()?;
    Ok(how)
}

impl Kind for LearnedSupermask {
    fn name(&self) -> &'static str {
        "learned-supermask"
    }

    /// Canonical: the four required settings, and the optional ones where not at their default.
    fn params(&self, params: &Params) -> Result<Params> {
        Ok(super::to_params(&parse(params)?))
    }

    fn trains_weights(&self) -> bool {
        false
    }

    fn validate(&self, branch: &BranchConfig, _cfg: &ExperimentConfig) -> Result<()> {
        parse(&branch.params).map(|_| ())
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let mut model = cx.fresh_model(cx.copy_seed("learned-supermask-init", cx.job.stage.copy()))?;
        model.restore(&cx.exp.rewind_weights(cx.job.replicate)?)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let how: SupermaskConfig = cx.params()?;
        let started = std::time::Instant::now();
        start.mask.to_device(cx.exp.device).apply(&start.model);
        let (log, logits) = crate::supermask::train(&mut start.model, cx.exp.data, &how, cx.copy_seed("learned-supermask", cx.job.stage.copy()))?;
        crate::util::write_tensors(&cx.dir.join(paths::LOGITS), &logits.into_iter().collect::<Vec<_>>())?;
        Ok(TrainOutcome { log, status: Status::Completed, wall_s: started.elapsed().as_secs_f64(), sparse: false })
    }
}
