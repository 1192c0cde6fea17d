//! Training hooks: code the training loop ([`super::train`]) calls at fixed points of every
//! iteration, so a stage kind or a paper can watch, add a loss term or stop training without
//! touching the loop — open_lth's callbacks. The loop does, at each iteration `t` (steps taken
//! so far): its evaluation when one is due; then, before the last iteration, every hook's
//! [`Hook::at`] (a `Stop` ends training at `t`, evaluated there); then one step whose loss is the
//! batch's cross-entropy plus every hook's [`Hook::extra_loss`]; then every hook's
//! [`Hook::stepped`]. Checkpoints stay the loop's own (they hold the optimizer's state), as do
//! frozen pruned values (the optimizer holds them in its update).
//!
//! Hooks here: [`SaveWeightsAt`] (θ_k during the dense run) and [`CountSteps`] (progress).

use super::checkpoint;
use super::optim::Optimizer;
use super::EvalLog;
use crate::models::Model;
use anyhow::Result;
use std::path::Path;
use tch::Tensor;

/// What a hook tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// End training at this iteration: the loop evaluates here (if it has not) and returns.
    Stop,
}

/// Code the training loop calls at each iteration.
pub trait Hook {
    /// At iteration `t` (before the last), after its evaluation if one was due (the last entry
    /// of `log`), before its step; `opt` holds the optimizer's state after `t` steps.
    fn at(&mut self, _model: &Model, _opt: &Optimizer, _t: u64, _log: &EvalLog) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// A term added to the loss of the step taken at iteration `t` (a regulariser, such as
    /// network slimming's L1 penalty on batch-norm scales). The recorded train loss is the
    /// cross-entropy alone.
    fn extra_loss(&mut self, _model: &Model, _t: u64) -> Option<Tensor> {
        None
    }

    /// Whether [`Hook::extra_loss`] ever returns a term (it needs autograd, so the stage keeps
    /// the dense path rather than the sparse kernels).
    fn adds_loss(&self) -> bool {
        false
    }

    /// After a step; `t` is the number of steps taken.
    fn stepped(&mut self, _t: u64) {}
}

/// Saves the weights reached after `iteration` steps (θ_k) to `path`, and the optimizer's
/// state then to `optimizer` when given, unless those files exist already (a resumed run past
/// k keeps the ones it wrote).
pub struct SaveWeightsAt<'a> {
    pub iteration: u64,
    pub path: &'a Path,
    pub optimizer: Option<&'a Path>,
}

impl Hook for SaveWeightsAt<'_> {
    fn at(&mut self, model: &Model, opt: &Optimizer, t: u64, _log: &EvalLog) -> Result<Control> {
        if t == self.iteration {
            if let Some(path) = self.optimizer.filter(|p| !p.exists()) {
                crate::util::write_tensors(path, &opt.state())?;
            }
            if !self.path.exists() {
                checkpoint::save_weights(self.path, &model.snapshot())?;
            }
        }
        Ok(Control::Continue)
    }
}

/// Calls `f` with the step count after every step (a progress bar).
pub struct CountSteps<F: Fn(u64)>(pub F);

impl<F: Fn(u64)> Hook for CountSteps<F> {
    fn stepped(&mut self, t: u64) {
        (self.0)(t)
    }
}
