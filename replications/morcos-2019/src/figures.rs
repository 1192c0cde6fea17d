//! The paper's figures, drawn from the results files alone, and the stages each needs. Each panel
//! is one target setting: test accuracy vs % of weights remaining for the target's own ticket,
//! the transferred tickets, and the random ticket (the own experiment's `random-prune` branch).
//! Numbering is ours: 1, transfer between datasets (the paper's main figures, per target
//! dataset); 2, the controls — dataset size (a ticket from a tenth of the source's data) and
//! same distribution (CIFAR-10a → 10b); 3, transfer between optimizers (SGD ↔ Adam).
//! Accuracy is the final test accuracy of each run (the paper reports the end of training),
//! mean over trials, bars = min..max.

use crate::presets::{self, Exp, Loaded, Net, Results, Role, Setting, FRACTION};
use anyhow::{bail, Result};
use common::aggregate::Stat;
use common::config::{BranchKind, ExperimentConfig};
use common::data::TrainSubset;
use common::imp::{JobId, StageKind};
use common::models::Arch;
use common::plot::{Figure, Panel, Series, Spread, XAxis, TAB10};
use harness::{FigureSpec, Readout, Scale};
use std::sync::LazyLock;

pub const NAMES: [&str; 3] = ["figure-1", "figure-2", "figure-3"];

/// One panel: a target setting, and whose tickets are trained in it (its own and transfers).
pub struct PanelSpec {
    pub net: Net,
    pub title: &'static str,
    pub target: Setting,
    /// The source settings of the transferred tickets drawn.
    pub sources: Vec<Setting>,
}

impl PanelSpec {
    /// The target's own experiment (its random ticket too), then the transfers.
    pub fn experiments(&self) -> Vec<Exp> {
        let own = Exp { net: self.net, role: Role::Own(self.target) };
        std::iter::once(own).chain(self.sources.iter().map(|&source| Exp { net: self.net, role: Role::Transfer { target: self.target, source } })).collect()
    }
}

/// The panels of `figure` at `scale`, per network.
pub fn panels(figure: &str, scale: Scale) -> Vec<PanelSpec> {
    let (nets, a, b, c) = presets::datasets(scale);
    let adam = a.adam();
    nets.iter()
        .flat_map(|&net| {
            let p = |title, target, sources: Vec<Setting>| PanelSpec { net, title, target, sources };
            match figure {
                "figure-1" => {
                    let mut v = vec![p("tickets across datasets", a, std::iter::once(b).chain(c).collect()), p("tickets across datasets", b, vec![a])];
                    v.extend(c.map(|c| p("tickets across datasets", c, vec![a])));
                    v
                }
                "figure-2" => vec![
                    p("dataset size of the source", a, vec![b, b.part(FRACTION)]),
                    p("same distribution (disjoint halves)", a.part(TrainSubset::HalfB), vec![a.part(TrainSubset::HalfA)]),
                ],
                "figure-3" => vec![p("tickets across optimizers", adam, vec![a]), p("tickets across optimizers", a, vec![adam])],
                _ => vec![],
            }
        })
        .collect()
}

pub static FIGURES: LazyLock<Vec<FigureSpec<Exp>>> = LazyLock::new(|| {
    NAMES
        .into_iter()
        .map(|name| {
            let members: Vec<Exp> = Scale::ALL.into_iter().flat_map(|s| panels(name, s)).flat_map(|p| p.experiments()).collect();
            let experiments: Vec<Exp> = presets::ALL.iter().copied().filter(|e| members.contains(e)).collect();
            FigureSpec { name, experiments: Box::leak(experiments.into_boxed_slice()) }
        })
        .collect()
});

/// Whether `figure` draws stage `j` of one of its experiments: every trunk level, and an own
/// experiment's random tickets (the harness adds dependencies and transfer sources).
pub fn needs(_figure: &str, _experiment: Exp, _cfg: &ExperimentConfig, j: &JobId) -> bool {
    match j.stage.kind() {
        StageKind::Main => true,
        StageKind::Branch(kind) => kind == BranchKind::RANDOM_PRUNE,
    }
}

/// Final test accuracy of every sample of `kind` at `level`.
pub fn accuracy(l: &Loaded, level: u32, kind: StageKind) -> Vec<f64> {
    l.accuracies(level, kind, Readout::Final)
}

/// % of prunable weights remaining at `level` (the trunk's record).
pub fn remaining(l: &Loaded, level: u32) -> Option<f64> {
    l.density(level).map(|d| 100.0 * d)
}

/// `(% remaining, accuracy)` per level of `kind`.
pub fn curve(l: &Loaded, kind: StageKind) -> Vec<(f64, Stat)> {
    (0..=l.config.levels).filter_map(|level| Some((remaining(l, level)?, Stat::of(&accuracy(l, level, kind))?))).collect()
}

/// The scale the results were written at.
pub fn scale_of(results: &Results) -> Option<Scale> {
    Scale::named(&results.values().next()?.results.scale)
}

fn panel(results: &Results, spec: &PanelSpec) -> Option<Panel> {
    let mut series = Vec::new();
    let mut random = None;
    for (i, e) in spec.experiments().into_iter().enumerate() {
        let l = results.get(e.name().as_str())?;
        let label = match e.role {
            Role::Own(_) => "own ticket".to_string(),
            Role::Transfer { source, .. } => format!("ticket from {}", source.label()),
        };
        series.push(Series { label, color: TAB10[i % TAB10.len()], dashed: false, spread: Spread::ErrorBars, points: curve(l, StageKind::Main) });
        if matches!(e.role, Role::Own(_)) {
            random = Some(Series {
                label: "random ticket".into(),
                color: TAB10[7],
                dashed: true,
                spread: Spread::ErrorBars,
                points: curve(l, StageKind::Branch(BranchKind::RANDOM_PRUNE)),
            });
        }
    }
    series.extend(random);
    let min = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(100.0, f64::min);
    Some(Panel {
        title: format!("{} on {}: {}", spec.net.label(), spec.target.label(), spec.title),
        x_label: "Percent of weights remaining".into(),
        y_label: "Test accuracy (end of training)".into(),
        x: XAxis::PercentRemaining { min: min.max(0.01), max: 100.0 },
        y_range: None,
        series: series.into_iter().filter(|s| !s.points.is_empty()).collect(),
    })
}

/// `LeNet-300-100`, `VGG-11 (width 8)`.
fn arch_label(arch: &Arch) -> String {
    match arch {
        Arch::Lenet { hidden } => format!("LeNet-{}", hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-")),
        Arch::Vgg { depth, width } if *width == common::models::VGG_WIDTH => format!("VGG-{depth}"),
        Arch::Vgg { depth, width } => format!("VGG-{depth} (width {width})"),
        other => format!("{other:?}"),
    }
}

fn caption(figure: &str, results: &Results, specs: &[PanelSpec]) -> String {
    let figure = harness::figure_label(figure);
    let mut drawn: Vec<&Loaded> = Vec::new();
    for l in specs.iter().flat_map(|p| p.experiments()).filter_map(|e| results.get(e.name().as_str())) {
        if !drawn.iter().any(|d| std::ptr::eq(*d, l)) {
            drawn.push(l);
        }
    }
    if drawn.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!(
        "{figure} {}; final test accuracy, mean over trials, bars = min..max; random ticket = random mask with the level's per-layer counts, fresh weights.",
        harness::provenance_clause(drawn.iter().copied())
    )];
    let mut nets: Vec<Net> = specs.iter().map(|p| p.net).collect();
    nets.dedup();
    for net in nets {
        if let Some(l) = specs.iter().filter(|p| p.net == net).flat_map(|p| p.experiments()).find_map(|e| results.get(e.name().as_str())) {
            let c = &l.config;
            lines.push(format!(
                "{}: {}, {}, {} it, tickets late-reset to k = {}, {} levels",
                net.label(),
                arch_label(&c.model.arch),
                harness::trials(c.replicates),
                c.train.iterations,
                c.rewind_iteration.max(c.transfer.as_ref().map_or(0, |t| t.source.rewind_iteration)),
                c.levels
            ));
        }
    }
    let mut data: Vec<&str> = drawn.iter().map(|l| l.dataset_line.as_str()).collect();
    data.sort_unstable();
    data.dedup();
    lines.extend(data.into_iter().map(|d| format!("data: {d}")));
    lines.join("\n")
}

/// Draws `figure` (the harness checked its stages are present).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let Some(scale) = scale_of(results) else { bail!("{figure}: no results to draw") };
    let specs = panels(figure, scale);
    let panels: Vec<Panel> = specs.iter().filter_map(|p| panel(results, p)).collect();
    if panels.is_empty() {
        bail!("{figure}: no panel has its results at scale {}", scale.as_str());
    }
    let title = match figure {
        "figure-1" => "Figure 1: tickets transferred between datasets (output layer re-initialised)",
        "figure-2" => "Figure 2: controls — the source's dataset size, and two halves of one dataset",
        _ => "Figure 3: tickets transferred between optimizers",
    };
    Ok(Figure { heatmaps: Vec::new(), title: title.into(), caption: caption(figure, results, &specs), panels, columns: 2, panel_size: (700, 480) })
}
