//! SGD (momentum, Nesterov, weight decay) and Adam, written over the model's tensors so that
//! their state can be checkpointed (tch's wrappers of `torch::optim` cannot save it).
//!
//! Updates follow PyTorch's `torch.optim.SGD` (dampening 0) and `torch.optim.Adam` (coupled L2
//! weight decay, bias-corrected moments) exactly. Every update runs in place under `no_grad`.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Optimizer and its hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum OptimizerConfig {
    Sgd { lr: f64, momentum: f64, nesterov: bool, weight_decay: f64 },
    Adam { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64 },
}

impl OptimizerConfig {
    /// Adam with PyTorch's default betas and eps.
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }

    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } => *lr,
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

/// Optimizer state over a fixed list of parameters (sorted by name).
pub struct Optimizer {
    config: OptimizerConfig,
    params: Vec<(String, Tensor)>,
    /// Momentum buffers (SGD) or first moments (Adam), zero-initialised.
    first: Vec<Tensor>,
    /// Second moments (Adam only).
    second: Vec<Tensor>,
    /// Number of steps taken.
    pub steps: u64,
}

impl Optimizer {
    /// Fresh state (as open_lth: a new optimizer for every training run of IMP).
    pub fn new(config: &OptimizerConfig, params: Vec<(String, Tensor)>) -> Self {
        let zeros = |params: &[(String, Tensor)]| params.iter().map(|(_, p)| p.zeros_like()).collect::<Vec<_>>();
        let first = zeros(&params);
        let second = match config {
            OptimizerConfig::Adam { .. } => zeros(&params),
            OptimizerConfig::Sgd { .. } => vec![],
        };
        Optimizer { config: config.clone(), params, first, second, steps: 0 }
    }

    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// One update with learning rate `lr` from the gradients in `.grad()`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let t = self.steps as f64;
        tch::no_grad(|| match self.config {
            OptimizerConfig::Sgd { momentum, nesterov, weight_decay, .. } => {
                for ((_, p), buf) in self.params.iter_mut().zip(&mut self.first) {
                    let mut g = p.grad();
                    if !g.defined() {
                        continue;
                    }
                    if weight_decay != 0.0 {
                        g = &g + &*p * weight_decay;
                    }
                    let d = if momentum != 0.0 {
                        let _ = buf.g_mul_scalar_(momentum).g_add_(&g);
                        if nesterov {
                            &g + &*buf * momentum
                        } else {
                            buf.shallow_clone()
                        }
                    } else {
                        g
                    };
                    let _ = p.g_add_(&(d * -lr));
                }
            }
            OptimizerConfig::Adam { beta1, beta2, eps, weight_decay, .. } => {
                let bc1 = 1.0 - beta1.powf(t);
                let bc2 = 1.0 - beta2.powf(t);
                for (((_, p), m), v) in self.params.iter_mut().zip(&mut self.first).zip(&mut self.second) {
                    let mut g = p.grad();
                    if !g.defined() {
                        continue;
                    }
                    if weight_decay != 0.0 {
                        g = &g + &*p * weight_decay;
                    }
                    let _ = m.lerp_(&g, 1.0 - beta1);
                    let _ = v.g_mul_scalar_(beta2).addcmul_(&(&g * (1.0 - beta2)), &g);
                    let denom = (&*v / bc2).sqrt_().g_add_scalar_(eps);
                    let _ = p.addcdiv_(&(&*m * (-lr / bc1)), &denom);
                }
            }
        });
    }

    /// The state tensors by name (`first/<param>`, `second/<param>`), for checkpoints.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for ((name, _), t) in self.params.iter().zip(&self.first) {
            out.push((format!("first/{name}"), t.shallow_clone()));
        }
        for ((name, _), t) in self.params.iter().zip(&self.second) {
            out.push((format!("second/{name}"), t.shallow_clone()));
        }
        out
    }

    /// Loads state saved by [`Optimizer::state`].
    pub fn load_state(&mut self, state: &std::collections::BTreeMap<String, Tensor>, steps: u64) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for ((name, _), t) in self.params.iter().zip(&mut self.first) {
                let s = state.get(&format!("first/{name}")).ok_or_else(|| anyhow::format_err!("checkpoint lacks optimizer state for {name}"))?;
                t.copy_(s);
            }
            for ((name, _), t) in self.params.iter().zip(&mut self.second) {
                let s = state.get(&format!("second/{name}")).ok_or_else(|| anyhow::format_err!("checkpoint lacks optimizer state for {name}"))?;
                t.copy_(s);
            }
            Ok(())
        })?;
        self.steps = steps;
        Ok(())
    }
}
