//! `early-statistics`: the dense network's first iterations trained again from θ_0, with the
//! trunk's data order, recording how the weights move — Frankle, Schwab & Morcos (2020), "The
//! Early Phase of Neural Network Training", the statistics of its first figure. Params
//! `iterations` (how many of the first iterations, at most the experiment's) and `every` (the
//! recording interval). A branch at level 0 only; its stage trains nothing the trunk does not
//! (same θ_0, schedule and batches: its weights at t are the trunk's at t, up to the fused
//! optimizer's summation order).
//!
//! At t = 0, `every`, 2·`every`, … below `iterations`, over the prunable layers, its record's
//! metrics hold one row each:
//! - `statistics_iteration`: t;
//! - `distance`: ‖θ_t − θ_0‖ / ‖θ_0‖ over all prunable weights together, and `layer_distance`
//!   the same per layer (rows × layers, the layers in the record's order);
//! - `sign_flips`: the fraction of prunable weights whose sign differs from θ_0's, and
//!   `layer_sign_flips` per layer;
//! - `gradient`: ‖m_t‖ over all prunable weights, m_t the optimizer's first moment before step t
//!   (SGD's momentum buffer Σ μ^i g_{t−i}; Adam's m_t, (1 − β1)-weighted) — the gradient's size,
//!   smoothed as the optimizer sees it (0 at t = 0), and `layer_gradient` per layer.
//!
//! Rows are written to the stage folder as they are made, so a resumed stage keeps them.

use super::{Kind, Params, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::imp::JobId;
use crate::models::Model;
use crate::prune::Mask;
use crate::train::hooks::{Control, Hook};
use crate::train::optim::Optimizer;
use crate::train::{EvalLog, TrainOutcome};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{Device, Kind as DType};

pub struct EarlyStatistics;

/// What is recorded, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsParams {
    pub iterations: u64,
    pub every: u64,
}

impl StatisticsParams {
    /// The branch params stating these settings.
    pub fn params(&self) -> Params {
        super::to_params(self)
    }
}

fn parse(params: &Params) -> Result<StatisticsParams> {
    let p: StatisticsParams = super::read_params(params, "early-statistics", "set iterations (how many of the first) and every (the recording interval)")?;
    if p.every == 0 || p.iterations == 0 {
        bail!("early-statistics needs iterations ≥ 1 and every ≥ 1 (got iterations = {}, every = {})", p.iterations, p.every);
    }
    Ok(p)
}

impl Kind for EarlyStatistics {
    fn name(&self) -> &'static str {
        "early-statistics"
    }

    fn params(&self, params: &Params) -> Result<Params> {
        Ok(parse(params)?.params())
    }

    fn validate(&self, branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        let p = parse(&branch.params)?;
        if branch.levels.iter().any(|&l| l != 0) {
            bail!("early-statistics records the dense network: give it levels = [0]");
        }
        if p.iterations > cfg.train.iterations {
            bail!("early-statistics iterations = {} exceeds the {} the experiment trains; lower it", p.iterations, cfg.train.iterations);
        }
        Ok(())
    }

    /// Dense, from θ_0: the trunk's level 0 is not needed.
    fn parents(&self, _job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        Vec::new()
    }

    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        false
    }

    fn first_iteration(&self, _job: JobId, _cfg: &ExperimentConfig) -> u64 {
        0
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let p: StatisticsParams = cx.params()?;
        let model = cx.fresh_model(cx.init_seed())?;
        let mask = Mask::dense(&model);
        let mut start = Start::new(model, mask, cx.config());
        start.train.iterations = p.iterations;
        Ok(start)
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let p: StatisticsParams = cx.params()?;
        let mut recorder = Recorder { dir: cx.dir.to_path_buf(), every: p.every, theta0: prunable(&start.model)? };
        let outcome = cx.train_with(start, self.data_seed(cx), None, 0, vec![&mut recorder])?;
        let rows: Vec<Row> = (0..p.iterations).step_by(p.every as usize).filter_map(|t| Row::read(&recorder.dir, t).transpose()).collect::<Result<_>>()?;
        let m = &mut start.metrics;
        m.insert("statistics_iteration".into(), rows.iter().map(|r| r.iteration as f64).collect());
        m.insert("distance".into(), rows.iter().map(|r| r.distance).collect());
        m.insert("sign_flips".into(), rows.iter().map(|r| r.sign_flips).collect());
        m.insert("gradient".into(), rows.iter().map(|r| r.gradient).collect());
        m.insert("layer_distance".into(), rows.iter().flat_map(|r| r.layer_distance.iter().copied()).collect());
        m.insert("layer_sign_flips".into(), rows.iter().flat_map(|r| r.layer_sign_flips.iter().copied()).collect());
        m.insert("layer_gradient".into(), rows.iter().flat_map(|r| r.layer_gradient.iter().copied()).collect());
        Ok(outcome)
    }
}

/// Each prunable layer's values, flattened, on the CPU.
fn prunable(model: &Model) -> Result<Vec<Vec<f32>>> {
    let params = model.parameters();
    model.layers().iter().map(|l| Ok(Vec::<f32>::try_from(params[&l.name].to_device(Device::Cpu).to_kind(DType::Float).flatten(0, -1))?)).collect()
}

/// One recorded iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    iteration: u64,
    distance: f64,
    sign_flips: f64,
    gradient: f64,
    layer_distance: Vec<f64>,
    layer_sign_flips: Vec<f64>,
    layer_gradient: Vec<f64>,
}

impl Row {
    fn path(dir: &Path, t: u64) -> PathBuf {
        dir.join(format!("statistics_{t}.json"))
    }

    fn read(dir: &Path, t: u64) -> Result<Option<Row>> {
        let path = Row::path(dir, t);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)?;
        Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} is corrupt; delete it and run again", path.display()))?))
    }
}

/// Records a [`Row`] every `every` iterations.
struct Recorder {
    dir: PathBuf,
    every: u64,
    /// θ_0's prunable layers.
    theta0: Vec<Vec<f32>>,
}

impl Recorder {
    fn record(&self, model: &Model, opt: &Optimizer, t: u64) -> Result<()> {
        let now = prunable(model)?;
        let (mut moved, mut norm0, mut flipped, mut count) = (0.0f64, 0.0f64, 0usize, 0usize);
        let (mut layer_distance, mut layer_sign_flips) = (Vec::new(), Vec::new());
        for (a, b) in self.theta0.iter().zip(&now) {
            let d: f64 = a.iter().zip(b).map(|(x, y)| f64::from(y - x).powi(2)).sum();
            let n: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum();
            let f = a.iter().zip(b).filter(|(x, y)| (**x < 0.0) != (**y < 0.0)).count();
            layer_distance.push((d / n).sqrt());
            layer_sign_flips.push(f as f64 / a.len() as f64);
            (moved, norm0, flipped, count) = (moved + d, norm0 + n, flipped + f, count + a.len());
        }
        let state: std::collections::BTreeMap<String, tch::Tensor> = opt.state().into_iter().collect();
        let layer_gradient: Vec<f64> = model
            .layers()
            .iter()
            .map(|l| state.get(&format!("first/{}", l.name)).map_or(0.0, |m| m.to_kind(DType::Double).square().sum(DType::Double).double_value(&[])))
            .collect();
        let gradient: f64 = layer_gradient.iter().sum();
        let row = Row {
            iteration: t,
            distance: (moved / norm0).sqrt(),
            sign_flips: flipped as f64 / count as f64,
            gradient: gradient.sqrt(),
            layer_distance,
            layer_sign_flips,
            layer_gradient: layer_gradient.iter().map(|g| g.sqrt()).collect(),
        };
        crate::util::write_atomic(&Row::path(&self.dir, t), serde_json::to_string(&row)?.as_bytes())
    }
}

impl Hook for Recorder {
    fn at(&mut self, model: &Model, opt: &Optimizer, t: u64, _log: &EvalLog) -> Result<Control> {
        if t.is_multiple_of(self.every) && !Row::path(&self.dir, t).exists() {
            self.record(model, opt, t)?;
        }
        Ok(Control::Continue)
    }
}
