//! `summary`: per experiment, level and stage kind, the early-stop iteration and test accuracies
//! (mean, min, max over replicates and copies), from the results files only.

use crate::paper::Results;
use anyhow::Result;
use common::imp::StageRecord;
use serde_json::json;

/// `summary --json`: `{experiment: {scale, dataset, dataset_source, trials, iterations, levels:
/// [{level, percent_remaining, kind, samples, diverged, early_stop_iteration,
/// early_stop_test_accuracy, final_test_accuracy}], trained_by: [{git_commit, machine, stages,
/// first_finished_at, last_finished_at}]}}`, each statistic `{mean, min, max}`; `trained_by` has
/// nulls for the stages recorded before they carried their own provenance.
pub fn summary_json<E>(results: &Results<E>) -> Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, l) in results {
        let levels: Vec<serde_json::Value> = l
            .summary()?
            .iter()
            .map(|r| {
                json!({
                    "level": r.level,
                    "percent_remaining": r.percent_remaining,
                    "kind": r.kind.name(),
                    "samples": r.samples,
                    "diverged": r.diverged,
                    "early_stop_iteration": r.early_stop_iteration,
                    "early_stop_test_accuracy": r.early_stop_test_acc,
                    "final_test_accuracy": r.final_test_acc,
                    "final_curves": r.final_curves,
                })
            })
            .collect();
        out.insert(
            (*name).into(),
            json!({
                "scale": l.results.scale,
                "dataset": l.config.dataset.as_str(),
                "dataset_source": l.dataset_line,
                "trials": l.config.replicates,
                "iterations": l.config.train.iterations,
                "levels": levels,
                "trained_by": trained_by(&l.results.records).iter().map(|g| json!({
                    "git_commit": g.key.map(|k| k.0),
                    "machine": g.key.map(|k| k.1),
                    "stages": g.stages,
                    "first_finished_at": g.first,
                    "last_finished_at": g.last,
                })).collect::<Vec<_>>(),
            }),
        );
    }
    Ok(serde_json::Value::Object(out))
}

/// The stages of one build on one machine ([`trained_by`]).
pub struct TrainedGroup<'a> {
    /// (commit, machine); `None` for stages recorded before they carried their own provenance.
    pub key: Option<(&'a str, &'a str)>,
    pub stages: usize,
    /// The earliest and latest finish among them (`None` without provenance).
    pub first: Option<&'a str>,
    pub last: Option<&'a str>,
}

/// The runs that trained `records`, grouped by commit and machine, in order of first finish
/// (the stages without provenance first): what a results file gained from each run.
pub fn trained_by(records: &[StageRecord]) -> Vec<TrainedGroup<'_>> {
    let mut groups: Vec<TrainedGroup> = Vec::new();
    for r in records {
        let key = r.trained.as_ref().map(|t| (t.git_commit.as_str(), t.machine.as_str()));
        let at = r.trained.as_ref().map(|t| t.finished_at.as_str());
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => {
                g.stages += 1;
                g.first = g.first.min(at);
                g.last = g.last.max(at);
            }
            None => groups.push(TrainedGroup { key, stages: 1, first: at, last: at }),
        }
    }
    groups.sort_by_key(|g| g.first);
    groups
}

/// The same numbers as a table for people.
pub fn summary_text<E>(results: &Results<E>) -> Result<String> {
    let mut s = String::new();
    for l in results.values() {
        s += &format!("\n{} — {} (scale {}, {})\n", l.spec.label, l.dataset_line, l.results.scale, crate::trials(l.config.replicates));
        // Branches with parameters are labelled by their hash (open_lth's rule): say what each is.
        for b in l.config.branches.iter().filter(|b| !b.params.is_empty()) {
            s += &format!("  {} = {} {}\n", b.kind, b.kind.as_str(), serde_json::Value::Object(b.params.clone()));
        }
        for g in trained_by(&l.results.records) {
            s += &match g.key {
                Some((commit, machine)) => format!(
                    "  trained: {} stages at {} on {}, finished {} to {}\n",
                    g.stages,
                    commit.chars().take(12).collect::<String>(),
                    machine,
                    g.first.unwrap_or_default(),
                    g.last.unwrap_or_default()
                ),
                None => format!(
                    "  trained: {} stages without their own provenance (by builds before 2026-12-07; the file was last written by {} on {})\n",
                    g.stages,
                    l.results.run.git_commit.chars().take(12).collect::<String>(),
                    l.results.run.device
                ),
            };
        }
        let rows = l.summary()?;
        // A task that logs its own curves (a game's reward) has no accuracies: show the curves'
        // final values instead.
        let curves: Vec<String> = rows.iter().flat_map(|r| r.final_curves.keys().cloned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        if !curves.is_empty() {
            s += &format!(
                "  level    Pm%   kind             n   {}\n",
                curves.iter().map(|c| format!("final {c:<10} (min..max)")).collect::<Vec<_>>().join("   ")
            );
            for r in &rows {
                let cells: Vec<String> = curves
                    .iter()
                    .map(|c| r.final_curves.get(c).map_or(format!("{:>27}", "—"), |v| format!("{:>10.1} ({:>7.1}..{:>7.1})", v.mean, v.min, v.max)))
                    .collect();
                s += &format!("  {:>5} {:>6.1}   {:<15} {:>2}   {}\n", r.level, r.percent_remaining, r.kind.name(), r.samples, cells.join("   "));
            }
            continue;
        }
        s += "  level    Pm%   kind             n   early-stop it (min..max)     test acc @ES (min..max)   final acc\n";
        for r in rows {
            s += &format!(
                "  {:>5} {:>6.1}   {:<15} {:>2}   {:>7.0} ({:>6.0}..{:>6.0})   {:.4} ({:.4}..{:.4})   {:.4}\n",
                r.level,
                r.percent_remaining,
                r.kind.name(),
                r.samples,
                r.early_stop_iteration.mean,
                r.early_stop_iteration.min,
                r.early_stop_iteration.max,
                r.early_stop_test_acc.mean,
                r.early_stop_test_acc.min,
                r.early_stop_test_acc.max,
                r.final_test_acc.mean
            );
        }
    }
    Ok(s)
}
