//! Linear mode connectivity (Frankle, Dziugaite, Roy & Carbin, ICML 2020): loss and error along
//! the straight line between two trained weight vectors, and the instability (error barrier)
//! that decides whether two networks lie in one linearly connected region.
//!
//! Every variable is interpolated — weights, biases, batch-norm affine parameters and batch-norm
//! running statistics (the whole state dict, which is what open_lth's interpolation does; the
//! network is then evaluated in eval mode with the interpolated running statistics) — unless
//! the spawned branch's parameters ask to recompute the running statistics at each α from
//! training data ([`recompute_norm_statistics`], `recompute_batch_norm`), as later work on mode
//! connectivity does (the statistics of a mixed network are not the mix of its ends'). Pruned
//! weights are zero in both ends and so stay zero along the path.

use crate::data::{Dataset, Split};
use crate::models::Model;
use crate::train::{evaluate, Weights};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// The paper's grid: 30 evenly spaced α in [0, 1].
pub const PAPER_POINTS: usize = 30;

/// How instability analysis evaluates the line between two spawned copies (Frankle et al.
/// 2020): the spawned branches' parameters (`params = { points = 5, train_examples = 1000 }`).
/// `points` evenly spaced α in [0, 1] (the paper's 30), test error on the whole test set and
/// train error on the first `train_examples` training examples (all when absent, as the paper).
/// `recompute_batch_norm = N`: at each α the batch-norm running statistics are recomputed from
/// the first N training examples instead of interpolated with the weights
/// ([`recompute_norm_statistics`]; absent: interpolated, what the paper's text leaves unsaid and
/// open_lth's state-dict interpolation does). Serialised canonically (a field at its default is
/// left out), so the paper's settings leave the branch's folder name bare (`spawn_1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interpolation {
    #[serde(default = "paper_points", skip_serializing_if = "is_paper_points")]
    pub points: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_examples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute_batch_norm: Option<u64>,
}

fn paper_points() -> u32 {
    PAPER_POINTS as u32
}

fn is_paper_points(points: &u32) -> bool {
    *points == paper_points()
}

impl Interpolation {
    /// The paper's: 30 points, the whole training set.
    pub const PAPER: Interpolation = Interpolation { points: PAPER_POINTS as u32, train_examples: None, recompute_batch_norm: None };

    /// Checks the settings (the counts against the data are checked when comparing).
    pub fn check(&self) -> Result<()> {
        if !(2..=1_000).contains(&self.points) {
            bail!("interpolation points is {}; choose 2 to 1000 (the paper uses 30)", self.points);
        }
        if self.recompute_batch_norm == Some(0) {
            bail!("interpolation recompute_batch_norm is 0; give the number of training examples to recompute batch-norm statistics from (e.g. 5000), or leave it out to interpolate them");
        }
        if self.train_examples == Some(0) {
            bail!("interpolation train_examples is 0; leave it out to use the whole training set");
        }
        Ok(())
    }
}

impl Default for Interpolation {
    fn default() -> Self {
        Self::PAPER
    }
}

/// One point on the path θ(α) = (1 − α)·θ_a + α·θ_b.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PathPoint {
    pub alpha: f64,
    /// Mean cross-entropy on the split.
    pub loss: f64,
    /// Classification error (1 − accuracy) on the split.
    pub error: f64,
}

/// `points` evenly spaced values from 0 to 1 inclusive (`points ≥ 2`).
pub fn alphas(points: usize) -> Vec<f64> {
    (0..points).map(|i| i as f64 / (points - 1) as f64).collect()
}

/// Evaluates `model` on `split` at `points` evenly spaced α between `a` (α = 0) and `b` (α = 1).
/// The model's own weights are left as they were.
pub fn path(model: &mut Model, a: &Weights, b: &Weights, points: usize, split: &Split) -> Result<Vec<PathPoint>> {
    Ok(paths(model, a, b, points, &[split], None)?.remove(0))
}

/// [`path`] on each of `splits` at once; with `statistics`, the batch-norm running statistics
/// at each α are recomputed from it ([`recompute_norm_statistics`]) before the evaluations.
pub fn paths(model: &mut Model, a: &Weights, b: &Weights, points: usize, splits: &[&Split], statistics: Option<&Split>) -> Result<Vec<Vec<PathPoint>>> {
    if points < 2 {
        bail!("an interpolation path needs at least 2 points, got {points}");
    }
    if a.len() != b.len() || !a.keys().all(|k| b.get(k).is_some_and(|t| t.size() == a[k].size())) {
        bail!("the two weight vectors to interpolate belong to different architectures");
    }
    let saved = model.snapshot();
    let mut out = vec![Vec::with_capacity(points); splits.len()];
    for alpha in alphas(points) {
        let mixed: Weights = tch::no_grad(|| a.iter().map(|(k, ta)| (k.clone(), ta * (1.0 - alpha) + &b[k] * alpha)).collect());
        model.restore(&mixed)?;
        if let Some(data) = statistics {
            recompute_norm_statistics(model, data);
        }
        for (split, points) in splits.iter().zip(out.iter_mut()) {
            let (loss, acc) = evaluate(model, split);
            points.push(PathPoint { alpha, loss, error: 1.0 - acc });
        }
    }
    model.restore(&saved)?;
    Ok(out)
}

/// Examples per batch of [`recompute_norm_statistics`].
pub const STATISTICS_BATCH: i64 = 128;

/// Replaces every batch norm's running mean and variance in `model` by what PyTorch computes
/// with `momentum = None` over `split`: train-mode forward passes (no gradients) over its
/// batches of [`STATISTICS_BATCH`] examples in order, each batch's mean and unbiased variance
/// averaged with equal weight over the batches. Every batch norm here updates with momentum
/// 0.1 (`models::Init::bn`), so a forward pass from zeroed statistics leaves 0.1× the batch's
/// own, which is read back and accumulated. A network without batch norm is left as it is.
pub fn recompute_norm_statistics(model: &Model, split: &Split) {
    let stats: Vec<Tensor> =
        model.parameters().into_iter().filter(|(n, _)| n.ends_with(".running_mean") || n.ends_with(".running_var")).map(|(_, t)| t).collect();
    if stats.is_empty() {
        return;
    }
    let _guard = tch::no_grad_guard();
    let mut sums: Vec<Tensor> = stats.iter().map(Tensor::zeros_like).collect();
    let (n, mut batches) = (split.len() as i64, 0);
    let mut start = 0;
    while start < n {
        let len = (n - start).min(STATISTICS_BATCH);
        for s in &stats {
            let _ = s.shallow_clone().zero_();
        }
        let _ = model.forward_t(&split.images.narrow(0, start, len), true);
        for (sum, s) in sums.iter_mut().zip(&stats) {
            *sum += s * 10.0;
        }
        batches += 1;
        start += len;
    }
    for (s, sum) in stats.iter().zip(sums) {
        s.shallow_clone().copy_(&(sum / batches as f64));
    }
}

/// Linear interpolation instability: the highest error on the path minus the mean error of its
/// two ends (the paper calls a pair stable when this is below 2 %, i.e. 0.02).
pub fn instability(path: &[PathPoint]) -> f64 {
    let (Some(first), Some(last)) = (path.first(), path.last()) else { return f64::NAN };
    let sup = path.iter().map(|p| p.error).fold(f64::NEG_INFINITY, f64::max);
    sup - 0.5 * (first.error + last.error)
}

/// Two copies of one instability analysis compared (stored with the pair's second copy): error
/// along the line from the `partner` copy (α = 0) to the recording copy (α = 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    /// Copy index of the pair's first network (α = 0).
    pub partner: u32,
    /// Path on the whole test set.
    pub test: Vec<PathPoint>,
    /// Path on the first `train_examples` training examples.
    pub train: Vec<PathPoint>,
    pub train_examples: u64,
    /// ‖w_a − w_b‖₂ over the prunable (conv and linear) weights.
    pub distance: f64,
}

impl PairRecord {
    /// Test-error barrier (the paper's instability; stable when < 0.02).
    pub fn test_instability(&self) -> f64 {
        instability(&self.test)
    }

    pub fn train_instability(&self) -> f64 {
        instability(&self.train)
    }
}

/// Compares copy `partner`'s final weights `a` with `b` on `data` as `how` says.
pub fn compare(model: &mut Model, partner: u32, a: &Weights, b: &Weights, data: &Dataset, how: &Interpolation) -> Result<PairRecord> {
    let points = how.points as usize;
    let n = how.train_examples.map_or(data.train.len(), |n| (n as usize).min(data.train.len()));
    let train = Split { images: data.train.images.narrow(0, 0, n as i64), labels: data.train.labels.narrow(0, 0, n as i64) };
    let distance =
        tch::no_grad(|| model.layers().iter().map(|l| (&a[&l.name] - &b[&l.name]).square().sum(tch::Kind::Double).double_value(&[])).sum::<f64>().sqrt());
    let statistics = how.recompute_batch_norm.map(|m| {
        let m = (m as usize).min(data.train.len()) as i64;
        Split { images: data.train.images.narrow(0, 0, m), labels: data.train.labels.narrow(0, 0, m) }
    });
    let [test, train]: [Vec<PathPoint>; 2] =
        paths(model, a, b, points, &[&data.test, &train], statistics.as_ref())?.try_into().map_err(|_| anyhow::format_err!("two paths"))?;
    Ok(PairRecord { partner, test, train, train_examples: n as u64, distance })
}
