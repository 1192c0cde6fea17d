//! Word-level language modelling (Yu et al.'s LSTM on WikiText-2; Brown here): truncated
//! backpropagation through time over a corpus's id streams ([`crate::data::corpus`]), as PyTorch's
//! `word_language_model` trains it.
//!
//! The training stream is cut into `batch_size` equal streams side by side (the remainder
//! dropped); iteration `i` trains on window `i mod W` of `bptt` tokens of every stream (W whole
//! windows per epoch), from the LSTM state the previous window ended in (detached: truncated
//! BPTT), the state zero at every epoch's start and at the stage's first iteration. The loss is
//! the mean cross-entropy of the next word. The order is the corpus's; the one random stream is
//! the dropout masks between the LSTM layers (`lstm-dropout`, keyed by the stage's data seed and
//! the iteration), so a stage replays bit for bit.
//!
//! Evaluation (at the start, every `eval_every` iterations and the end): validation and test
//! each cut into `eval_batch` streams, read in windows of `bptt` with the state carried and no
//! dropout; `val_loss`/`test_loss` are the mean cross-entropy per predicted word in nats — the
//! **log perplexity**, Yu et al.'s metric (perplexity = e^loss) — and `val_acc`/`test_acc` the
//! next-word accuracy. Checkpoints (`--checkpoint-every`) are taken only at evaluations that
//! fall on an epoch's start, where the carried state is zero: a killed stage resumes from the
//! last one bit for bit (the dropout masks are a function of the iteration); with evaluations
//! only within epochs it restarts from its start.

use super::Task;
use crate::config::ExperimentConfig;
use crate::data::{Dataset, Split};
use crate::models::{Arch, Dropout, LstmState, Model};
use crate::prune::Mask;
use crate::stage::{from_params, Params};
use crate::train::hooks::Control;
use crate::train::{EvalLog, RunSpec, Status, TrainConfig, TrainOutcome};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{Kind, Tensor};

pub struct LanguageModel;

/// The language model's settings (the config's `task.params`); defaults are Yu et al.'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LmParams {
    /// Tokens per truncated-BPTT window (Yu et al.: 50).
    pub bptt: usize,
    /// Dropout between the LSTM layers (Yu et al.: 0.5).
    pub dropout: f64,
    /// Streams side by side when evaluating (`word_language_model`'s 10).
    pub eval_batch: usize,
}

impl Default for LmParams {
    fn default() -> Self {
        LmParams { bptt: 50, dropout: 0.5, eval_batch: 10 }
    }
}

impl LmParams {
    pub fn validate(&self) -> Result<()> {
        if !(1..=10_000).contains(&self.bptt) || !(1..=10_000).contains(&self.eval_batch) {
            bail!("language-model: bptt {} and eval_batch {} must each be 1 to 10000 (Yu et al.: 50 and 10)", self.bptt, self.eval_batch);
        }
        if !(0.0..1.0).contains(&self.dropout) {
            bail!("language-model: dropout {} is outside [0, 1); Yu et al. use 0.5", self.dropout);
        }
        Ok(())
    }
}

impl LanguageModel {
    fn typed(params: &Params) -> Result<LmParams> {
        from_params(params).map_err(|e| anyhow::format_err!("task `language-model`: params: {e}"))
    }
}

/// `split`'s inputs and targets as `streams` rows of equal length `[streams, L]`.
fn batchify(split: &Split, streams: usize) -> (Tensor, Tensor) {
    let per = split.len() as i64 / streams as i64;
    let cut = |t: &Tensor| t.narrow(0, 0, per * streams as i64).view([streams as i64, per]);
    (cut(&split.images), cut(&split.labels))
}

/// Mean next-word cross-entropy (nats) and accuracy of `model` on `split` (module docs).
pub fn evaluate(model: &Model, split: &Split, p: &LmParams) -> Result<(f64, f64)> {
    let _guard = tch::no_grad_guard();
    let device = model.device();
    let (inputs, targets) = batchify(split, p.eval_batch);
    let length = inputs.size()[1];
    if length == 0 {
        bail!("an evaluation split of {} words is shorter than {} streams", split.len(), p.eval_batch);
    }
    let (mut loss, mut correct, mut count) = (0.0, 0i64, 0i64);
    let mut state: Option<LstmState> = None;
    let mut start = 0;
    while start < length {
        let len = (p.bptt as i64).min(length - start);
        let x = inputs.narrow(1, start, len).to_device(device);
        let y = targets.narrow(1, start, len).to_device(device).reshape([-1]);
        let (logits, next) = model.language_model(&x, state.as_ref(), None)?;
        let logits = logits.reshape([y.size()[0], -1]);
        loss += logits.cross_entropy_loss::<Tensor>(&y, None, tch::Reduction::Sum, -100, 0.0).double_value(&[]);
        correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
        count += y.size()[0];
        state = Some(next);
        start += len;
    }
    Ok((loss / count as f64, correct as f64 / count as f64))
}

impl Task for LanguageModel {
    fn name(&self) -> &'static str {
        "language-model"
    }

    fn params(&self, params: &Params) -> Result<Params> {
        let typed = Self::typed(params)?;
        typed.validate()?;
        Ok(super::non_default(&typed))
    }

    fn validate(&self, cfg: &ExperimentConfig, data: &Dataset) -> Result<()> {
        if !data.name.is_text() {
            bail!("task `language-model` reads a text corpus, and {} is not one; choose --dataset brown (or wikitext-2)", data.name.as_str());
        }
        if !matches!(cfg.model.arch, Arch::Lstm { .. }) {
            bail!("task `language-model` needs a language model; set model.arch = \"lstm\"");
        }
        let p = Self::typed(&cfg.task.params)?;
        let windows = data.train.len() / cfg.train.batch_size.max(1) as usize / p.bptt;
        if windows == 0 {
            bail!(
                "{} training words in {} streams hold no window of {} words; use a smaller batch_size or bptt",
                data.train.len(),
                cfg.train.batch_size,
                p.bptt
            );
        }
        for (name, split) in [("validation", &data.validation), ("test", &data.test)] {
            if split.len() < p.eval_batch {
                bail!("the {name} split holds {} words, fewer than eval_batch = {}", split.len(), p.eval_batch);
            }
        }
        cfg.train.validate(data.train.len())
    }

    fn train(&self, model: &mut Model, mask: &Mask, data: &Dataset, cfg: &TrainConfig, params: &Params, mut run: RunSpec) -> Result<TrainOutcome> {
        let p = Self::typed(params)?;
        let mut opt = crate::train::begin(model, mask, cfg, &run, "language-model")?;
        let device = model.device();
        let (inputs, targets) = batchify(&data.train, cfg.batch_size as usize);
        let per_epoch = (inputs.size()[1] / p.bptt as i64) as u64;
        let started = Instant::now();
        let (mut t, mut log) = crate::train::resume(model, &mut opt, &run)?.unwrap_or((run.start, EvalLog::default()));
        let (mut loss_sum, mut loss_count, mut stop) = (0.0, 0u64, false);
        let mut state: Option<LstmState> = None;
        loop {
            if log.iteration.last() != Some(&t) && (t == run.start || t.is_multiple_of(cfg.eval_every) || t == cfg.iterations || stop) {
                let train_loss = if loss_count == 0 { f64::NAN } else { loss_sum / loss_count as f64 };
                let (vl, va) = evaluate(model, &data.validation, &p)?;
                let (tl, ta) = evaluate(model, &data.test, &p)?;
                log.push(t, &crate::train::evaluation(train_loss, (vl, va), (tl, ta)));
                (loss_sum, loss_count) = (0.0, 0);
                if !(vl.is_finite() && (train_loss.is_finite() || t == run.start)) {
                    return crate::train::end(&run, &opt, log, Status::Diverged { iteration: t }, started);
                }
                if t.is_multiple_of(per_epoch) {
                    crate::train::save_if_due(&run, model, &opt, t, cfg.iterations, &log)?;
                }
            }
            if t == cfg.iterations || stop {
                break;
            }
            for hook in run.hooks.iter_mut() {
                stop |= hook.at(model, &opt, t, &log)? == Control::Stop;
            }
            if stop {
                continue;
            }
            let window = (t % per_epoch) as i64;
            if window == 0 {
                state = None;
            }
            let x = inputs.narrow(1, window * p.bptt as i64, p.bptt as i64).to_device(device);
            let y = targets.narrow(1, window * p.bptt as i64, p.bptt as i64).to_device(device).reshape([-1]);
            let dropout = Dropout { p: p.dropout, seed: crate::rng::derive_seed(run.data_seed, "lstm-dropout", &[t]) };
            let (logits, next) = model.language_model(&x, state.as_ref(), Some(&dropout))?;
            state = Some((next.0.detach(), next.1.detach()));
            let loss = logits.reshape([y.size()[0], -1]).cross_entropy_for_logits(&y);
            let extra: Vec<Tensor> = run.hooks.iter_mut().filter_map(|h| h.extra_loss(model, t)).collect();
            opt.zero_grad();
            extra.iter().fold(loss.shallow_clone(), |total, term| total + term).backward();
            opt.step(cfg.schedule.lr(cfg.optimizer.lr(), t));
            loss_sum += loss.double_value(&[]);
            loss_count += 1;
            t += 1;
            for hook in run.hooks.iter_mut() {
                hook.stepped(t);
            }
        }
        crate::train::end(&run, &opt, log, Status::Completed, started)
    }
}
