//! Learned supermasks (Zhou et al. 2019, §4.5 of the reference notes): the weights stay frozen
//! at their initial values (biases too); what is trained is one logit `s` per prunable weight.
//!
//! Each step samples a mask `m ~ Bernoulli(σ(s))`, runs the network with effective weights
//! `w · m` (times `numel / Σm` per layer under dynamic weight rescaling), and updates the logits
//! with the straight-through estimator the authors use (`m + σ(s) − stop_grad(σ(s))`): the
//! gradient reaching `σ(s)` is the gradient of the effective weight times `w` (and the rescaling
//! factor, taken as a constant), then through the sigmoid to `s`. SGD with momentum (PyTorch
//! semantics) at the authors' learning rate (100 on MNIST FC). Evaluation samples a mask too.
//! All sampling comes from the seeded streams of [`crate::rng`], so a run is reproducible.

use crate::data::{Dataset, Split};
use crate::models::Model;
use crate::rng;
use crate::train::{evaluate, Weights};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// How a supermask is learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupermaskConfig {
    /// SGD learning rate on the logits (the authors' MNIST FC example: 100).
    pub lr: f64,
    #[serde(default = "momentum")]
    pub momentum: f64,
    pub batch_size: i64,
    pub iterations: u64,
    pub eval_every: u64,
    /// Initial logit of every weight (0: keep probability ½).
    #[serde(default)]
    pub score_init: f64,
    /// Replace each frozen weight by sign(w)·std of its layer's initial weights.
    #[serde(default)]
    pub signed_constant: bool,
    /// Dynamic weight rescaling: scale each layer's effective weights by numel / kept.
    #[serde(default)]
    pub dynamic_scaling: bool,
}

fn momentum() -> f64 {
    0.9
}

/// Evaluations of a supermask run: entry `i` after `iteration[i]` steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupermaskLog {
    pub iteration: Vec<u64>,
    pub val_acc: Vec<f64>,
    pub test_acc: Vec<f64>,
}

impl SupermaskLog {
    /// As a stage's training outcome (`wall_s`: its duration): accuracies only, the losses
    /// are not measured.
    pub fn outcome(self, wall_s: f64) -> crate::train::TrainOutcome {
        let nan = vec![f64::NAN; self.iteration.len()];
        let log = crate::train::EvalLog {
            iteration: self.iteration,
            train_loss: nan.clone(),
            val_loss: nan.clone(),
            val_acc: self.val_acc,
            test_loss: nan,
            test_acc: self.test_acc,
            curves: Default::default(),
        };
        crate::train::TrainOutcome { log, status: crate::train::Status::Completed, wall_s, sparse: false }
    }
}

/// Frozen weights, logits and momentum of the prunable layers.
struct Scores {
    frozen: BTreeMap<String, Tensor>,
    logits: BTreeMap<String, Tensor>,
    velocity: BTreeMap<String, Tensor>,
}

/// Learns a supermask over `model`'s current (initial) weights; the model ends holding the
/// effective weights of the last sampled mask. Returns the evaluation log and the logits.
pub fn train(model: &mut Model, data: &Dataset, cfg: &SupermaskConfig, seed: u64) -> Result<(SupermaskLog, Weights)> {
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) || cfg.iterations == 0 || cfg.eval_every == 0 {
        bail!("supermask training needs a positive learning rate, iteration count and evaluation interval");
    }
    if cfg.batch_size <= 0 || cfg.batch_size as usize > data.train.len() {
        bail!("batch size {} does not fit the {} training examples", cfg.batch_size, data.train.len());
    }
    let device = model.device();
    let params = model.parameters();
    let mut st = Scores { frozen: BTreeMap::new(), logits: BTreeMap::new(), velocity: BTreeMap::new() };
    for l in model.layers() {
        let w = params[&l.name].detach().copy();
        let w = if cfg.signed_constant { w.sign() * w.std(true).double_value(&[]) } else { w };
        st.logits.insert(l.name.clone(), Tensor::full(w.size(), cfg.score_init, (Kind::Float, device)));
        st.velocity.insert(l.name.clone(), w.zeros_like());
        st.frozen.insert(l.name.clone(), w);
    }
    let n = data.train.len();
    let per_epoch = (n / cfg.batch_size as usize) as u64;
    let mut log = SupermaskLog::default();
    // The epoch's order, on the data's device once per epoch; each batch is a view of it.
    let mut perm: (u64, Tensor) = (u64::MAX, Tensor::new());
    for t in 0..=cfg.iterations {
        if t % cfg.eval_every == 0 || t == cfg.iterations {
            sample_into(model, &st, cfg, &mut rng::stream(seed, "supermask-eval", &[t]));
            log.iteration.push(t);
            log.val_acc.push(accuracy(model, &data.validation));
            log.test_acc.push(accuracy(model, &data.test));
        }
        if t == cfg.iterations {
            break;
        }
        let epoch = t / per_epoch;
        if perm.0 != epoch {
            let order = rng::permutation(&mut rng::stream(seed, "supermask-data", &[epoch]), n);
            perm = (epoch, Tensor::from_slice(&order).to_device(data.train.images.device()));
        }
        let ix = perm.1.narrow(0, (t % per_epoch) as i64 * cfg.batch_size, cfg.batch_size);
        let (x, y) = (data.train.images.index_select(0, &ix).to_device(device), data.train.labels.index_select(0, &ix).to_device(device));
        let scales = sample_into(model, &st, cfg, &mut rng::stream(seed, "supermask-sample", &[t]));
        for p in model.parameters().values() {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        let loss = model.forward_t(&x, true).cross_entropy_for_logits(&y);
        if !loss.double_value(&[]).is_finite() {
            bail!("supermask training diverged at iteration {t} (non-finite loss); lower the learning rate");
        }
        loss.backward();
        let params = model.parameters();
        tch::no_grad(|| {
            for (name, w) in &st.frozen {
                let g_eff = params[name].grad();
                let p = st.logits[name].sigmoid();
                // Straight-through: d(effective)/d(σ(s)) = w · scale; dσ/ds = σ(1 − σ).
                let grad = g_eff * w * scales[name] * (&p * (1.0 - &p));
                let mut v = st.velocity[name].shallow_clone();
                let _ = v.g_mul_scalar_(cfg.momentum).g_add_(&grad);
                let mut s = st.logits[name].shallow_clone();
                let _ = s.g_sub_(&(&v * cfg.lr));
            }
        });
    }
    let logits = st.logits.iter().map(|(k, v)| (k.clone(), v.to_device(Device::Cpu))).collect();
    Ok((log, logits))
}

/// Samples a mask from the logits and writes the effective weights into the model; returns
/// each layer's rescaling factor (1 without dynamic scaling).
fn sample_into(model: &Model, st: &Scores, cfg: &SupermaskConfig, g: &mut impl rand_core::RngCore) -> BTreeMap<String, f64> {
    let params = model.parameters();
    let mut scales = BTreeMap::new();
    tch::no_grad(|| {
        for (name, w) in &st.frozen {
            let p = crate::prune::to_vec(&st.logits[name].sigmoid());
            let m: Vec<f32> = p.iter().map(|&p| if (rng::uniform(g) as f32) < p { 1.0 } else { 0.0 }).collect();
            let kept: f32 = m.iter().sum();
            let scale = if cfg.dynamic_scaling && kept > 0.0 { m.len() as f64 / kept as f64 } else { 1.0 };
            let m = Tensor::from_slice(&m).view(w.size().as_slice()).to_device(w.device());
            let mut target = params[name].shallow_clone();
            target.copy_(&(w * m * scale));
            scales.insert(name.clone(), scale);
        }
    });
    scales
}

fn accuracy(model: &Model, split: &Split) -> f64 {
    evaluate(model, split).1
}
