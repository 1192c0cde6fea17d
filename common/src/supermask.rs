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
use crate::train::{evaluate, metric, EvalLog, Weights};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// How a supermask is learned: the `learned-supermask` branch's parameters
/// (`params = { lr = 100.0, batch_size = 250, iterations = 10000, eval_every = 500, … }`).
/// Serialised canonically: a field at its default is left out, so stating a default keeps the
/// branch's folder name ([`crate::stage::Kind::params`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupermaskConfig {
    /// SGD learning rate on the logits (the authors' MNIST FC example: 100).
    pub lr: f64,
    #[serde(default = "momentum", skip_serializing_if = "is_default_momentum")]
    pub momentum: f64,
    pub batch_size: i64,
    pub iterations: u64,
    pub eval_every: u64,
    /// Initial logit of every weight (0: keep probability ½).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub score_init: f64,
    /// Replace each frozen weight by sign(w)·std of its layer's initial weights.
    #[serde(default, skip_serializing_if = "is_false")]
    pub signed_constant: bool,
    /// Dynamic weight rescaling: scale each layer's effective weights by numel / kept.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dynamic_scaling: bool,
}

fn momentum() -> f64 {
    0.9
}

fn is_default_momentum(m: &f64) -> bool {
    *m == momentum()
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl SupermaskConfig {
    /// Checks the values that need no dataset (the batch is checked against the data when
    /// training starts).
    pub fn check(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) || self.iterations == 0 || self.eval_every == 0 {
            bail!(
                "supermask lr must be positive and iterations, eval_every at least 1 (got lr {}, iterations {}, eval_every {})",
                self.lr,
                self.iterations,
                self.eval_every
            );
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            bail!("supermask momentum {} is out of range; use 0 to below 1", self.momentum);
        }
        if !self.score_init.is_finite() {
            bail!("supermask score_init {} is not finite; use a finite logit (0: keep probability 1/2)", self.score_init);
        }
        Ok(())
    }
}

/// Frozen weights, logits and momentum of the prunable layers.
struct Scores {
    frozen: BTreeMap<String, Tensor>,
    logits: BTreeMap<String, Tensor>,
    velocity: BTreeMap<String, Tensor>,
}

/// Learns a supermask over `model`'s current (initial) weights; the model ends holding the
/// effective weights of the last sampled mask. Returns the evaluation log (accuracies of sampled
/// masks only: `val_acc` and `test_acc`; the losses are not measured) and the logits.
pub fn train(model: &mut Model, data: &Dataset, cfg: &SupermaskConfig, seed: u64) -> Result<(EvalLog, Weights)> {
    cfg.check()?;
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
    let mut log = EvalLog::default();
    // The epoch's order, on the data's device once per epoch; each batch is a view of it.
    let mut perm: (u64, Tensor) = (u64::MAX, Tensor::new());
    // Whether every loss so far was finite, kept on the device and read only at evaluations, so
    // that a step waits for nothing from the device.
    let mut finite = Tensor::scalar_tensor(1, (Kind::Bool, device));
    let mut checked_at = 0;
    for t in 0..=cfg.iterations {
        if t % cfg.eval_every == 0 || t == cfg.iterations {
            if !bool::try_from(&finite)? {
                bail!("supermask training diverged between iterations {checked_at} and {t} (non-finite loss); lower the learning rate");
            }
            checked_at = t;
            sample_into(model, &st, cfg, &mut rng::stream(seed, "supermask-eval", &[t]));
            log.push(t, &[(metric::VAL_ACC, accuracy(model, &data.validation)), (metric::TEST_ACC, accuracy(model, &data.test))]);
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
        finite = finite.logical_and(&loss.isfinite());
        loss.backward();
        let params = model.parameters();
        tch::no_grad(|| {
            for (name, w) in &st.frozen {
                let g_eff = params[name].grad();
                let p = st.logits[name].sigmoid();
                // Straight-through: d(effective)/d(σ(s)) = w · scale; dσ/ds = σ(1 − σ).
                let grad = match &scales[name] {
                    Some(scale) => g_eff * w * scale,
                    None => g_eff * w,
                } * (&p * (1.0 - &p));
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
/// each layer's rescaling factor `numel / kept` (1 where nothing is kept) as an `f32` scalar
/// tensor on the model's device, `None` without dynamic scaling. The uniforms come from `g` on
/// the host, in the weights' order, and are uploaded; the comparison with σ(s), the count and
/// the factor stay on the device (nothing is read back), with the bits of a host comparison.
fn sample_into(model: &Model, st: &Scores, cfg: &SupermaskConfig, g: &mut impl rand_core::RngCore) -> BTreeMap<String, Option<Tensor>> {
    let params = model.parameters();
    let mut scales = BTreeMap::new();
    tch::no_grad(|| {
        for (name, w) in &st.frozen {
            let u: Vec<f32> = (0..w.numel()).map(|_| rng::uniform(g) as f32).collect();
            let u = Tensor::from_slice(&u).view(w.size().as_slice()).to_device(w.device());
            let m = u.lt_tensor(&st.logits[name].sigmoid()).to_kind(Kind::Float);
            let scale = cfg.dynamic_scaling.then(|| {
                // In f64 and then rounded to f32, as the factor a host would compute.
                let kept = m.sum(Kind::Double);
                (Tensor::scalar_tensor(w.numel() as f64, (Kind::Double, w.device())) / &kept).where_scalarother(&kept.gt(0.0), 1.0).to_kind(Kind::Float)
            });
            let effective = match &scale {
                Some(s) => w * m * s,
                None => w * m,
            };
            let mut target = params[name].shallow_clone();
            target.copy_(&effective);
            scales.insert(name.clone(), scale);
        }
    });
    scales
}

fn accuracy(model: &Model, split: &Split) -> f64 {
    evaluate(model, split).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Arch, InitKind, ModelConfig};

    /// The mask and factor a host computes from the same uniforms: `u < σ(s)` elementwise, then
    /// `numel / kept` in f64 (1 where nothing is kept).
    fn on_the_host(w: &Tensor, logits: &Tensor, g: &mut impl rand_core::RngCore) -> (Tensor, f64) {
        let p = crate::prune::to_vec(&logits.sigmoid());
        let m: Vec<f32> = p.iter().map(|&p| if (rng::uniform(g) as f32) < p { 1.0 } else { 0.0 }).collect();
        let kept: f32 = m.iter().sum();
        let scale = if kept > 0.0 { m.len() as f64 / kept as f64 } else { 1.0 };
        (w * Tensor::from_slice(&m).view(w.size().as_slice()) * scale, scale)
    }

    #[test]
    fn sampling_on_the_device_gives_the_hosts_mask_and_factor_bit_for_bit() {
        let model =
            Model::new(&ModelConfig { arch: Arch::Lenet { hidden: vec![12, 8] }, init: InitKind::GlorotNormal }, [1, 4, 4], 10, 3, Device::Cpu).unwrap();
        let params = model.parameters();
        let mut st = Scores { frozen: BTreeMap::new(), logits: BTreeMap::new(), velocity: BTreeMap::new() };
        for (i, l) in model.layers().iter().enumerate() {
            let w = params[&l.name].detach().copy();
            // Logits spread around 0, and one layer that keeps nothing.
            let s = if i == 1 {
                Tensor::full(w.size(), -1e4, (Kind::Float, Device::Cpu))
            } else {
                rng::with_torch_seed(i as u64, || Tensor::randn(w.size(), (Kind::Float, Device::Cpu)))
            };
            st.logits.insert(l.name.clone(), s);
            st.frozen.insert(l.name.clone(), w);
        }
        let cfg = SupermaskConfig {
            lr: 1.0,
            momentum: 0.9,
            batch_size: 1,
            iterations: 1,
            eval_every: 1,
            score_init: 0.0,
            signed_constant: false,
            dynamic_scaling: true,
        };
        let scales = sample_into(&model, &st, &cfg, &mut rng::stream(9, "t", &[]));
        let mut g = rng::stream(9, "t", &[]);
        let params = model.parameters();
        for (name, w) in &st.frozen {
            let (expected, scale) = on_the_host(w, &st.logits[name], &mut g);
            assert!(params[name].equal(&expected), "{name}: the effective weights differ from the host's");
            let got = f32::try_from(scales[name].as_ref().expect("dynamic scaling")).unwrap();
            assert_eq!(got.to_bits(), (scale as f32).to_bits(), "{name}: factor");
        }
        assert_eq!(f32::try_from(scales[&model.layers()[1].name].as_ref().unwrap()).unwrap(), 1.0, "nothing kept: factor 1");
    }
}
