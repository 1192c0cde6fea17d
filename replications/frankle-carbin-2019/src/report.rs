//! The `summary` table and the headline-claims table (paper vs. ours), computed from the results
//! files only.

use crate::figures::Loaded;
use crate::presets::Net;
use anyhow::Result;
use common::aggregate::LevelSummary;
use serde_json::json;
use std::collections::BTreeMap;

fn row<'a>(rows: &'a [LevelSummary], level: u32, kind: &str) -> Option<&'a LevelSummary> {
    rows.iter().find(|r| r.level == level && r.kind == kind)
}

/// `summary --json`: per experiment and Pm level, early-stop iteration and test accuracy at early
/// stop (mean/min/max) of winning tickets (`main`) and reinitialised controls (`reinit`).
pub fn summary_json(loaded: &BTreeMap<Net, Loaded>) -> Result<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (net, l) in loaded {
        let rows = l.summary()?;
        let levels: Vec<serde_json::Value> = rows
            .iter()
            .filter(|r| r.kind == "main" || r.kind == "reinit")
            .map(|r| {
                json!({
                    "level": r.level,
                    "percent_remaining": r.percent_remaining,
                    "kind": if r.kind == "main" { "winning-ticket" } else { "reinit" },
                    "samples": r.samples,
                    "diverged": r.diverged,
                    "early_stop_iteration": r.early_stop_iteration,
                    "early_stop_test_accuracy": r.early_stop_test_acc,
                    "final_test_accuracy": r.final_test_acc,
                })
            })
            .collect();
        out.insert(
            net.name().into(),
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

/// Human-readable summary table.
pub fn summary_text(loaded: &BTreeMap<Net, Loaded>) -> Result<String> {
    let mut s = String::new();
    for (net, l) in loaded {
        s += &format!("\n{} — {} (scale {}, {} trials)\n", net.label(), l.dataset_line, l.results.scale, l.config.replicates);
        s += "  level    Pm%   kind           n   early-stop it (min..max)     test acc @ES (min..max)   final acc\n";
        for r in l.summary()?.iter().filter(|r| r.kind == "main" || r.kind == "reinit") {
            s += &format!(
                "  {:>5} {:>6.1}   {:<13} {:>2}   {:>7.0} ({:>6.0}..{:>6.0})   {:.4} ({:.4}..{:.4})   {:.4}\n",
                r.level, r.percent_remaining, r.kind, r.samples,
                r.early_stop_iteration.mean, r.early_stop_iteration.min, r.early_stop_iteration.max,
                r.early_stop_test_acc.mean, r.early_stop_test_acc.min, r.early_stop_test_acc.max, r.final_test_acc.mean
            );
        }
    }
    Ok(s)
}

fn pp(x: f64) -> String {
    format!("{:+.2} pp", 100.0 * x)
}

/// Markdown table of the paper's headline claims beside our numbers, with the verdict.
pub fn headline_markdown(loaded: &BTreeMap<Net, Loaded>) -> Result<String> {
    let mut lines = vec![
        "| Claim (Frankle & Carbin 2019, v5) | Paper | Ours | Scale / data | Agrees? |".to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    let na = "not measured at this scale";
    if let Some(l) = loaded.get(&Net::Lenet) {
        let rows = l.summary()?;
        let scale = format!("{}, {} trials, {} it, {}", l.results.scale, l.config.replicates, l.config.train.iterations, l.config.dataset.as_str());
        let dense = row(&rows, 0, "main");
        let at = |lv| row(&rows, lv, "main");
        let mut push = |claim: &str, paper: &str, ours: Option<(String, bool)>| {
            let (o, ok) = ours.unwrap_or((na.into(), false));
            let verdict = if o == na { "—" } else if ok { "yes" } else { "**no**" };
            lines.push(format!("| {claim} | {paper} | {o} | {scale} | {verdict} |"));
        };
        push(
            "LeNet: early stop earlier at Pm 21.1 % than dense",
            "38 % earlier",
            dense.zip(at(7)).map(|(d, t)| {
                let e = 1.0 - t.early_stop_iteration.mean / d.early_stop_iteration.mean;
                (format!("{:.0} % earlier ({:.0} vs {:.0} it)", 100.0 * e, t.early_stop_iteration.mean, d.early_stop_iteration.mean), e > 0.0)
            }),
        );
        push(
            "LeNet: ticket vs reinit at Pm 21.1 %, early-stop speed",
            "2.51× faster",
            at(7).zip(row(&rows, 7, "reinit")).map(|(t, r)| {
                let x = r.early_stop_iteration.mean / t.early_stop_iteration.mean;
                (format!("{x:.2}× faster"), x > 1.0)
            }),
        );
        push(
            "LeNet: ticket vs reinit at Pm 21.1 %, test accuracy at early stop",
            "+0.5 pp",
            at(7).zip(row(&rows, 7, "reinit")).map(|(t, r)| {
                let d = t.early_stop_test_acc.mean - r.early_stop_test_acc.mean;
                (pp(d), d > 0.0)
            }),
        );
        push(
            "LeNet: test accuracy gain at Pm 13.5 % over dense",
            "> +0.3 pp",
            dense.zip(at(9)).map(|(d, t)| {
                let g = t.early_stop_test_acc.mean - d.early_stop_test_acc.mean;
                (pp(g), g > 0.0)
            }),
        );
        push(
            "LeNet: back to dense early-stop iteration near Pm 3.6 %",
            "≈ 1.0× dense",
            dense.zip(at(15)).map(|(d, t)| {
                let x = t.early_stop_iteration.mean / d.early_stop_iteration.mean;
                (format!("{x:.2}× dense ({:.0} vs {:.0} it)", t.early_stop_iteration.mean, d.early_stop_iteration.mean), (0.6..=1.6).contains(&x))
            }),
        );
        push(
            "LeNet: back to dense accuracy near Pm 3.6 %",
            "≈ dense",
            dense.zip(at(15)).map(|(d, t)| {
                let g = t.early_stop_test_acc.mean - d.early_stop_test_acc.mean;
                (pp(g), g.abs() < 0.005)
            }),
        );
        push(
            "LeNet: reinit accuracy drops below dense from Pm 21.1 %",
            "drops from 21.1 %",
            dense.zip(row(&rows, 7, "reinit")).map(|(d, r)| {
                let g = r.early_stop_test_acc.mean - d.early_stop_test_acc.mean;
                (format!("{} at 21.1 %", pp(g)), g < 0.0)
            }),
        );
    }
    for (net, paper_speed, paper_acc) in [
        (Net::Conv2, "3.5× (Pm 8.8 %)", "+3.4 pp (Pm 4.6 %)"),
        (Net::Conv4, "3.5× (Pm 9.2 %)", "+3.5 pp (Pm 11.1 %)"),
        (Net::Conv6, "2.5× (Pm 15.1 %)", "+3.3 pp (Pm 26.4 %)"),
    ] {
        let Some(l) = loaded.get(&net) else { continue };
        let rows = l.summary()?;
        let scale = format!("{}, {} trials, {} it, {}", l.results.scale, l.config.replicates, l.config.train.iterations, l.config.dataset.as_str());
        let Some(dense) = row(&rows, 0, "main") else { continue };
        let mains: Vec<&LevelSummary> = rows.iter().filter(|r| r.kind == "main" && r.level > 0).collect();
        let best_speed = mains.iter().map(|r| (dense.early_stop_iteration.mean / r.early_stop_iteration.mean, r.percent_remaining)).max_by(|a, b| a.0.total_cmp(&b.0));
        let best_acc = mains.iter().map(|r| (r.early_stop_test_acc.mean - dense.early_stop_test_acc.mean, r.percent_remaining)).max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((x, pm)) = best_speed {
            lines.push(format!("| {}: best early-stop speed-up | {paper_speed} | {x:.2}× (Pm {pm:.1} %) | {scale} | {} |", net.label(), if x > 1.0 { "yes" } else { "**no**" }));
        }
        if let Some((g, pm)) = best_acc {
            lines.push(format!("| {}: best test-accuracy gain at early stop | {paper_acc} | {} (Pm {pm:.1} %) | {scale} | {} |", net.label(), pp(g), if g > 0.0 { "yes" } else { "**no**" }));
        }
    }
    Ok(lines.join("\n") + "\n")
}
