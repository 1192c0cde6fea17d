//! `random-prune`: a random mask with the level's per-layer counts on new weights, trained from
//! k ("randomly sampled sparse network", Frankle & Carbin Fig. 1). Copy c draws its weights with
//! purpose `random-prune-init` and its mask with `random-prune-mask`, at (replicate, level, c).

use super::{Kind, StageCx, Start};
use crate::prune::Mask;
use anyhow::Result;

pub struct RandomPrune;

impl RandomPrune {
    /// The start of copy `copy`: shared with the pairs of `spawn-random-prune`.
    pub fn start_copy(cx: &StageCx, copy: u32) -> Result<Start> {
        let model = cx.fresh_model(cx.copy_seed("random-prune-init", copy))?;
        let target = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        let mask = Mask::dense(&model).prune_random_like(&target, cx.copy_seed("random-prune-mask", copy));
        Ok(Start::new(model, mask, cx.config()))
    }
}

impl Kind for RandomPrune {
    fn name(&self) -> &'static str {
        "random-prune"
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        RandomPrune::start_copy(cx, cx.job.stage.copy())
    }

    fn reads_only_parent_counts(&self) -> bool {
        true
    }
}
