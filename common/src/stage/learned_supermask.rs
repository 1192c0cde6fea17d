//! `learned-supermask` (Zhou et al. 2019 §4.5): a mask learned over the level's θ_k ⊙ m, frozen,
//! as the config's `supermask` table says — one logit per prunable weight, Bernoulli masks with
//! a straight-through estimator; no weight changes. The logits are kept in the stage folder.

use super::{Kind, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::paths;
use crate::train::TrainOutcome;
use anyhow::{bail, Context, Result};

pub struct LearnedSupermask;

impl Kind for LearnedSupermask {
    fn name(&self) -> &'static str {
        "learned-supermask"
    }

    fn trains_weights(&self) -> bool {
        false
    }

    fn validate(&self, _branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        if cfg.supermask.is_none() {
            bail!("branch learned-supermask needs a [supermask] table (lr, batch_size, iterations, eval_every)");
        }
        Ok(())
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let mut model = cx.fresh_model(cx.copy_seed("learned-supermask-init", cx.job.stage.copy()))?;
        model.restore(&cx.exp.rewind_weights(cx.job.replicate)?)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let how = cx.config().supermask.as_ref().context("learned-supermask needs the config's supermask table")?;
        let started = std::time::Instant::now();
        start.mask.to_device(cx.exp.device).apply(&start.model);
        let (log, logits) = crate::supermask::train(&mut start.model, cx.exp.data, how, cx.copy_seed("learned-supermask", cx.job.stage.copy()))?;
        crate::util::write_tensors(&cx.dir.join(paths::LOGITS), &logits.into_iter().collect::<Vec<_>>())?;
        Ok(log.outcome(started.elapsed().as_secs_f64()))
    }
}
