//! The training loop: seeded data order, optional CIFAR augmentation, masked updates, periodic
//! evaluation on validation and test sets, retroactive early stopping, divergence detection and
//! resumable checkpoints.

pub mod checkpoint;
mod eval_log;
mod foreach;
mod fused;
pub mod hooks;
pub mod optim;
pub mod schedule;

pub use eval_log::{metric, EvalLog};

use crate::data::{self, Dataset, Split};
use crate::models::Model;
use crate::prune::Mask;
use crate::rng;
use anyhow::{bail, Result};
use optim::{Optimizer, OptimizerConfig};
use schedule::Schedule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;
use tch::{Kind, Tensor};

/// How one network is trained (unknown keys are errors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub optimizer: OptimizerConfig,
    #[serde(default)]
    pub schedule: Schedule,
    pub batch_size: i64,
    /// Total training iterations (mini-batch steps).
    pub iterations: u64,
    /// Evaluate validation and test sets every this many iterations (and at the first and last).
    pub eval_every: u64,
    /// CIFAR augmentation: 4-pixel zero pad, random crop, random horizontal flip.
    #[serde(default)]
    pub augment: bool,
    /// When the test set is evaluated (the validation set is evaluated at every evaluation).
    #[serde(default)]
    pub test_eval: TestEval,
}

/// When to evaluate the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestEval {
    /// At every evaluation (full test-accuracy curves, as Figure 3 needs).
    #[default]
    Always,
    /// Only when the validation loss reaches a new minimum, and at the end: the test accuracy
    /// at the early-stop iteration and at the end of training are exact, the curve in between
    /// is NaN. Cuts evaluation cost ~3× for the conv nets on CPU.
    AtBestValidation,
}

impl TrainConfig {
    /// Frankle & Carbin's LeNet recipe — Adam 1.2e-3, batch 60, a constant rate, no
    /// augmentation, the test set at every evaluation — for `iterations`, evaluating every
    /// `eval_every`.
    pub fn lenet_adam(iterations: u64, eval_every: u64) -> TrainConfig {
        TrainConfig {
            optimizer: optim::OptimizerConfig::adam(1.2e-3),
            schedule: schedule::Schedule::constant(),
            batch_size: 60,
            iterations,
            eval_every,
            augment: false,
            test_eval: TestEval::Always,
        }
    }

    /// Checks the values that need no dataset, with a one-line error each.
    pub fn validate_values(&self) -> Result<()> {
        self.optimizer.validate()?;
        if self.eval_every == 0 {
            bail!("evaluation interval is 0; set eval_every to a positive number of iterations (the paper uses 100)");
        }
        if self.iterations == 0 {
            bail!("training length is 0 iterations; set iterations to a positive number");
        }
        if self.iterations > MAX_ITERATIONS {
            bail!("training length {} iterations is beyond the limit of {MAX_ITERATIONS}; choose fewer iterations", self.iterations);
        }
        Ok(())
    }

    /// [`Self::validate_values`] plus the batch size against the training set.
    pub fn validate(&self, train_examples: usize) -> Result<()> {
        self.validate_values()?;
        if self.batch_size <= 0 || self.batch_size as usize > train_examples {
            bail!("batch size {} does not fit the {train_examples} training examples; use a batch size between 1 and {train_examples}", self.batch_size);
        }
        Ok(())
    }
}

/// How a training run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Status {
    Completed,
    /// The loss became NaN or infinite at `iteration`; the run stopped there.
    Diverged {
        iteration: u64,
    },
}

/// What a training run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOutcome {
    pub log: EvalLog,
    pub status: Status,
    /// Seconds spent training and evaluating (excluding time before a resume).
    pub wall_s: f64,
    /// Whether the sparse kernels ([`crate::sparse`]) trained and evaluated the network (false:
    /// the dense masked path; records written before they existed say false too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sparse: bool,
}

/// Where a run starts and what it must keep.
pub struct RunSpec<'a> {
    /// Seed of the data-order and augmentation streams.
    pub data_seed: u64,
    /// First iteration (the rewind point k; 0 for training from initialisation).
    pub start: u64,
    /// Resumable checkpoints, when set.
    pub checkpoint: Option<&'a checkpoint::Slot>,
    /// Called at every iteration ([`hooks`]): snapshots, progress, loss terms, stopping.
    pub hooks: Vec<&'a mut dyn hooks::Hook>,
    /// Values the pruned weights hold instead of zero (by weight name; zero at the survivors),
    /// frozen throughout (Zhou et al.'s `freeze_init` treatments; `None`: pruned weights are 0).
    pub frozen: Option<&'a Weights>,
    /// The optimizer state to start from (as [`optim::Optimizer::state`] names it, its step
    /// count set to `start`); `None`: a fresh optimizer. A resumed checkpoint overrides it.
    pub optimizer: Option<&'a Weights>,
    /// Where to save the optimizer's state when training ends, when asked.
    pub keep_optimizer: Option<&'a std::path::Path>,
    /// Which arithmetic trains the network ([`crate::sparse::Kernels::sparse_for`]).
    pub kernels: crate::sparse::Kernels,
}

/// Mean loss and accuracy of `model` on `split`, in evaluation mode, in batches of 2,500.
pub fn evaluate(model: &Model, split: &Split) -> (f64, f64) {
    let _guard = tch::no_grad_guard();
    let n = split.len() as i64;
    let (mut loss, mut correct) = (0.0, 0i64);
    let mut start = 0;
    while start < n {
        let len = (n - start).min(2_500);
        let x = split.images.narrow(0, start, len);
        let y = split.labels.narrow(0, start, len);
        let logits = model.forward_t(&x, false);
        loss += logits.cross_entropy_loss::<Tensor>(&y, None, tch::Reduction::Sum, -100, 0.0).double_value(&[]);
        correct += logits.argmax(-1, false).eq_tensor(&y).sum(Kind::Int64).int64_value(&[]);
        start += len;
    }
    (loss / n as f64, correct as f64 / n as f64)
}

/// One evaluation's [`metric::EVALUATION`] values by name: the training loss since the previous
/// evaluation, and the `(loss, accuracy)` of the validation and test sets.
pub fn evaluation(train_loss: f64, (val_loss, val_acc): (f64, f64), (test_loss, test_acc): (f64, f64)) -> [(&'static str, f64); 5] {
    [(metric::TRAIN_LOSS, train_loss), (metric::VAL_LOSS, val_loss), (metric::VAL_ACC, val_acc), (metric::TEST_LOSS, test_loss), (metric::TEST_ACC, test_acc)]
}

/// Upper bound on a training length (10⁸ iterations: 2,000× the longest protocol here).
pub const MAX_ITERATIONS: u64 = 100_000_000;

/// Evaluates `model` under `mask` without training (an untrained supermask): one evaluation
/// of the validation and test sets, logged at `iteration`.
pub fn evaluate_untrained(model: &mut Model, mask: &Mask, data: &Dataset, iteration: u64) -> TrainOutcome {
    let started = Instant::now();
    mask.to_device(model.device()).apply(model);
    let (vl, va) = evaluate(model, &data.validation);
    let (tl, ta) = evaluate(model, &data.test);
    let mut log = EvalLog::default();
    log.push(iteration, &evaluation(f64::NAN, (vl, va), (tl, ta)));
    TrainOutcome { log, status: Status::Completed, wall_s: started.elapsed().as_secs_f64(), sparse: false }
}

/// Trains `model` (already holding its starting weights, masked by `mask`) from `run.start` to
/// `cfg.iterations`. The optimizer is fresh unless `run.optimizer` gives its state or a
/// checkpoint resumes it.
pub fn train(model: &mut Model, mask: &Mask, data: &Dataset, cfg: &TrainConfig, mut run: RunSpec) -> Result<TrainOutcome> {
    cfg.validate(data.train.len())?;
    if run.start >= cfg.iterations {
        bail!("rewind iteration {} is not before the end of training ({}); pick a smaller rewind iteration", run.start, cfg.iterations);
    }
    let device = model.device();
    let mask = mask.to_device(device);
    // Only layers with pruned entries are masked: masking an all-ones layer is an exact no-op.
    let mut opt = Optimizer::new(&cfg.optimizer, model.trainable(), &mask.pruned());
    let frozen: Weights = run.frozen.map(|f| f.iter().map(|(k, v)| (k.clone(), v.to_device(device))).collect()).unwrap_or_default();
    opt.freeze(&frozen);
    if let Some(state) = run.optimizer {
        let state: Weights = state.iter().map(|(k, v)| (k.clone(), v.to_device(device))).collect();
        opt.load_state(&state, run.start)?;
    }
    let (mut t, mut log) = resume(model, &mut opt, &run)?.unwrap_or((run.start, EvalLog::default()));
    mask.apply(model);
    tch::no_grad(|| {
        let params = model.parameters();
        for (name, values) in &frozen {
            let _ = params[name].shallow_clone().g_add_(values);
        }
    });
    let eligible = frozen.is_empty() && !run.hooks.iter().any(|h| h.adds_loss()) && !crate::device::generic_path();
    let mut sparse =
        if eligible && run.kernels.sparse_for(&model.config.arch, device, mask.density()) { Some(SparseRun::new(model, &mask, data)?) } else { None };
    let eval_split = |sparse: &Option<SparseRun>, split: &Split, blocks: fn(&SparseRun) -> &crate::sparse::Blocks| match sparse {
        Some(s) => s.mlp.evaluate(blocks(s)),
        None => evaluate(model, split),
    };
    let n = data.train.len();
    let started = Instant::now();
    let mut loss_sum = Tensor::zeros([], (Kind::Float, device));
    let mut loss_count = 0u64;
    let mut cached_epoch: Option<(u64, Tensor)> = None;
    let per_epoch = (n / cfg.batch_size as usize) as u64;
    let mut stop = false;
    loop {
        if log.iteration.last() != Some(&t) && (t == run.start || t.is_multiple_of(cfg.eval_every) || t == cfg.iterations || stop) {
            let train_loss = if loss_count == 0 { f64::NAN } else { loss_sum.double_value(&[]) / loss_count as f64 };
            let (vl, va) = eval_split(&sparse, &data.validation, |s| &s.validation);
            // A NaN on either side counts as "not better", as `!(b <= vl)` would.
            let best_so_far = log.val_loss().iter().all(|&b| !matches!(b.partial_cmp(&vl), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)));
            let (tl, ta) = if cfg.test_eval == TestEval::Always || best_so_far || t == cfg.iterations {
                eval_split(&sparse, &data.test, |s| &s.test)
            } else {
                (f64::NAN, f64::NAN)
            };
            log.push(t, &evaluation(train_loss, (vl, va), (tl, ta)));
            let _ = loss_sum.zero_();
            loss_count = 0;
            if !(vl.is_finite() && (train_loss.is_finite() || t == run.start)) {
                return Ok(TrainOutcome { log, status: Status::Diverged { iteration: t }, wall_s: started.elapsed().as_secs_f64(), sparse: sparse.is_some() });
            }
            save_if_due(&run, model, &opt, t, cfg.iterations, &log)?;
        }
        if t == cfg.iterations || stop {
            break;
        }
        for hook in run.hooks.iter_mut() {
            stop |= hook.at(model, &opt, t, &log)? == hooks::Control::Stop;
        }
        if stop {
            // Evaluated at t on the next pass, then returned.
            continue;
        }
        // One step.
        let epoch = t / per_epoch;
        if cached_epoch.as_ref().map(|c| c.0) != Some(epoch) {
            // The epoch's order goes to the data's device once (on a GPU, one copy per epoch
            // instead of a blocking one per step); each batch is a view of it.
            let perm = rng::permutation(&mut rng::stream(run.data_seed, "data-order", &[epoch]), n);
            cached_epoch = Some((epoch, Tensor::from_slice(&perm).to_device(data.train.images.device())));
        }
        let perm = &cached_epoch.as_ref().expect("set above").1;
        let ix = perm.narrow(0, (t % per_epoch) as i64 * cfg.batch_size, cfg.batch_size);
        let mut xb = data.train.images.index_select(0, &ix);
        let yb = data.train.labels.index_select(0, &ix);
        if cfg.augment {
            xb = data::augment(&xb, &mut rng::stream(run.data_seed, "augment", &[t]));
        }
        let xb = xb.to_device(device);
        let yb = yb.to_device(device);
        let lr = cfg.schedule.lr(cfg.optimizer.lr(), t);
        let loss = match sparse.as_mut() {
            Some(s) => Tensor::from(s.mlp.step(&xb, &yb, &mut opt, lr)?),
            None => {
                let loss = model.forward_t(&xb, true).cross_entropy_for_logits(&yb);
                let extra: Vec<Tensor> = run.hooks.iter_mut().filter_map(|h| h.extra_loss(model, t)).collect();
                opt.zero_grad();
                if extra.is_empty() {
                    loss.backward();
                } else {
                    extra.iter().fold(loss.shallow_clone(), |total, term| total + term).backward();
                }
                opt.step(lr); // masks gradients and weights
                loss
            }
        };
        let _ = loss_sum.g_add_(&loss.detach());
        loss_count += 1;
        t += 1;
        for hook in run.hooks.iter_mut() {
            hook.stepped(t);
        }
    }
    if let Some(path) = run.keep_optimizer {
        crate::util::write_tensors(path, &opt.state())?;
    }
    Ok(TrainOutcome { log, status: Status::Completed, wall_s: started.elapsed().as_secs_f64(), sparse: sparse.is_some() })
}

/// The start of a task's own training loop (the actor–critic's, the language model's): checks
/// that `run` asks nothing such a loop cannot give (frozen pruned values; a start at or past the
/// end), builds the optimizer over `model`'s trainable parameters under `mask` — fresh, or from
/// `run.optimizer` with its step count at `run.start` — and zeroes the pruned weights. `what`
/// names the task in errors.
pub fn begin(model: &mut Model, mask: &Mask, cfg: &TrainConfig, run: &RunSpec, what: &str) -> Result<Optimizer> {
    if run.frozen.is_some() {
        bail!("the {what} task trains pruned weights at zero; frozen pruned values (a ticket's treatment) are for image classification");
    }
    if run.start >= cfg.iterations {
        bail!("rewind point {} is not before the end of training ({}); pick a smaller rewind point", run.start, cfg.iterations);
    }
    let device = model.device();
    let mask = mask.to_device(device);
    let mut opt = Optimizer::new(&cfg.optimizer, model.trainable(), &mask.pruned());
    if let Some(state) = run.optimizer {
        let state: Weights = state.iter().map(|(k, v)| (k.clone(), v.to_device(device))).collect();
        opt.load_state(&state, run.start)?;
    }
    mask.apply(model);
    Ok(opt)
}

/// Where `run` holds a checkpoint of this stage: the model's weights and the optimizer's state
/// restored from it, and the iteration and evaluation log to continue from (`None`: training
/// starts at `run.start`). The resume of [`train`] and of every task loop.
pub fn resume(model: &mut Model, opt: &mut Optimizer, run: &RunSpec) -> Result<Option<(u64, EvalLog)>> {
    let Some(slot) = run.checkpoint else { return Ok(None) };
    let Some(ck) = slot.load(model.device()) else { return Ok(None) };
    let ck = ck?;
    model.restore(&ck.weights)?;
    opt.load_state(&ck.optimizer, ck.meta.optimizer_steps)?;
    crate::progress::note(&format!("resuming {} from its checkpoint at iteration {}", slot.dir.display(), ck.meta.iteration));
    Ok(Some((ck.meta.iteration, ck.meta.log)))
}

/// After the evaluation at iteration `t`: a checkpoint where `run` keeps them and one is due
/// (every `every` evaluations, never at the stage's start or end).
pub fn save_if_due(run: &RunSpec, model: &Model, opt: &Optimizer, t: u64, iterations: u64, log: &EvalLog) -> Result<()> {
    match run.checkpoint {
        Some(slot) if t != run.start && t < iterations && slot.due(log.iteration.len()) => slot.save(model, opt, t, log),
        _ => Ok(()),
    }
}

/// The end of a task's own training loop: its outcome, the optimizer's state saved where
/// `run.keep_optimizer` asks once training completed (a diverged run keeps none, as
/// [`train`]'s).
pub fn end(run: &RunSpec, opt: &Optimizer, log: EvalLog, status: Status, started: Instant) -> Result<TrainOutcome> {
    if let (Some(path), Status::Completed) = (run.keep_optimizer, &status) {
        crate::util::write_tensors(path, &opt.state())?;
    }
    Ok(TrainOutcome { log, status, wall_s: started.elapsed().as_secs_f64(), sparse: false })
}

/// A stage on the sparse kernels: its step, and its evaluation splits laid out once.
struct SparseRun {
    mlp: crate::sparse::SparseMlp,
    validation: crate::sparse::Blocks,
    test: crate::sparse::Blocks,
}

impl SparseRun {
    fn new(model: &Model, mask: &Mask, data: &Dataset) -> Result<SparseRun> {
        Ok(SparseRun {
            mlp: crate::sparse::SparseMlp::new(model, mask)?,
            validation: crate::sparse::Blocks::new(&data.validation)?,
            test: crate::sparse::Blocks::new(&data.test)?,
        })
    }
}

/// Weights by name, as stored in snapshots.
pub type Weights = BTreeMap<String, Tensor>;
