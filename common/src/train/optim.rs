//! SGD (momentum, Nesterov, weight decay), Adam and RMSprop, written over the model's tensors so that
//! their state can be checkpointed (tch's wrappers of `torch::optim` cannot save it).
//!
//! Updates follow the formulas and operation order of PyTorch's single-tensor `torch.optim.SGD`
//! (dampening 0), `torch.optim.Adam` (coupled L2 weight decay, bias-corrected moments) and
//! `torch.optim.RMSprop` (not centred, no momentum: FLARE's, Yu et al.'s games); see
//! [`super::fused`] for the element-wise form. Every update runs in place under `no_grad`.

use super::{foreach, fused};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::Tensor;

/// Optimizer and its hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum OptimizerConfig {
    Sgd {
        lr: f64,
        momentum: f64,
        nesterov: bool,
        weight_decay: f64,
    },
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    },
    /// `v ← α·v + (1 − α)·g²; p ← p − lr · g / (√v + eps)`.
    Rmsprop {
        lr: f64,
        alpha: f64,
        eps: f64,
        weight_decay: f64,
    },
}

impl OptimizerConfig {
    /// Adam with PyTorch's default betas and eps.
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }

    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } | OptimizerConfig::Rmsprop { lr, .. } => *lr,
        }
    }

    /// The same optimizer with base learning rate `new`.
    pub fn with_lr(&self, new: f64) -> Self {
        let mut c = self.clone();
        match &mut c {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } | OptimizerConfig::Rmsprop { lr, .. } => *lr = new,
        }
        c
    }

    /// Whether the optimizer carries state between steps (momentum buffers, Adam's moments):
    /// plain SGD without momentum has none, so where its state starts cannot change a number.
    pub fn has_state(&self) -> bool {
        match self {
            OptimizerConfig::Sgd { momentum, .. } => *momentum != 0.0,
            OptimizerConfig::Adam { .. } | OptimizerConfig::Rmsprop { .. } => true,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            bail!("learning rate {lr} must be a positive number");
        }
        Ok(())
    }
}

/// One update's hyperparameters, resolved for step `t` in f64 and rounded to f32, as libtorch
/// rounds every scalar it applies to an f32 tensor (so both update paths see the same values).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    Sgd {
        neg_lr: f32,
        momentum: f32,
        nesterov: bool,
        weight_decay: f32,
    },
    /// `neg_step = −lr / (1 − β1^t)`, `bias2_sqrt = √(1 − β2^t)`.
    Adam {
        one_minus_beta1: f32,
        beta2: f32,
        one_minus_beta2: f32,
        bias2_sqrt: f32,
        eps: f32,
        neg_step: f32,
        weight_decay: f32,
    },
    Rmsprop {
        alpha: f32,
        one_minus_alpha: f32,
        eps: f32,
        neg_lr: f32,
        weight_decay: f32,
    },
}

impl Rule {
    fn new(config: &OptimizerConfig, lr: f64, t: u64) -> Rule {
        match *config {
            OptimizerConfig::Sgd { momentum, nesterov, weight_decay, .. } => {
                Rule::Sgd { neg_lr: -lr as f32, momentum: momentum as f32, nesterov, weight_decay: weight_decay as f32 }
            }
            OptimizerConfig::Adam { beta1, beta2, eps, weight_decay, .. } => Rule::Adam {
                one_minus_beta1: (1.0 - beta1) as f32,
                beta2: beta2 as f32,
                one_minus_beta2: (1.0 - beta2) as f32,
                bias2_sqrt: (1.0 - beta2.powf(t as f64)).sqrt() as f32,
                eps: eps as f32,
                neg_step: (-lr / (1.0 - beta1.powf(t as f64))) as f32,
                weight_decay: weight_decay as f32,
            },
            OptimizerConfig::Rmsprop { alpha, eps, weight_decay, .. } => Rule::Rmsprop {
                alpha: alpha as f32,
                one_minus_alpha: (1.0 - alpha) as f32,
                eps: eps as f32,
                neg_lr: -lr as f32,
                weight_decay: weight_decay as f32,
            },
        }
    }
}

impl Rule {
    /// The rule as the multi-tensor shim takes it ([`super::foreach`]): its number and scalars.
    fn shim_args(&self) -> (std::ffi::c_int, Vec<f64>) {
        let f = f64::from;
        match *self {
            Rule::Sgd { neg_lr, momentum, nesterov, weight_decay } => {
                (foreach::SGD, vec![f(neg_lr), f(momentum), if nesterov { 1.0 } else { 0.0 }, f(weight_decay)])
            }
            Rule::Adam { one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, neg_step, weight_decay } => {
                (foreach::ADAM, vec![f(one_minus_beta1), f(beta2), f(one_minus_beta2), f(bias2_sqrt), f(eps), f(neg_step), f(weight_decay)])
            }
            Rule::Rmsprop { alpha, one_minus_alpha, eps, neg_lr, weight_decay } => {
                (foreach::RMSPROP, vec![f(alpha), f(one_minus_alpha), f(eps), f(neg_lr), f(weight_decay)])
            }
        }
    }
}

/// A gradient computed outside autograd, for [`Optimizer::step_with`].
pub struct Gradient<'a> {
    /// The parameter's name.
    pub name: &'a str,
    /// Row-major element indices the values belong to (increasing); `None`: every element.
    pub positions: Option<&'a [u32]>,
    pub values: &'a [f32],
}

/// A trainable parameter, its optimizer state and, when it has pruned entries, its mask.
struct Slot {
    name: String,
    param: Tensor,
    /// Momentum buffer (SGD), first moment (Adam) or square average (RMSprop), zero-initialised.
    first: Tensor,
    /// Second moment (Adam only).
    second: Option<Tensor>,
    /// 0/1, laid out like `param`.
    mask: Option<Tensor>,
    /// Values the pruned entries are held at instead of zero (zero at the survivors).
    frozen: Option<Tensor>,
}

/// Optimizer state over a fixed list of parameters (sorted by name). Each step masks the
/// gradients of pruned parameters, updates, and re-masks their weights, so pruned weights stay
/// exactly zero. On the CPU one fused pass per parameter does all of it ([`super::fused`]);
/// elsewhere (GPU, unusual layouts) multi-tensor operations compute the same formula over all
/// those parameters at once ([`super::foreach`]), and per-parameter tensor ops for parameters
/// holding frozen pruned values.
pub struct Optimizer {
    config: OptimizerConfig,
    slots: Vec<Slot>,
    /// Number of steps taken.
    pub steps: u64,
}

impl Optimizer {
    /// Fresh state (as open_lth: a new optimizer for every training run of IMP). `masks` holds
    /// the masks of the parameters with pruned entries, by parameter name.
    pub fn new(config: &OptimizerConfig, params: Vec<(String, Tensor)>, masks: &BTreeMap<String, Tensor>) -> Self {
        let slots = params
            .into_iter()
            .map(|(name, param)| Slot {
                first: param.zeros_like(),
                second: matches!(config, OptimizerConfig::Adam { .. }).then(|| param.zeros_like()),
                mask: masks.get(&name).map(|m| laid_out_like(&param, m)),
                frozen: None,
                name,
                param,
            })
            .collect();
        Optimizer { config: config.clone(), slots, steps: 0 }
    }

    /// Holds the pruned entries of the named masked parameters at `values` (zero at the
    /// survivors) after every update, instead of zero. Such parameters take the tensor-op path.
    pub fn freeze(&mut self, values: &BTreeMap<String, Tensor>) {
        for s in &mut self.slots {
            if let (Some(v), Some(_)) = (values.get(&s.name), &s.mask) {
                s.frozen = Some(laid_out_like(&s.param, v));
            }
        }
    }

    pub fn zero_grad(&mut self) {
        for s in &mut self.slots {
            s.param.zero_grad();
        }
    }

    /// One update with learning rate `lr` from the gradients in `.grad()`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let rule = Rule::new(&self.config, lr, self.steps);
        tch::no_grad(|| {
            let mut together = Vec::new();
            for s in &mut self.slots {
                let grad = s.param.grad();
                if !grad.defined() {
                    continue;
                }
                if s.frozen.is_some() {
                    s.update_with_tensor_ops(&rule, grad);
                    continue;
                }
                if crate::device::generic_path() || !fused::try_update(rule, &s.operands(&grad)) {
                    together.push((&*s, grad));
                }
            }
            if !together.is_empty() {
                let batch: Vec<fused::Operands> = together.iter().map(|(s, grad)| s.operands(grad)).collect();
                let (id, scalars) = rule.shim_args();
                // As tch's tensor operations do, a libtorch failure here (out of memory) panics.
                foreach::update(id, &scalars, &batch).unwrap_or_else(|e| panic!("{e:#}"));
            }
        });
    }

    /// One update with learning rate `lr` from gradients computed outside autograd (the sparse
    /// kernels, [`crate::sparse`]): each [`Gradient`] names a parameter and holds its gradient
    /// at `positions` (a pruned weight's survivors: only they and their state are updated, with
    /// the masked update's bits) or everywhere. Parameters given no gradient are not updated.
    /// CPU `f32` parameters without frozen values only.
    pub fn step_with(&mut self, lr: f64, grads: &[Gradient]) -> Result<()> {
        self.steps += 1;
        let rule = Rule::new(&self.config, lr, self.steps);
        for g in grads {
            let Some(s) = self.slots.iter_mut().find(|s| s.name == g.name) else { bail!("no trainable parameter named {}", g.name) };
            if s.frozen.is_some() {
                bail!("{} holds frozen pruned values; it trains through autograd, not the sparse kernels", s.name);
            }
            if s.mask.is_some() && g.positions.is_none() {
                bail!("{} is pruned; give its gradient at the survivors' positions", s.name);
            }
            let n = s.param.numel();
            let tensors = [Some(&s.param), Some(&s.first), s.second.as_ref()];
            if !tensors.iter().flatten().all(|t| t.device() == tch::Device::Cpu && t.kind() == tch::Kind::Float && t.is_contiguous()) {
                bail!("{}: explicit gradients need contiguous CPU f32 tensors", s.name);
            }
            let expected = g.positions.map_or(n, <[u32]>::len);
            if g.values.len() != expected {
                bail!("{}: {} gradient values for {expected} elements", s.name, g.values.len());
            }
            // SAFETY: parameter, first and second moments are distinct contiguous CPU f32
            // tensors of `n` elements (checked above), held by this optimizer; nothing else
            // reads or writes them during the update (the caller holds the optimizer mutably
            // and computes no gradients meanwhile).
            unsafe {
                let mutable = |t: &Tensor| std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n);
                let (p, first, second) = (mutable(&s.param), mutable(&s.first), s.second.as_ref().map(mutable));
                match g.positions {
                    Some(at) => fused::update_at(rule, p, g.values, first, second, at),
                    None => fused::update_all(rule, p, g.values, first, second),
                }
            }
        }
        Ok(())
    }

    /// The state tensors by name (`first/<param>`, `second/<param>`), for checkpoints.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for s in &self.slots {
            out.push((format!("first/{}", s.name), s.first.shallow_clone()));
        }
        for s in &self.slots {
            if let Some(t) = &s.second {
                out.push((format!("second/{}", s.name), t.shallow_clone()));
            }
        }
        out
    }

    /// Loads state saved by [`Optimizer::state`].
    pub fn load_state(&mut self, state: &std::collections::BTreeMap<String, Tensor>, steps: u64) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for s in &mut self.slots {
                let saved =
                    |kind: &str| state.get(&format!("{kind}/{}", s.name)).ok_or_else(|| anyhow::format_err!("checkpoint lacks optimizer state for {}", s.name));
                s.first.copy_(saved("first")?);
                if let Some(t) = &mut s.second {
                    t.copy_(saved("second")?);
                }
            }
            Ok(())
        })?;
        self.steps = steps;
        Ok(())
    }
}

/// A copy of `t` with `like`'s device, dtype and strides (e.g. channels-last), same values.
fn laid_out_like(like: &Tensor, t: &Tensor) -> Tensor {
    let mut out = like.empty_like();
    tch::no_grad(|| out.copy_(t));
    out
}

impl Slot {
    /// This parameter's operands for an update from `grad`.
    fn operands<'a>(&'a self, grad: &'a Tensor) -> fused::Operands<'a> {
        fused::Operands { param: &self.param, grad, first: &self.first, second: self.second.as_ref(), mask: self.mask.as_ref() }
    }

    /// The update of [`super::fused`] as tensor ops (same formula; may differ in the last bit
    /// where libtorch's kernels fuse a multiply-add).
    fn update_with_tensor_ops(&mut self, rule: &Rule, grad: Tensor) {
        let p = &mut self.param;
        let f = f64::from;
        let mut g = match &self.mask {
            Some(m) => grad * m,
            None => grad,
        };
        match *rule {
            Rule::Sgd { neg_lr, momentum, nesterov, weight_decay } => {
                if weight_decay != 0.0 {
                    g = &g + &*p * f(weight_decay);
                }
                let d = if momentum != 0.0 {
                    let buf = &mut self.first;
                    let _ = buf.g_mul_scalar_(f(momentum)).g_add_(&g);
                    if nesterov {
                        &g + &*buf * f(momentum)
                    } else {
                        buf.shallow_clone()
                    }
                } else {
                    g
                };
                let _ = p.g_add_(&(d * f(neg_lr)));
            }
            Rule::Adam { one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, neg_step, weight_decay } => {
                if weight_decay != 0.0 {
                    g = &g + &*p * f(weight_decay);
                }
                let (m, v) = (&mut self.first, self.second.as_mut().expect("Adam keeps second moments"));
                let _ = m.lerp_(&g, f(one_minus_beta1));
                let _ = v.g_mul_scalar_(f(beta2)).addcmul_(&(&g * f(one_minus_beta2)), &g);
                let denom = (v.sqrt() / f(bias2_sqrt)).g_add_scalar_(f(eps));
                let _ = p.addcdiv_(&(&*m * f(neg_step)), &denom);
            }
            Rule::Rmsprop { alpha, one_minus_alpha, eps, neg_lr, weight_decay } => {
                if weight_decay != 0.0 {
                    g = &g + &*p * f(weight_decay);
                }
                let v = &mut self.first;
                let _ = v.g_mul_scalar_(f(alpha)).addcmul_(&(&g * f(one_minus_alpha)), &g);
                let denom = v.sqrt().g_add_scalar_(f(eps));
                let _ = p.addcdiv_(&(g * f(neg_lr)), &denom);
            }
        }
        if let Some(m) = &self.mask {
            let _ = p.g_mul_(m);
        }
        if let Some(f) = &self.frozen {
            let _ = p.g_add_(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Runs `steps` updates of one masked parameter through the fused loop and through tensor
    /// ops, from the same state and gradients; returns both parameters.
    fn both_paths(config: OptimizerConfig, steps: u64) -> (Tensor, Tensor, Tensor) {
        let (p0, grads, mask) = crate::rng::with_torch_seed(3, || {
            let p0 = Tensor::randn([37, 29], (Kind::Float, Device::Cpu));
            let grads: Vec<Tensor> = (0..steps).map(|_| Tensor::randn([37, 29], (Kind::Float, Device::Cpu))).collect();
            let mask = Tensor::rand([37, 29], (Kind::Float, Device::Cpu)).ge(0.3).to_kind(Kind::Float);
            (p0, grads, mask)
        });
        let run = |fused_path: bool| {
            let p = (&p0 * &mask).set_requires_grad(true);
            let masks = BTreeMap::from([("w".to_string(), mask.shallow_clone())]);
            let mut opt = Optimizer::new(&config, vec![("w".into(), p.shallow_clone())], &masks);
            for (t, g) in grads.iter().enumerate() {
                opt.steps += 1;
                let rule = Rule::new(&config, 0.01, t as u64 + 1);
                tch::no_grad(|| {
                    let s = &mut opt.slots[0];
                    let operands = s.operands(g);
                    if fused_path {
                        assert!(fused::try_update(rule, &operands), "a dense CPU tensor takes the fused loop");
                    } else {
                        s.update_with_tensor_ops(&rule, g.copy());
                    }
                });
            }
            p.detach()
        };
        let (fused, ops) = (run(true), run(false));
        assert!(!fused.equal(&(&p0 * &mask)), "the update moved the weights");
        (fused, ops, mask)
    }

    /// Two masked parameters and an unmasked one, updated `steps` times per parameter with
    /// tensor ops, or all together by the multi-tensor shim; returns the final weights.
    fn per_tensor_and_together(config: &OptimizerConfig, steps: u64) -> (Vec<Tensor>, Vec<Tensor>) {
        let shapes: [&[i64]; 3] = [&[8, 5], &[6], &[3, 2, 3, 3]];
        let (p0, grads, masks) = crate::rng::with_torch_seed(4, || {
            let p0: Vec<Tensor> = shapes.iter().map(|s| Tensor::randn(*s, (Kind::Float, Device::Cpu))).collect();
            let grads: Vec<Vec<Tensor>> = (0..steps).map(|_| shapes.iter().map(|s| Tensor::randn(*s, (Kind::Float, Device::Cpu))).collect()).collect();
            let masks: Vec<Tensor> = [0, 2].iter().map(|&i| Tensor::rand(shapes[i], (Kind::Float, Device::Cpu)).ge(0.4).to_kind(Kind::Float)).collect();
            (p0, grads, masks)
        });
        let run = |together: bool| {
            let names = ["a", "b", "c"];
            let params: Vec<(String, Tensor)> = names.iter().zip(&p0).map(|(n, p)| (n.to_string(), p.copy())).collect();
            let masks = BTreeMap::from([("a".to_string(), masks[0].shallow_clone()), ("c".to_string(), masks[1].shallow_clone())]);
            let mut opt = Optimizer::new(config, params, &masks);
            for (t, g) in grads.iter().enumerate() {
                let rule = Rule::new(config, 0.01, t as u64 + 1);
                tch::no_grad(|| {
                    if together {
                        let batch: Vec<fused::Operands> = opt.slots.iter().zip(g).map(|(s, grad)| s.operands(grad)).collect();
                        let (id, scalars) = rule.shim_args();
                        foreach::update(id, &scalars, &batch).unwrap();
                    } else {
                        for (s, grad) in opt.slots.iter_mut().zip(g) {
                            s.update_with_tensor_ops(&rule, grad.copy());
                        }
                    }
                });
            }
            opt.slots.iter().map(|s| s.param.copy()).collect::<Vec<_>>()
        };
        (run(false), run(true))
    }

    /// Every update rule and SGD variant: momentum with and without Nesterov, none.
    fn every_rule() -> [OptimizerConfig; 5] {
        [
            OptimizerConfig::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-4 },
            OptimizerConfig::Sgd { lr: 0.01, momentum: 0.9, nesterov: true, weight_decay: 1e-4 },
            OptimizerConfig::Sgd { lr: 0.01, momentum: 0.9, nesterov: false, weight_decay: 0.0 },
            OptimizerConfig::Sgd { lr: 0.01, momentum: 0.0, nesterov: false, weight_decay: 5e-4 },
            OptimizerConfig::Rmsprop { lr: 0.01, alpha: 0.99, eps: 1e-8, weight_decay: 1e-4 },
        ]
    }

    #[test]
    fn the_multi_tensor_update_equals_the_per_tensor_update_bit_for_bit() {
        for config in every_rule() {
            let (per_tensor, together) = per_tensor_and_together(&config, 5);
            for (i, (a, b)) in per_tensor.iter().zip(&together).enumerate() {
                assert!(a.equal(b), "{config:?}: parameter {i} differs");
            }
        }
    }

    #[test]
    fn the_fused_cpu_update_equals_the_tensor_op_update_and_keeps_pruned_weights_zero() {
        for config in every_rule() {
            let (fused, ops, mask) = both_paths(config.clone(), 6);
            // Same formula; the tensor kernels may fuse a multiply-add, so allow a few ulps.
            let diff = (&fused - &ops).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "{config:?}: paths differ by {diff}");
            let pruned = mask.eq(0.0);
            for p in [&fused, &ops] {
                assert_eq!(p.masked_select(&pruned).abs().max().double_value(&[]), 0.0, "{config:?}: a pruned weight moved");
            }
        }
    }
}
