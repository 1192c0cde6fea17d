//! `summary`: per experiment, level and stage kind, the early-stop iteration and test accuracies
//! (mean, min, max over replicates and copies), from the results files only.

use crate::paper::Results;
use anyhow::Result;
use serde_json::json;

/// `summary --json`: `{experiment: {scale, dataset, dataset_source, trials, iterations, levels:
/// [{level, percent_remaining, kind, samples, diverged, early_stop_iteration,
/// early_stop_test_accuracy, final_test_accuracy}]}}`, each statistic `{mean, min, max}`.
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
            }),
        );
    }
    Ok(serde_json::Value::Object(out))
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
