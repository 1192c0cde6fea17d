//! `rewind-perturbed`: the level's IMP mask on θ_k with its surviving weights perturbed, trained
//! from k — Frankle, Schwab & Morcos (2020), "The Early Phase of Neural Network Training": what
//! of θ_k does a ticket need? The perturbations (`params = { perturbation = … }`), applied to
//! the surviving weights of the prunable layers only (biases and batch norm stay θ_k's):
//! - `sign-kept-reinit`: `sign(θ_k) · |θ'|`, θ' a fresh draw of the experiment's initialiser
//!   (purpose `rewind-perturbed-init` at (replicate, level, copy)) — keeps the signs, redraws the
//!   magnitudes;
//! - `init-magnitudes`: `sign(θ_k) · |θ_0|`, and `init-signs`: `sign(θ_0) · |θ_k|` — which of
//!   the early phase's changes matter, the signs or the magnitudes;
//! - `permute` with `scope = global | layer | filter`: the surviving values of θ_k shuffled among
//!   the surviving positions of all prunable layers together, of each layer, or of each output
//!   unit (a convolution's output channel, a linear layer's row); with `same_sign = true` a value
//!   only moves to a position whose θ_k value has the same sign (positives and negatives
//!   shuffled apart), so the sign pattern is kept (stream `perturbation`);
//! - `noise` with `scale = α`: `θ_k + α · σ_l · ε`, ε ~ N(0, 1) per surviving weight, σ_l the
//!   standard deviation of the experiment's initialiser for layer l (purpose
//!   `rewind-perturbed-noise`).
//!
//! Zeros of θ_k (rare) are moved with the positives by `same_sign`. The paper's exact
//! definitions could not be read (`shared/reference/papers-round3.md` §1.3); these are the
//! project's, stated here and in every folder name through the parameters.

use super::{Kind, Params, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::models::Model;
use crate::prune::Mask;
use crate::rng;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind as DType, Tensor};

pub struct RewindPerturbed;

/// What is done to θ_k's surviving weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "perturbation", deny_unknown_fields)]
pub enum Perturbation {
    SignKeptReinit,
    /// `sign(θ_k) · |θ_0|`: θ_k's signs on θ_0's magnitudes.
    InitMagnitudes,
    /// `sign(θ_0) · |θ_k|`: θ_0's signs on θ_k's magnitudes.
    InitSigns,
    Permute {
        scope: Scope,
        #[serde(default)]
        same_sign: bool,
    },
    Noise {
        scale: f64,
    },
}

/// Where a permutation moves values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Across every prunable layer.
    Global,
    /// Within each layer.
    Layer,
    /// Within each output unit of each layer.
    Filter,
}

impl Perturbation {
    /// The branch params stating this perturbation.
    pub fn params(&self) -> Params {
        super::to_params(self)
    }

    fn check(&self) -> Result<()> {
        if let Perturbation::Noise { scale } = self {
            if !(scale.is_finite() && *scale >= 0.0 && *scale <= 100.0) {
                bail!("noise scale {scale} is out of range; use 0 to 100 (times each layer's initial standard deviation)");
            }
        }
        Ok(())
    }
}

fn parse(params: &Params) -> Result<Perturbation> {
    let usage = "use perturbation = \"sign-kept-reinit\", \"init-signs\", \"init-magnitudes\", \"permute\" (with scope = \"global\", \"layer\" or \"filter\", optional same_sign) or \"noise\" (with scale)";
    let p: Perturbation = super::read_params(params, "rewind-perturbed", usage)?;
    p.check()?;
    Ok(p)
}

impl Kind for RewindPerturbed {
    fn name(&self) -> &'static str {
        "rewind-perturbed"
    }

    /// Every parameter names the branch (the perturbation has no default).
    fn params(&self, params: &Params) -> Result<Params> {
        Ok(parse(params)?.params())
    }

    fn validate(&self, branch: &BranchConfig, _cfg: &ExperimentConfig) -> Result<()> {
        parse(&branch.params).map(|_| ())
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let perturbation: Perturbation = cx.params()?;
        let mut model = cx.fresh_model(cx.init_seed())?;
        model.restore(&cx.exp.rewind_weights(cx.job.replicate)?)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        let copy = cx.job.stage.copy();
        let fresh = match perturbation {
            Perturbation::SignKeptReinit => Some(cx.fresh_model(cx.copy_seed("rewind-perturbed-init", copy))?),
            // θ_0: the replicate's initial draw, the trunk's start.
            Perturbation::InitMagnitudes | Perturbation::InitSigns => Some(cx.fresh_model(cx.init_seed())?),
            _ => None,
        };
        let (r, l) = cx.coords();
        let seeds = Seeds {
            permutation: rng::derive_seed(cx.config().seed, "perturbation", &[r, l, copy as u64]),
            noise: cx.copy_seed("rewind-perturbed-noise", copy),
        };
        perturb(&model, &mask, perturbation, fresh.as_ref(), seeds)?;
        Ok(Start::new(model, mask, cx.config()))
    }
}

/// The seeds of one copy's random draws.
#[derive(Debug, Clone, Copy)]
pub struct Seeds {
    pub permutation: u64,
    pub noise: u64,
}

/// Applies `p` in place to the surviving weights of `model`'s prunable layers under `mask`
/// (`fresh`: the new draw `sign-kept-reinit` takes its magnitudes from, θ_0 for `init-signs`
/// and `init-magnitudes`).
pub fn perturb(model: &Model, mask: &Mask, p: Perturbation, fresh: Option<&Model>, seeds: Seeds) -> Result<()> {
    let params = model.parameters();
    let layers: Vec<String> = model.layers().iter().map(|l| l.name.clone()).collect();
    // Each layer's values (row-major, on the CPU) and its survivors' positions.
    let mut values: Vec<Vec<f32>> =
        layers.iter().map(|n| Vec::<f32>::try_from(params[n].to_device(Device::Cpu).to_kind(DType::Float).flatten(0, -1))).collect::<Result<_, _>>()?;
    let kept: Vec<Vec<usize>> = layers
        .iter()
        .map(|n| -> Result<Vec<usize>> {
            let m = Vec::<f32>::try_from(mask.0[n].to_device(Device::Cpu).to_kind(DType::Float).flatten(0, -1))?;
            Ok(m.iter().enumerate().filter(|(_, &k)| k != 0.0).map(|(i, _)| i).collect())
        })
        .collect::<Result<_>>()?;
    match p {
        Perturbation::SignKeptReinit | Perturbation::InitMagnitudes | Perturbation::InitSigns => {
            let other = fresh.expect("the perturbation needs the other weights").parameters();
            for ((name, v), idx) in layers.iter().zip(&mut values).zip(&kept) {
                let other = Vec::<f32>::try_from(other[name].to_device(Device::Cpu).to_kind(DType::Float).flatten(0, -1))?;
                let sign = |x: f32| if x < 0.0 { -1.0 } else { 1.0 };
                for &i in idx {
                    v[i] = match p {
                        Perturbation::InitSigns => sign(other[i]) * v[i].abs(),
                        _ => sign(v[i]) * other[i].abs(),
                    };
                }
            }
        }
        Perturbation::Permute { scope, same_sign } => {
            // Groups of (layer, position) that exchange values, in a fixed order.
            let mut groups: Vec<Vec<(usize, usize)>> = Vec::new();
            for (li, idx) in kept.iter().enumerate() {
                let rows = params[&layers[li]].size()[0].max(1) as usize;
                let per_row = values[li].len() / rows;
                match scope {
                    Scope::Global if li == 0 => groups.push(Vec::new()),
                    Scope::Global => {}
                    Scope::Layer => groups.push(Vec::new()),
                    Scope::Filter => groups.extend((0..rows).map(|_| Vec::new())),
                }
                let first_row_group = groups.len() - if scope == Scope::Filter { rows } else { 1 };
                for &i in idx {
                    let g = if scope == Scope::Filter { first_row_group + i / per_row } else { groups.len() - 1 };
                    groups[g].push((li, i));
                }
            }
            let mut stream = rng::stream(seeds.permutation, "perturbation", &[]);
            for group in groups {
                let parts: Vec<Vec<(usize, usize)>> = if same_sign {
                    let (neg, nonneg): (Vec<_>, Vec<_>) = group.into_iter().partition(|&(l, i)| values[l][i] < 0.0);
                    vec![nonneg, neg]
                } else {
                    vec![group]
                };
                for part in parts {
                    let old: Vec<f32> = part.iter().map(|&(l, i)| values[l][i]).collect();
                    let perm = rng::permutation(&mut stream, part.len());
                    for (&(l, i), &from) in part.iter().zip(&perm) {
                        values[l][i] = old[from as usize];
                    }
                }
            }
        }
        Perturbation::Noise { scale } => {
            let stds: Vec<f64> =
                layers.iter().map(|n| model.init_std(n).ok_or_else(|| anyhow::format_err!("{n} has no initial standard deviation"))).collect::<Result<_>>()?;
            let noise: Vec<Vec<f32>> = rng::with_torch_seed(seeds.noise, || {
                values.iter().map(|v| Vec::<f32>::try_from(Tensor::randn([v.len() as i64], (DType::Float, Device::Cpu)))).collect::<Result<_, _>>()
            })?;
            for ((v, idx), (eps, std)) in values.iter_mut().zip(&kept).zip(noise.iter().zip(&stds)) {
                for &i in idx {
                    v[i] += (scale * std) as f32 * eps[i];
                }
            }
        }
    }
    tch::no_grad(|| -> Result<()> {
        for (name, v) in layers.iter().zip(&values) {
            let mut p = params[name].shallow_clone();
            let new = Tensor::from_slice(v).view(p.size().as_slice()).to_device(p.device());
            p.copy_(&new);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Arch, InitKind, ModelConfig};

    fn lenet(seed: u64) -> Model {
        Model::new(&ModelConfig { arch: Arch::Lenet { hidden: vec![12, 8] }, init: InitKind::GlorotNormal }, [1, 4, 4], 10, seed, Device::Cpu).unwrap()
    }

    fn half_mask(m: &Model) -> Mask {
        let dense = Mask::dense(m);
        rng::with_torch_seed(7, || {
            Mask(dense.0.iter().map(|(k, v)| (k.clone(), Tensor::rand(v.size(), (DType::Float, Device::Cpu)).ge(0.5).to_kind(DType::Float))).collect())
        })
    }

    fn values(m: &Model, mask: &Mask, name: &str) -> (Vec<f32>, Vec<bool>) {
        let v = Vec::<f32>::try_from(m.parameters()[name].flatten(0, -1)).unwrap();
        let k = Vec::<f32>::try_from(mask.0[name].flatten(0, -1)).unwrap().iter().map(|&x| x != 0.0).collect();
        (v, k)
    }

    fn sorted(mut v: Vec<f32>) -> Vec<u32> {
        v.sort_by(f32::total_cmp);
        v.iter().map(|x| x.to_bits()).collect()
    }

    const SEEDS: Seeds = Seeds { permutation: 3, noise: 4 };

    #[test]
    fn permutations_move_values_only_within_their_scope_and_keep_pruned_positions() {
        for (scope, same_sign) in [(Scope::Global, false), (Scope::Layer, false), (Scope::Filter, false), (Scope::Layer, true), (Scope::Filter, true)] {
            let (theta, perturbed) = (lenet(1), lenet(1));
            let mask = half_mask(&theta);
            perturb(&perturbed, &mask, Perturbation::Permute { scope, same_sign }, None, SEEDS).unwrap();
            let mut all_before = Vec::new();
            let mut all_after = Vec::new();
            let mut moved = false;
            for l in theta.layers() {
                let ((before, kept), (after, _)) = (values(&theta, &mask, &l.name), values(&perturbed, &mask, &l.name));
                let cols = theta.parameters()[&l.name].size()[1] as usize;
                for i in 0..before.len() {
                    if !kept[i] {
                        assert_eq!(before[i].to_bits(), after[i].to_bits(), "{scope:?}: a pruned position changed");
                    } else if same_sign {
                        assert_eq!(before[i] < 0.0, after[i] < 0.0, "{scope:?}: a survivor changed sign");
                    }
                }
                moved |= before != after;
                let survivors = |v: &[f32], row: Option<usize>| -> Vec<f32> {
                    v.iter().enumerate().filter(|&(i, _)| kept[i] && row.is_none_or(|r| i / cols == r)).map(|(_, &x)| x).collect()
                };
                match scope {
                    Scope::Global => {
                        all_before.extend(survivors(&before, None));
                        all_after.extend(survivors(&after, None));
                    }
                    Scope::Layer => assert_eq!(sorted(survivors(&before, None)), sorted(survivors(&after, None)), "{}: a value left its layer", l.name),
                    Scope::Filter => {
                        for r in 0..before.len() / cols {
                            assert_eq!(sorted(survivors(&before, Some(r))), sorted(survivors(&after, Some(r))), "{} row {r}: a value left its row", l.name);
                        }
                    }
                }
            }
            assert_eq!(sorted(all_before), sorted(all_after), "{scope:?}: values were created or lost");
            assert!(moved, "{scope:?}: nothing moved");
        }
    }

    #[test]
    fn sign_kept_reinit_keeps_signs_and_takes_the_new_magnitudes() {
        let (theta, perturbed, fresh) = (lenet(1), lenet(1), lenet(9));
        let mask = half_mask(&theta);
        perturb(&perturbed, &mask, Perturbation::SignKeptReinit, Some(&fresh), SEEDS).unwrap();
        for l in theta.layers() {
            let ((before, kept), (after, _), (new, _)) = (values(&theta, &mask, &l.name), values(&perturbed, &mask, &l.name), values(&fresh, &mask, &l.name));
            for i in 0..before.len() {
                if kept[i] {
                    assert_eq!(after[i].abs(), new[i].abs());
                    assert_eq!(after[i] < 0.0, before[i] < 0.0);
                } else {
                    assert_eq!(after[i], before[i]);
                }
            }
        }
    }

    /// `init-signs` and `init-magnitudes` combine θ_0 and θ_k position by position.
    #[test]
    fn signs_and_magnitudes_come_from_the_iterations_asked() {
        for p in [Perturbation::InitSigns, Perturbation::InitMagnitudes] {
            let (theta_k, perturbed, theta_0) = (lenet(1), lenet(1), lenet(9));
            let mask = half_mask(&theta_k);
            perturb(&perturbed, &mask, p, Some(&theta_0), SEEDS).unwrap();
            for l in theta_k.layers() {
                let ((k, kept), (after, _), (zero, _)) =
                    (values(&theta_k, &mask, &l.name), values(&perturbed, &mask, &l.name), values(&theta_0, &mask, &l.name));
                for i in 0..k.len() {
                    let (signs, magnitudes) = if p == Perturbation::InitSigns { (zero[i], k[i]) } else { (k[i], zero[i]) };
                    if kept[i] {
                        assert_eq!((after[i] < 0.0, after[i].abs()), (signs < 0.0, magnitudes.abs()), "{p:?} {} {i}", l.name);
                    } else {
                        assert_eq!(after[i].to_bits(), k[i].to_bits(), "{p:?}: a pruned position changed");
                    }
                }
            }
        }
    }

    #[test]
    fn noise_is_scaled_by_each_layers_initial_standard_deviation() {
        let (theta, perturbed) = (lenet(1), lenet(1));
        let mask = Mask::dense(&theta);
        perturb(&perturbed, &mask, Perturbation::Noise { scale: 0.5 }, None, SEEDS).unwrap();
        for l in theta.layers() {
            let ((before, _), (after, _)) = (values(&theta, &mask, &l.name), values(&perturbed, &mask, &l.name));
            let d: Vec<f64> = before.iter().zip(&after).map(|(a, b)| (b - a) as f64).collect();
            let rms = (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
            let expected = 0.5 * theta.init_std(&l.name).unwrap();
            assert!((rms / expected - 1.0).abs() < 0.35, "{}: noise rms {rms} vs {expected}", l.name);
        }
        assert!(parse(&Perturbation::Noise { scale: -1.0 }.params()).is_err());
        assert!(parse(&Params::new()).unwrap_err().to_string().contains("sign-kept-reinit"));
    }
}
