//! The paper's figures, drawn from the results files alone: the pairwise mask-distance
//! matrices of the search (their README's overlap figure), the accuracy of tickets drawn at
//! each epoch after retraining (their Figure 1), and accuracy against training cost — FLOPs
//! counted and wall time measured — for EB Train against train → prune → retrain (their Table
//! 2's comparison), with the pruned networks' cost per step against the dense one's.

use crate::presets::{curve_epochs, Loaded, Net, Results, CURVE_RATIO, EARLY_BIRD};
use anyhow::{bail, Context, Result};
use common::aggregate::Stat;
use common::channels::ChannelMask;
use common::config::{BranchConfig, ExperimentConfig};
use common::imp::{JobId, Stage, StageKind, StageRecord};
use common::models::Arch;
use common::plot::{Figure, Heatmap, Panel, Series, Spread, XAxis, PALETTE};
use common::stage::early_bird::{Draw, Retraining, SearchParams, TicketParams, SEARCH, TICKET};
use harness::{FigureSpec, Readout};

const BOTH: [Net; 2] = [Net::Vgg, Net::Preresnet101];

pub static FIGURES: [FigureSpec<Net>; 3] = [
    FigureSpec { name: "figure-mask-distance", experiments: &BOTH },
    FigureSpec { name: "figure-1", experiments: &BOTH },
    FigureSpec { name: "figure-cost", experiments: &BOTH },
];

/// Whether `figure` draws stage `j`: the mask distances need the search alone, Figure 1 the
/// fine-tuned tickets at the curve's ratio, the cost figure the trunk and every ratio's three
/// tickets (the harness adds the search they draw from).
pub fn needs(figure: &str, _experiment: Net, cfg: &ExperimentConfig, j: &JobId) -> bool {
    let Stage::Branch(kind, _) = j.stage else { return figure == "figure-cost" || figure == "figure-1" };
    if kind.as_str() == SEARCH {
        return true;
    }
    let Some(p) = cfg.branches.iter().find(|b| b.kind == kind).and_then(|b| TicketParams::of(b).ok()) else { return false };
    match figure {
        "figure-1" => p.ratio == CURVE_RATIO && p.retrain == Retraining::FineTune,
        "figure-cost" => p.retrain != Retraining::FineTune || p.epoch == Draw::Epoch(epochs(cfg)),
        _ => false,
    }
}

/// Whole epochs of the config's schedule (the search records one more row: the end).
fn epochs(cfg: &ExperimentConfig) -> u64 {
    cfg.train.iterations / cfg.train.eval_every
}

/// The search branch and its parameters.
pub fn search_of(cfg: &ExperimentConfig) -> Result<(&BranchConfig, SearchParams)> {
    let b = cfg.branches.iter().find(|b| b.kind.as_str() == SEARCH).context("the experiment has no early-bird search")?;
    Ok((b, SearchParams::of(b)?))
}

/// The stage kind of the ticket `(ratio, epoch, retrain)` in `cfg` (`None` if it has none).
pub fn ticket_kind(cfg: &ExperimentConfig, ratio: f64, epoch: Draw, retrain: Retraining) -> Option<StageKind> {
    cfg.branches
        .iter()
        .filter(|b| b.kind.as_str() == TICKET)
        .find(|b| TicketParams::of(b).is_ok_and(|p| p.ratio == ratio && p.epoch == epoch && p.retrain == retrain))
        .map(|b| StageKind::Branch(b.kind))
}

/// Every replicate's search record.
pub fn searches(l: &Loaded) -> Result<Vec<&StageRecord>> {
    let (b, _) = search_of(&l.config)?;
    Ok(l.records(0, StageKind::Branch(b.kind)).collect())
}

/// A search's |γ| at each epoch start, split by channel layer.
pub fn epoch_scales(search: &StageRecord) -> Result<Vec<Vec<Vec<f32>>>> {
    let flat = search.metrics.get("bn_scale").context("the search recorded no batch-norm scales")?;
    let sizes: Vec<usize> = search.metrics["bn_channels"].iter().map(|&c| c as usize).collect();
    let per_row: usize = sizes.iter().sum();
    Ok(flat
        .chunks(per_row)
        .map(|row| {
            let mut rest = row;
            sizes
                .iter()
                .map(|&n| {
                    let (layer, tail) = rest.split_at(n);
                    rest = tail;
                    layer.iter().map(|&v| v as f32).collect()
                })
                .collect()
        })
        .collect())
}

/// The pairwise distances between the masks of every epoch start at `ratio`.
pub fn distance_matrix(scales: &[Vec<Vec<f32>>], ratio: f64) -> Vec<Vec<f64>> {
    let masks: Vec<ChannelMask> = scales.iter().map(|s| ChannelMask::global(s, ratio)).collect();
    masks.iter().map(|a| masks.iter().map(|b| a.distance(b)).collect()).collect()
}

/// Each replicate's early-bird epoch at `ratio` (NaN where none was found).
pub fn early_bird_epochs(l: &Loaded, ratio: f64) -> Result<Vec<f64>> {
    Ok(searches(l)?
        .iter()
        .filter_map(|s| {
            let at = s.metrics.get("ratios")?.iter().position(|&r| r == ratio)?;
            s.metrics.get("early_bird_epoch").map(|e| e[at])
        })
        .collect())
}

/// Final test accuracies of a ticket over replicates.
pub fn ticket_accuracies(l: &Loaded, ratio: f64, epoch: Draw, retrain: Retraining) -> Vec<f64> {
    ticket_kind(&l.config, ratio, epoch, retrain).map(|k| l.accuracies(0, k, Readout::Final)).unwrap_or_default()
}

/// What one pipeline costs, per replicate, relative to one dense training: (FLOPs, wall time).
/// EB Train (`continue`): the search's first `e` epochs and the ticket's rest; EB re-init
/// (`scratch`): the search's first `e` epochs and the ticket's whole schedule; train → prune
/// → retrain (a last-epoch ticket fine-tuned): the whole search and the ticket's schedule.
pub fn relative_costs(l: &Loaded, ratio: f64, epoch: Draw, retrain: Retraining) -> Result<Vec<(f64, f64)>> {
    let Some(kind) = ticket_kind(&l.config, ratio, epoch, retrain) else { return Ok(vec![]) };
    let dense: Vec<&StageRecord> = l.records(0, StageKind::Main).collect();
    let mut out = Vec::new();
    for search in searches(l)? {
        let r = search.replicate;
        let (Some(ticket), Some(trunk)) = (l.records(0, kind).find(|t| t.replicate == r), dense.iter().find(|t| t.replicate == r)) else { continue };
        let total = l.config.train.iterations as f64;
        let searched = ticket.metrics["draw_epoch"][0] * l.config.train.eval_every as f64 / total;
        let dense_flops = search.metrics["train_flops"][0];
        let flops = searched * dense_flops + ticket.metrics["train_flops"][0];
        let wall = searched * search.outcome.wall_s + ticket.outcome.wall_s;
        out.push((flops / dense_flops, wall / trunk.outcome.wall_s));
    }
    Ok(out)
}

/// Seconds per training step of a stage (evaluations included).
fn seconds_per_step(r: &StageRecord, first: f64) -> f64 {
    r.outcome.wall_s / (r.outcome.log.iteration.last().copied().unwrap_or(0) as f64 - first).max(1.0)
}

/// Per replicate, (FLOPs per example, seconds per step) of the ticket relative to the search.
pub fn step_costs(l: &Loaded, ratio: f64, epoch: Draw, retrain: Retraining) -> Result<Vec<(f64, f64)>> {
    let Some(kind) = ticket_kind(&l.config, ratio, epoch, retrain) else { return Ok(vec![]) };
    Ok(searches(l)?
        .iter()
        .filter_map(|s| {
            let t = l.records(0, kind).find(|t| t.replicate == s.replicate)?;
            let flops = t.metrics["flops"][0] / s.metrics["flops"][0];
            Some((flops, seconds_per_step(t, t.metrics["first_iteration"][0]) / seconds_per_step(s, 0.0)))
        })
        .collect())
}

/// The caption of `figure` drawn from `drawn` (one line per network).
fn caption(figure: &str, drawn: &[&Loaded], note: &str) -> String {
    let networks = drawn.iter().map(|l| {
        let trials = match l.config.replicates {
            1 => "1 trial".to_string(),
            n => format!("{n} trials"),
        };
        format!("{}, {trials}, {} epochs of {} iterations, {}", network(&l.config.model.arch), epochs(&l.config), l.config.train.eval_every, l.dataset_line)
    });
    format!("{figure} {}; {note}\n{}", harness::provenance_clause(drawn.iter().copied()), networks.collect::<Vec<_>>().join("\n"))
}

/// `VGG-16`, `VGG-11 (width 8)`, `PreResNet-101`, `PreResNet-11 (width 2)`.
pub fn network(arch: &Arch) -> String {
    match arch {
        Arch::Vgg { depth, width } if *width == common::models::VGG_WIDTH => format!("VGG-{depth}"),
        Arch::Vgg { depth, width } => format!("VGG-{depth} (width {width})"),
        Arch::Preresnet { depth, width: 16 } => format!("PreResNet-{depth}"),
        Arch::Preresnet { depth, width } => format!("PreResNet-{depth} (width {width})"),
        other => format!("{other:?}"),
    }
}

/// Draws `figure` from the results (the harness checked they hold every stage it needs): the
/// figures of each network with results (VGG, then PreResNet-101).
pub fn draw(figure: &str, results: &Results) -> Result<Figure> {
    let drawn: Vec<&Loaded> = crate::presets::EXPERIMENTS.iter().filter_map(|e| results.get(e.name)).collect();
    if drawn.is_empty() {
        bail!("the figures need the vgg or preresnet-101 results");
    }
    match figure {
        "figure-mask-distance" => mask_distance(&drawn),
        "figure-1" => figure1(&drawn),
        "figure-cost" => cost(&drawn),
        other => bail!("no figure `{other}`"),
    }
}

/// `title`, prefixed with the network where a figure draws several.
fn titled(title: String, l: &Loaded, several: bool) -> String {
    if several {
        format!("{}, {title}", network(&l.config.model.arch))
    } else {
        title
    }
}

fn point(v: f64) -> Stat {
    Stat { mean: v, min: v, max: v }
}

/// Per network (VGG's before PreResNet-101's, as the paper stacks them), the mask-distance
/// matrices of replicate 0's search, one per ratio (early bird marked in the title), and each
/// ratio's distance between consecutive epochs' masks.
fn mask_distance(drawn: &[&Loaded]) -> Result<Figure> {
    let several = drawn.len() > 1;
    let mut heatmaps = Vec::new();
    let mut panels = Vec::new();
    let mut detector = String::new();
    for l in drawn {
        let (_, params) = search_of(&l.config)?;
        let search = *searches(l)?.first().context("no search recorded")?;
        let scales = epoch_scales(search)?;
        let found = &search.metrics["early_bird_epoch"];
        let mut steps = Vec::new();
        for (i, &ratio) in params.ratios.iter().enumerate() {
            let matrix = distance_matrix(&scales, ratio);
            let eb = if found[i].is_nan() { "no early bird".to_string() } else { format!("early bird at epoch {}", found[i]) };
            let title = titled(format!("p = {ratio}: {eb}"), l, several);
            heatmaps.push(Heatmap { title, x_label: "Epoch".into(), y_label: "Epoch".into(), values: matrix.clone() });
            let points = (1..matrix.len()).map(|e| (e as f64, point(matrix[e][e - 1]))).collect();
            steps.push(Series { label: format!("p = {ratio}"), color: PALETTE[i % PALETTE.len()], dashed: false, spread: Spread::None, points });
        }
        let rows = scales.len() as f64;
        steps.push(Series::horizontal(&format!("ε = {}", params.epsilon), PALETTE[5], (0.0, rows - 1.0), params.epsilon));
        panels.push(Panel {
            title: titled("Mask distance to the previous epoch's".into(), l, several),
            x_label: "Epoch".into(),
            y_label: "Normalised Hamming distance".into(),
            x: XAxis::Linear { min: 0.0, max: rows - 1.0 },
            y_range: Some((0.0, 1.0)),
            series: steps,
        });
        detector = format!("window {}, ε = {}", params.window, params.epsilon);
    }
    Ok(Figure {
        title: "Mask distance between the channel masks of every two epochs (0: equal, 1: complements)".into(),
        caption: caption("mask-distance figure", drawn, &format!("replicate 0's search; a mask at each epoch start (epoch E = the end); {detector}")),
        panels,
        heatmaps,
        columns: 2,
        panel_size: (560, 480),
    })
}

/// Figure 1: per network, test accuracy of tickets drawn at each epoch and fine-tuned, at the
/// curve's ratio, the early bird at its mean epoch; the unpruned network's as a line.
fn figure1(drawn: &[&Loaded]) -> Result<Figure> {
    let panels = drawn.iter().map(|l| figure1_panel(l)).collect::<Result<Vec<_>>>()?;
    Ok(Figure {
        title: "Figure 1: retraining accuracy of tickets drawn at each epoch".into(),
        caption: caption("Figure 1", drawn, "mean of trials, bars = min..max; every ticket fine-tuned on the whole schedule"),
        columns: panels.len(),
        panels,
        heatmaps: Vec::new(),
        panel_size: (720, 480),
    })
}

fn figure1_panel(l: &Loaded) -> Result<Panel> {
    let scale = harness::Scale::named(&l.results.scale).context("a known scale")?;
    let mut curve: Vec<(f64, Stat)> = curve_epochs(scale)
        .into_iter()
        .filter_map(|e| Stat::of(&ticket_accuracies(l, CURVE_RATIO, Draw::Epoch(e), Retraining::FineTune)).map(|s| (e as f64, s)))
        .collect();
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    let eb_epoch = Stat::mean_of(&early_bird_epochs(l, CURVE_RATIO)?.into_iter().filter(|e| e.is_finite()).collect::<Vec<_>>());
    let eb = Stat::of(&ticket_accuracies(l, CURVE_RATIO, EARLY_BIRD, Retraining::FineTune));
    let last = epochs(&l.config) as f64;
    let mut series = vec![Series {
        label: format!("drawn at epoch e, fine-tuned (p = {CURVE_RATIO})"),
        color: PALETTE[0],
        dashed: false,
        spread: Spread::ErrorBars,
        points: curve,
    }];
    if let (Some(e), Some(acc)) = (eb_epoch, eb) {
        series.push(Series {
            label: format!("early bird (mean epoch {e:.1})"),
            color: PALETTE[3],
            dashed: false,
            spread: Spread::ErrorBars,
            points: vec![(e, acc)],
        });
    }
    if let Some(dense) = Stat::mean_of(&l.accuracies(0, StageKind::Main, Readout::Final)) {
        series.push(Series::horizontal("unpruned network", PALETTE[5], (0.0, last), dense));
    }
    Ok(Panel {
        title: format!("{} on {}: p = {CURVE_RATIO}", network(&l.config.model.arch), l.config.dataset.as_str()),
        x_label: "Epoch the ticket is drawn at".into(),
        y_label: "Test accuracy after retraining".into(),
        x: XAxis::Linear { min: 0.0, max: last },
        y_range: None,
        series,
    })
}

/// The three pipelines of Table 2, each a line through the ratios.
const PIPELINES: [(&str, Retraining, bool); 3] =
    [("EB Train", Retraining::Continue, true), ("EB Train (re-init)", Retraining::Scratch, true), ("train → prune → retrain", Retraining::FineTune, false)];

/// Per network, accuracy against training FLOPs and against wall time (both relative to one
/// dense training), and each ratio's cost per step against the dense network's.
fn cost(drawn: &[&Loaded]) -> Result<Figure> {
    let mut panels = Vec::new();
    for l in drawn {
        panels.extend(cost_panels(l, drawn.len() > 1)?);
    }
    Ok(Figure {
        title: "Table 2 as a figure: accuracy against training cost, EB Train vs train → prune → retrain".into(),
        caption: caption(
            "Table 2",
            drawn,
            "mean of trials, bars = min..max; FLOPs counted as the authors' compute_flops.py (training = 3 forward passes); wall time measured on this machine",
        ),
        panels,
        heatmaps: Vec::new(),
        columns: 3,
        panel_size: (560, 440),
    })
}

fn cost_panels(l: &Loaded, several: bool) -> Result<Vec<Panel>> {
    let (_, params) = search_of(&l.config)?;
    let last = Draw::Epoch(epochs(&l.config));
    let mut by_flops = Vec::new();
    let mut by_wall = Vec::new();
    for (i, &(label, retrain, early)) in PIPELINES.iter().enumerate() {
        let epoch = if early { EARLY_BIRD } else { last };
        let (mut f, mut w) = (Vec::new(), Vec::new());
        for &p in &params.ratios {
            let costs = relative_costs(l, p, epoch, retrain)?;
            let Some(acc) = Stat::of(&ticket_accuracies(l, p, epoch, retrain)) else { continue };
            if let (Some(fl), Some(wa)) =
                (Stat::mean_of(&costs.iter().map(|c| c.0).collect::<Vec<_>>()), Stat::mean_of(&costs.iter().map(|c| c.1).collect::<Vec<_>>()))
            {
                f.push((fl, acc));
                w.push((wa, acc));
            }
        }
        let ratios = params.ratios.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ");
        by_flops.push(Series { label: format!("{label} (p = {ratios})"), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points: f });
        by_wall.push(Series { label: label.into(), color: PALETTE[i], dashed: false, spread: Spread::ErrorBars, points: w });
    }
    if let Some(dense) = Stat::of(&l.accuracies(0, StageKind::Main, Readout::Final)) {
        by_flops.push(Series { label: "unpruned network".into(), color: PALETTE[5], dashed: false, spread: Spread::ErrorBars, points: vec![(1.0, dense)] });
        by_wall.push(Series { label: "unpruned network".into(), color: PALETTE[5], dashed: false, spread: Spread::ErrorBars, points: vec![(1.0, dense)] });
    }
    let mut per_step = vec![
        Series { label: "FLOPs per example".into(), color: PALETTE[0], dashed: false, spread: Spread::ErrorBars, points: vec![] },
        Series { label: "measured seconds per step".into(), color: PALETTE[1], dashed: false, spread: Spread::ErrorBars, points: vec![] },
    ];
    for &p in &params.ratios {
        let c = step_costs(l, p, last, Retraining::FineTune)?;
        for (s, pick) in per_step.iter_mut().zip([|c: &(f64, f64)| c.0, |c: &(f64, f64)| c.1]) {
            if let Some(stat) = Stat::of(&c.iter().map(pick).collect::<Vec<_>>()) {
                s.points.push((p, stat));
            }
        }
    }
    per_step.push(Series::horizontal("dense", PALETTE[5], (0.0, 1.0), 1.0));
    let axis = |series: &[Series]| {
        let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let hi = xs.fold(1.0f64, f64::max);
        XAxis::Linear { min: 0.0, max: hi * 1.1 }
    };
    Ok(vec![
        Panel {
            title: titled("Accuracy vs training FLOPs".into(), l, several),
            x_label: "Training FLOPs (one dense training = 1)".into(),
            y_label: "Test accuracy (end of training)".into(),
            x: axis(&by_flops),
            y_range: None,
            series: by_flops,
        },
        Panel {
            title: titled("Accuracy vs measured wall time".into(), l, several),
            x_label: "Wall time (one dense training = 1)".into(),
            y_label: "Test accuracy (end of training)".into(),
            x: axis(&by_wall),
            y_range: None,
            series: by_wall,
        },
        Panel {
            title: titled("Cost of the pruned network per step".into(), l, several),
            x_label: "Pruning ratio p (of channels)".into(),
            y_label: "Relative to the dense network".into(),
            x: XAxis::Linear { min: 0.0, max: 1.0 },
            y_range: Some((0.0, 1.1)),
            series: per_step,
        },
    ])
}
