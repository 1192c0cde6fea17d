//! Replicate aggregation and summary tables (polars): mean / min / max per (level, stage kind),
//! and per-iteration bands of a curve.
//!
//! Samples are grouped by [`StageKind`] (the stage without its copy index, `reinit_2` →
//! `reinit`): every copy of every replicate is one sample of the kind at that level (e.g.
//! 5 trials × 3 reinitialisations = 15 samples, as in Frankle & Carbin).

use crate::imp::{StageKind, StageRecord};
use crate::train::metric;
use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// Mean, minimum and maximum over samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

impl Stat {
    /// The mean of `values` (`None` when empty).
    pub fn mean_of(values: &[f64]) -> Option<f64> {
        Stat::of(values).map(|s| s.mean)
    }

    /// Mean, min and max of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Stat> {
        (!values.is_empty()).then(|| Stat {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelSummary {
    pub level: u32,
    pub kind: StageKind,
    /// Percent of prunable weights remaining (Pm).
    pub percent_remaining: f64,
    /// Samples with a completed run.
    pub samples: u32,
    /// Samples that diverged (excluded from the statistics).
    pub diverged: u32,
    pub early_stop_iteration: Stat,
    pub early_stop_test_acc: Stat,
    pub early_stop_val_acc: Stat,
    pub final_test_acc: Stat,
    /// The last value of each curve beyond [`metric::EVALUATION`] (a task's own: the
    /// actor–critic's `reward`), over the completed samples; empty for image classification.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub final_curves: std::collections::BTreeMap<String, Stat>,
}

/// Summary rows sorted by level then kind; diverged runs are counted, not averaged.
pub fn summarise(records: &[StageRecord]) -> Result<Vec<LevelSummary>> {
    let ok: Vec<&StageRecord> = records.iter().filter(|r| r.outcome.status == crate::train::Status::Completed).collect();
    let early = |r: &StageRecord| r.outcome.log.early_stop_index();
    let level: Vec<u32> = ok.iter().map(|r| r.level).collect();
    let kind: Vec<String> = ok.iter().map(|r| r.stage.kind().name()).collect();
    let density: Vec<f64> = ok.iter().map(|r| 100.0 * r.density).collect();
    let es_iter: Vec<f64> = ok.iter().map(|r| early(r).map(|i| r.outcome.log.iteration[i] as f64).unwrap_or(f64::NAN)).collect();
    let at = |r: &StageRecord, i: Option<usize>, name: &str| i.and_then(|i| r.outcome.log.curve(name).get(i).copied()).unwrap_or(f64::NAN);
    let es_test: Vec<f64> = ok.iter().map(|r| at(r, early(r), metric::TEST_ACC)).collect();
    let es_val: Vec<f64> = ok.iter().map(|r| at(r, early(r), metric::VAL_ACC)).collect();
    let fin: Vec<f64> = ok.iter().map(|r| r.outcome.log.last(metric::TEST_ACC).unwrap_or(f64::NAN)).collect();
    let df = DataFrame::new(
        ok.len(),
        vec![
            Column::new("level".into(), level),
            Column::new("kind".into(), kind),
            Column::new("density".into(), density),
            Column::new("es_iter".into(), es_iter),
            Column::new("es_test".into(), es_test),
            Column::new("es_val".into(), es_val),
            Column::new("final".into(), fin),
        ],
    )?;
    let stats = |c: &str| [col(c).mean().alias(format!("{c}_mean")), col(c).min().alias(format!("{c}_min")), col(c).max().alias(format!("{c}_max"))];
    let mut aggs = vec![col("density").mean().alias("density"), col("es_iter").count().alias("n")];
    for c in ["es_iter", "es_test", "es_val", "final"] {
        aggs.extend(stats(c));
    }
    let out = df.lazy().group_by([col("level"), col("kind")]).agg(aggs).sort(["level", "kind"], SortMultipleOptions::default()).collect()?;
    let f = |name: &str| -> Result<Vec<f64>> {
        let c = out.column(name)?.cast(&DataType::Float64)?;
        let c = c.f64()?;
        Ok((0..c.len()).map(|i| c.get(i).unwrap_or(f64::NAN)).collect())
    };
    let lv = out.column("level")?.u32()?;
    let levels: Vec<u32> = (0..lv.len()).map(|i| lv.get(i).unwrap_or(0)).collect();
    let kv = out.column("kind")?.str()?;
    let kinds: Vec<StageKind> = (0..kv.len()).map(|i| StageKind::parse(kv.get(i).unwrap_or(""))).collect::<Result<_>>()?;
    let (density, n) = (f("density")?, f("n")?);
    let stat = |c: &str| -> Result<Vec<Stat>> {
        let (a, b, m) = (f(&format!("{c}_mean"))?, f(&format!("{c}_min"))?, f(&format!("{c}_max"))?);
        Ok((0..a.len()).map(|i| Stat { mean: a[i], min: b[i], max: m[i] }).collect())
    };
    let (es_iter, es_test, es_val, fin) = (stat("es_iter")?, stat("es_test")?, stat("es_val")?, stat("final")?);
    Ok((0..levels.len())
        .map(|i| LevelSummary {
            level: levels[i],
            kind: kinds[i],
            percent_remaining: density[i],
            samples: n[i] as u32,
            diverged: records
                .iter()
                .filter(|r| r.level == levels[i] && r.stage.kind() == kinds[i] && r.outcome.status != crate::train::Status::Completed)
                .count() as u32,
            early_stop_iteration: es_iter[i],
            early_stop_test_acc: es_test[i],
            early_stop_val_acc: es_val[i],
            final_test_acc: fin[i],
            final_curves: final_curves(&ok, levels[i], kinds[i]),
        })
        .collect())
}

/// Per curve beyond [`metric::EVALUATION`], the statistics of its last value over `records` of
/// `kind` at `level`.
fn final_curves(records: &[&StageRecord], level: u32, kind: StageKind) -> std::collections::BTreeMap<String, Stat> {
    let mut last: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for r in records.iter().filter(|r| r.level == level && r.stage.kind() == kind) {
        for (name, curve) in r.outcome.log.curves().filter(|(name, _)| !metric::EVALUATION.contains(name)) {
            last.entry(name.to_string()).or_default().extend(curve.last().copied().filter(|v| v.is_finite()));
        }
    }
    last.into_iter().filter_map(|(name, v)| Some((name, Stat::of(&v)?))).collect()
}

/// Per-iteration `(iteration, mean, min, max)` of curve `name` (e.g. [`metric::TEST_ACC`]) over
/// the completed samples of `kind` at `level` (iterations present in every sample; a sample that
/// did not measure the curve counts NaN).
pub fn curve(records: &[StageRecord], level: u32, kind: StageKind, name: &str) -> Vec<(f64, Stat)> {
    let runs: Vec<&StageRecord> =
        records.iter().filter(|r| r.level == level && r.stage.kind() == kind && r.outcome.status == crate::train::Status::Completed).collect();
    let Some(first) = runs.first() else { return vec![] };
    let n = runs.iter().map(|r| r.outcome.log.iteration.len()).min().unwrap_or(0);
    let values: Vec<&[f64]> = runs.iter().map(|r| r.outcome.log.curve(name)).collect();
    let at = |i: usize| values.iter().map(|v| v.get(i).copied().unwrap_or(f64::NAN)).collect::<Vec<f64>>();
    (0..n).filter_map(|i| Stat::of(&at(i)).map(|s| (first.outcome.log.iteration[i] as f64, s))).collect()
}
