//! The evaluation log of a training run: every measured quantity is a curve stored by name, one
//! value per evaluation.
//!
//! Image classification (and the language model, whose loss is the cross-entropy in nats, i.e.
//! the log perplexity, and whose accuracy is next-word accuracy) logs the five curves of
//! [`metric`]; another task logs what it measures under its own names (the actor–critic's
//! `reward`, `updates`, `env_steps`); a learned supermask logs only accuracies. A curve a stage
//! did not measure is absent, not NaN: [`EvalLog::curve`] reads it as empty.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The names of the curves image classification logs at every evaluation. They are the results
/// schema's dataset names (`curves/<name>`), part of the API as stage names are.
pub mod metric {
    /// Mean training mini-batch loss since the previous evaluation (NaN at the first).
    pub const TRAIN_LOSS: &str = "train_loss";
    /// Mean loss on the validation set (held out of the training set).
    pub const VAL_LOSS: &str = "val_loss";
    /// Accuracy on the validation set.
    pub const VAL_ACC: &str = "val_acc";
    /// Mean loss on the test set (NaN where `test_eval = "at-best-validation"` skipped it).
    pub const TEST_LOSS: &str = "test_loss";
    /// Accuracy on the test set (NaN where it was skipped, as its loss).
    pub const TEST_ACC: &str = "test_acc";
    /// The five, in the order results schema 1 stored them.
    pub const EVALUATION: [&str; 5] = [TRAIN_LOSS, VAL_LOSS, VAL_ACC, TEST_LOSS, TEST_ACC];
}

/// Evaluation curves: entry `i` of every curve was measured after `iteration[i]` training steps,
/// so every curve is as long as `iteration` (a curve first logged at a later entry reads NaN
/// before it). Equality is bitwise (NaN equals NaN), which is what "identical results" means
/// here; a curve without a finite value counts as not measured, equal to an absent one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "StoredEvalLog")]
pub struct EvalLog {
    pub iteration: Vec<u64>,
    #[serde(with = "nan_as_null_map")]
    curves: BTreeMap<String, Vec<f64>>,
}

impl EvalLog {
    /// A log of `iteration` and `curves` by name.
    ///
    /// # Errors
    /// When a curve's length differs from `iteration`'s (the message names the curve).
    pub fn from_curves<N: Into<String>>(iteration: Vec<u64>, curves: impl IntoIterator<Item = (N, Vec<f64>)>) -> anyhow::Result<EvalLog> {
        let mut log = EvalLog { iteration, curves: BTreeMap::new() };
        for (name, values) in curves {
            let name = name.into();
            if values.len() != log.iteration.len() {
                anyhow::bail!("curve {name} has {} values for {} evaluations", values.len(), log.iteration.len());
            }
            log.curves.insert(name, values);
        }
        Ok(log)
    }

    /// The log of results schema 1 (and of run folders written before schema 2): the five
    /// [`metric::EVALUATION`] columns held by every stage, NaN where a task did not measure
    /// them, beside a task's own `curves`. Columns without a finite value are dropped — they
    /// were placeholders (a game's accuracies, a supermask's losses, the training loss of a
    /// stage that trained nothing).
    pub fn from_schema_1(iteration: Vec<u64>, columns: [Vec<f64>; 5], curves: BTreeMap<String, Vec<f64>>) -> anyhow::Result<EvalLog> {
        let measured = metric::EVALUATION.into_iter().map(String::from).zip(columns).filter(|(_, c)| c.iter().any(|x| x.is_finite()));
        EvalLog::from_curves(iteration, measured.chain(curves))
    }

    /// Appends the evaluation after `iteration` steps, with its `values` by name (a name given
    /// twice keeps its last value). A curve this entry does not name reads NaN here; a curve it
    /// names for the first time reads NaN at the earlier entries.
    pub fn push(&mut self, iteration: u64, values: &[(&str, f64)]) {
        let before = self.iteration.len();
        self.iteration.push(iteration);
        for (name, value) in values {
            let curve = self.curves.entry(name.to_string()).or_insert_with(|| vec![f64::NAN; before]);
            curve.truncate(before);
            curve.push(*value);
        }
        for curve in self.curves.values_mut() {
            curve.resize(before + 1, f64::NAN);
        }
    }

    /// Curve `name`, one value per entry; empty when this log did not measure it.
    pub fn curve(&self, name: &str) -> &[f64] {
        self.curves.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every curve, by name in sorted order.
    pub fn curves(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.curves.iter().map(|(name, c)| (name.as_str(), c.as_slice()))
    }

    /// Every value of curve `name` set to `value` (hand-made logs in tests and figure checks);
    /// nothing when the curve is absent.
    pub fn fill(&mut self, name: &str, value: f64) {
        if let Some(c) = self.curves.get_mut(name) {
            c.fill(value);
        }
    }

    /// The last value of curve `name` (the end of training), if logged.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.curve(name).last().copied()
    }

    /// [`metric::TRAIN_LOSS`].
    pub fn train_loss(&self) -> &[f64] {
        self.curve(metric::TRAIN_LOSS)
    }

    /// [`metric::VAL_LOSS`].
    pub fn val_loss(&self) -> &[f64] {
        self.curve(metric::VAL_LOSS)
    }

    /// [`metric::VAL_ACC`].
    pub fn val_acc(&self) -> &[f64] {
        self.curve(metric::VAL_ACC)
    }

    /// [`metric::TEST_LOSS`].
    pub fn test_loss(&self) -> &[f64] {
        self.curve(metric::TEST_LOSS)
    }

    /// [`metric::TEST_ACC`].
    pub fn test_acc(&self) -> &[f64] {
        self.curve(metric::TEST_ACC)
    }

    /// Index of the evaluation with minimum validation loss (the early-stop point, Frankle &
    /// Carbin App. C); the first such index on ties.
    pub fn early_stop_index(&self) -> Option<usize> {
        let v = self.val_loss();
        (0..v.len()).filter(|&i| v[i].is_finite()).min_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)))
    }

    /// Index of the evaluation with maximum validation accuracy (Renda et al.'s selection of a
    /// retraining run's checkpoint); the first such index on ties.
    pub fn best_val_acc_index(&self) -> Option<usize> {
        let v = self.val_acc();
        (0..v.len()).filter(|&i| v[i].is_finite()).max_by(|&a, &b| v[a].total_cmp(&v[b]).then(b.cmp(&a)))
    }

    /// The curves holding a finite value (what was measured).
    fn measured(&self) -> impl Iterator<Item = (&String, &Vec<f64>)> {
        self.curves.iter().filter(|(_, c)| c.iter().any(|x| x.is_finite()))
    }
}

impl PartialEq for EvalLog {
    fn eq(&self, o: &Self) -> bool {
        let same = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        self.iteration == o.iteration
            && self.measured().count() == o.measured().count()
            && self.measured().zip(o.measured()).all(|((a, x), (b, y))| a == b && same(x, y))
    }
}

/// An evaluation log as JSON holds it (checkpoints and stage records in run folders): since
/// schema 2 `iteration` and `curves`; before it also the five [`metric::EVALUATION`] columns,
/// with `curves` only for a task's own.
#[derive(Deserialize)]
struct StoredEvalLog {
    iteration: Vec<u64>,
    #[serde(default, with = "nan_as_null_map")]
    curves: BTreeMap<String, Vec<f64>>,
    #[serde(flatten, with = "nan_as_null_map")]
    schema_1: BTreeMap<String, Vec<f64>>,
}

impl TryFrom<StoredEvalLog> for EvalLog {
    type Error = anyhow::Error;

    fn try_from(s: StoredEvalLog) -> anyhow::Result<EvalLog> {
        let mut schema_1 = s.schema_1;
        let columns = metric::EVALUATION.map(|name| schema_1.remove(name));
        if let Some(unknown) = schema_1.keys().next() {
            anyhow::bail!("an evaluation log holds an unknown field `{unknown}`");
        }
        if columns.iter().all(Option::is_none) {
            return EvalLog::from_curves(s.iteration, s.curves);
        }
        EvalLog::from_schema_1(s.iteration, columns.map(Option::unwrap_or_default), s.curves)
    }
}

/// JSON has no NaN: non-finite values are written as `null` and read back as NaN.
mod nan_as_null_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(m: &BTreeMap<String, Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        let nullable: BTreeMap<&String, Vec<Option<f64>>> = m.iter().map(|(k, v)| (k, v.iter().map(|x| x.is_finite().then_some(*x)).collect())).collect();
        nullable.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
        let m = BTreeMap::<String, Vec<Option<f64>>>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (k, v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{metric, EvalLog};

    #[test]
    fn a_curve_named_late_or_skipped_stays_aligned_with_the_iterations() {
        let mut log = EvalLog::default();
        log.push(0, &[(metric::VAL_LOSS, 2.0)]);
        log.push(10, &[(metric::VAL_LOSS, 1.0), (metric::TRAIN_LOSS, 1.5)]);
        log.push(20, &[(metric::TRAIN_LOSS, 0.5)]);
        assert_eq!(log.iteration, [0, 10, 20]);
        assert_eq!(format!("{:?}", log.val_loss()), "[2.0, 1.0, NaN]");
        assert_eq!(format!("{:?}", log.train_loss()), "[NaN, 1.5, 0.5]");
        assert!(log.test_acc().is_empty(), "never measured");
        assert_eq!(log.early_stop_index(), Some(1));
    }

    #[test]
    fn json_of_schema_1_reads_with_its_placeholder_columns_dropped() {
        // A game's stage as run folders held it before schema 2: NaN (null) accuracies.
        let old = r#"{"iteration":[0,5],"train_loss":[null,0.5],"val_loss":[null,null],"val_acc":[null,null],
            "test_loss":[null,null],"test_acc":[null,null],"curves":{"reward":[null,12.0]}}"#;
        let log: EvalLog = serde_json::from_str(old).unwrap();
        assert_eq!(log.curves().map(|(n, _)| n).collect::<Vec<_>>(), ["reward", "train_loss"]);
        assert_eq!(log.last("reward"), Some(12.0));
        let again: EvalLog = serde_json::from_str(&serde_json::to_string(&log).unwrap()).unwrap();
        assert_eq!(again, log, "schema 2 JSON round-trips");
        assert!(serde_json::to_string(&log).unwrap().starts_with(r#"{"iteration":[0,5],"curves":{"#));
    }

    #[test]
    fn a_curve_of_the_wrong_length_is_refused_by_name() {
        let e = EvalLog::from_curves(vec![0, 1], [(metric::TEST_ACC, vec![0.5])]).unwrap_err();
        assert_eq!(e.to_string(), "curve test_acc has 1 values for 2 evaluations");
    }

    #[test]
    fn an_unmeasured_curve_equals_an_absent_one() {
        let with_nan = EvalLog::from_curves(vec![0], [(metric::TRAIN_LOSS, vec![f64::NAN]), (metric::TEST_ACC, vec![0.5])]).unwrap();
        let without = EvalLog::from_curves(vec![0], [(metric::TEST_ACC, vec![0.5])]).unwrap();
        assert_eq!(with_nan, without);
        assert_ne!(without, EvalLog::from_curves(vec![0], [(metric::TEST_ACC, vec![0.25])]).unwrap());
    }
}
