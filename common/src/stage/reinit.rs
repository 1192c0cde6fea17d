//! `reinit`: the level's mask on new weights from the same initialiser, trained from k
//! (Frankle & Carbin's random-reinitialisation control). Copy c draws with purpose
//! `reinit-init` at (replicate, level, c).

use super::{Kind, StageCx, Start};
use anyhow::Result;

pub struct Reinit;

impl Reinit {
    /// The start of copy `copy`: shared with the pairs of `spawn-reinit`.
    pub fn start_copy(cx: &StageCx, copy: u32) -> Result<Start> {
        let model = cx.fresh_model(cx.copy_seed("reinit-init", copy))?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }
}

impl Kind for Reinit {
    fn name(&self) -> &'static str {
        "reinit"
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        Reinit::start_copy(cx, cx.job.stage.copy())
    }
}
