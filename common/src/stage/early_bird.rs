//! Early-bird tickets (You et al. 2020): channel pruning by batch-norm scale during training.
//!
//! `early-bird-search` trains the dense network from θ_0 (the replicate's draw and data order,
//! like the trunk) with network slimming's L1 penalty on every batch-norm scale
//! ([`SlimmingPenalty`], `penalty` = s). At the start of every epoch `e` (after `e` epochs of
//! training; `e = E` is the end of training) it records |γ| of every channel, runs one
//! [`EarlyBird`] detector per pruning ratio (`ratios`, `window`, `epsilon`), and saves the
//! weights at the epochs some `channel-ticket` branch draws from and where a detector first
//! fires. Its record's metrics: `bn_scale` (|γ| at each epoch start, `(E + 1) × C` row-major,
//! channel layers in forward order), `bn_channels` (channels per layer), `ratios`,
//! `early_bird_epoch` (per ratio, NaN where none was found), `epoch_iterations`, `flops` (one
//! example's forward pass) and `train_flops`.
//!
//! `channel-ticket` draws a ticket from the search of its replicate: the weights at epoch
//! `epoch` (a number, or `"early-bird"`: the search's detection at `ratio`), the channels of
//! [`ChannelMask::global`] at `ratio` (every layer keeping at least one), removed physically
//! ([`crate::channels::prune`]), and trains the smaller network with the same penalty (the
//! authors' retraining scripts keep `--sparsity-regularization`) as `retrain` says:
//! `continue` from its weights on the schedule's remaining epochs `e … E` (You et al.'s "EB
//! Train": the search's first `e` epochs and these make one schedule), `fine-tune` from its
//! weights on the whole schedule again (network slimming's train → prune → retrain), or
//! `scratch`: new weights for the pruned architecture, the whole schedule (the authors'
//! "re-init" control). Its mask is the removal stated on the dense network's weights (what
//! its density counts); its metrics: `draw_epoch`, `ratio`, `channels` (kept per layer),
//! `flops` (the pruned network's forward pass), `train_flops` (three forward passes per
//! training example seen: forward and backward) and `first_iteration`.

use super::{Kind, Params, StageCx, Start};
use crate::channels::{self, ChannelMask, EarlyBird, SlimmingPenalty};
use crate::config::{BranchConfig, BranchKind, ExperimentConfig};
use crate::imp::{self, JobId, Stage};
use crate::models::{Model, ModelConfig};
use crate::paths;
use crate::prune::Mask;
use crate::train::hooks::{Control, Hook};
use crate::train::optim::Optimizer;
use crate::train::{checkpoint, EvalLog, TrainOutcome};
use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tch::Tensor;

pub struct Search;
pub struct ChannelTicket;

/// The search's parameters (the authors' values by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchParams {
    /// s of the L1 penalty on batch-norm scales.
    pub penalty: f64,
    /// Pruning ratios with a detector each.
    pub ratios: Vec<f64>,
    /// Masks compared by a detector (the newest and the `window − 1` before it).
    pub window: u32,
    /// The largest mask distance a detector accepts.
    pub epsilon: f64,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams { penalty: 1e-4, ratios: vec![0.3, 0.5, 0.7], window: 5, epsilon: 0.1 }
    }
}

/// The epoch a ticket is drawn at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Draw {
    /// After this many epochs of the search.
    Epoch(u64),
    /// Where the search's detector at the ticket's ratio first fired.
    Named(Detected),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detected {
    EarlyBird,
}

/// How a drawn ticket trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Retraining {
    /// From its weights, on the schedule's remaining epochs (EB Train).
    Continue,
    /// From its weights, on the whole schedule again (network slimming).
    FineTune,
    /// From new weights, on the whole schedule (the re-init control).
    Scratch,
}

/// A ticket's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketParams {
    pub ratio: f64,
    pub epoch: Draw,
    pub retrain: Retraining,
}

impl Default for TicketParams {
    fn default() -> Self {
        TicketParams { ratio: 0.5, epoch: Draw::Named(Detected::EarlyBird), retrain: Retraining::Continue }
    }
}

impl TicketParams {
    /// The canonical params of a ticket.
    pub fn params(ratio: f64, epoch: Draw, retrain: Retraining) -> Params {
        canonical(&TicketParams { ratio, epoch, retrain })
    }

    /// The parameters of a `channel-ticket` branch.
    pub fn of(branch: &BranchConfig) -> Result<TicketParams> {
        parse(&branch.params)
    }
}

impl SearchParams {
    /// These parameters as a branch states them (defaults left out).
    pub fn params(&self) -> Params {
        canonical(self)
    }

    /// The parameters of an `early-bird-search` branch.
    pub fn of(branch: &BranchConfig) -> Result<SearchParams> {
        parse(&branch.params)
    }
}

/// `p` as a table with every value at its default left out.
fn canonical<T: Serialize + Default>(p: &T) -> Params {
    let to_map = |v: &T| match serde_json::to_value(v).expect("params serialise") {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("params are structs"),
    };
    let default = to_map(&T::default());
    to_map(p).into_iter().filter(|(k, v)| default.get(k) != Some(v)).collect()
}

fn parse<T: DeserializeOwned>(params: &Params) -> Result<T> {
    Ok(super::from_params(params)?)
}

/// The kind names (stage folders, HDF5 groups, config values).
pub const SEARCH: &str = "early-bird-search";
pub const TICKET: &str = "channel-ticket";

/// The config's one search branch.
fn search_branch(cfg: &ExperimentConfig) -> Result<&BranchConfig> {
    let mut found = cfg.branches.iter().filter(|b| b.kind.as_str() == SEARCH);
    match (found.next(), found.next()) {
        (Some(b), None) => Ok(b),
        (None, _) => bail!("a {TICKET} branch draws from the experiment's {SEARCH} branch; add one (levels = [0])"),
        _ => bail!("the experiment has more than one {SEARCH} branch; keep one, its tickets draw from it"),
    }
}

/// The search stage of `replicate`.
fn search_job(replicate: u32, kind: BranchKind) -> JobId {
    JobId { replicate, level: 0, stage: Stage::Branch(kind, 0) }
}

/// Weights saved at the start of epoch `e` in a search's folder.
fn weights_at(dir: &Path, e: u64) -> PathBuf {
    dir.join(format!("epoch-{e}.safetensors"))
}

/// |γ| recorded at the start of epoch `e` in a search's folder (written after the weights).
fn scales_at(dir: &Path, e: u64) -> PathBuf {
    dir.join(format!("bn-scale-epoch-{e}.safetensors"))
}

fn only_level_zero(branch: &BranchConfig) -> Result<()> {
    if branch.levels != [0] {
        bail!("branch {} trains the dense network's channels: set levels = [0]", branch.kind);
    }
    Ok(())
}

impl Kind for Search {
    fn name(&self) -> &'static str {
        SEARCH
    }

    fn params(&self, params: &Params) -> Result<Params> {
        let p: SearchParams = parse(params)?;
        if !(p.penalty >= 0.0 && p.penalty.is_finite()) {
            bail!("penalty = {} must be a finite number ≥ 0 (You et al.: 1e-4)", p.penalty);
        }
        if p.ratios.is_empty() || p.ratios.iter().any(|r| !(0.0..1.0).contains(r) || *r == 0.0) {
            bail!("ratios = {:?}: give one or more pruning ratios strictly between 0 and 1 (You et al.: [0.3, 0.5, 0.7])", p.ratios);
        }
        if !(2..=1_000).contains(&p.window) {
            bail!("window = {}: compare 2 to 1,000 masks (You et al.: 5)", p.window);
        }
        if !(0.0..=1.0).contains(&p.epsilon) {
            bail!("epsilon = {}: a mask distance lies in [0, 1] (You et al.: 0.1)", p.epsilon);
        }
        Ok(canonical(&p))
    }

    /// θ_0 needs no other stage.
    fn parents(&self, _job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        vec![]
    }

    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        false
    }

    fn first_iteration(&self, _job: JobId, _cfg: &ExperimentConfig) -> u64 {
        0
    }

    fn validate(&self, branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        only_level_zero(branch)?;
        channels::check_supported(&cfg.model.arch).with_context(|| format!("branch {}", branch.kind))?;
        Ok(())
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let model = cx.fresh_model(cx.init_seed())?;
        let mask = Mask::dense(&model);
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let p: SearchParams = cx.params()?;
        let per_epoch = epoch_iterations(cx, start)?;
        let iterations = start.train.iterations;
        // The epochs some ticket draws at (the detected ones are saved as they are found).
        let drawn: BTreeSet<u64> = cx
            .config()
            .branches
            .iter()
            .filter(|b| b.kind.as_str() == TICKET)
            .filter_map(|b| match parse::<TicketParams>(&b.params).ok()?.epoch {
                Draw::Epoch(e) => Some(e),
                Draw::Named(_) => None,
            })
            .collect();
        let detectors = p.ratios.iter().map(|&r| EarlyBird::new(r, p.window as usize, p.epsilon)).collect();
        let mut recorder = EpochStarts { dir: cx.dir, per_epoch, drawn, detectors, found: vec![None; p.ratios.len()], replayed: false };
        let mut penalty = SlimmingPenalty::new(p.penalty);
        let outcome = cx.train_with(start, self.data_seed(cx), None, 0, vec![&mut penalty, &mut recorder])?;
        // The end of training is the last row (an epoch start no step follows).
        let last = iterations.div_ceil(per_epoch);
        if outcome.status == crate::train::Status::Completed {
            recorder.record(&start.model, last, false)?;
        }
        let rows: Vec<u64> = (0..=last).take_while(|&e| scales_at(cx.dir, e).exists()).collect();
        let mut scales = Vec::new();
        for &e in &rows {
            scales.extend(Vec::<f32>::try_from(&checkpoint::load_weights(&scales_at(cx.dir, e))?["bn_scale"])?.into_iter().map(f64::from));
        }
        let flops = channels::forward_flops(&start.model.config.arch, start.model.shape, start.model.classes)? as f64;
        let m = &mut start.metrics;
        m.insert("bn_scale".into(), scales);
        m.insert("bn_channels".into(), channels::bn_scales(&start.model)?.iter().map(|l| l.len() as f64).collect());
        m.insert("ratios".into(), p.ratios.clone());
        m.insert("early_bird_epoch".into(), recorder.found.iter().map(|f| f.map_or(f64::NAN, |e| e as f64)).collect());
        m.insert("epoch_iterations".into(), vec![per_epoch as f64]);
        m.insert("flops".into(), vec![flops]);
        m.insert("train_flops".into(), vec![training_flops(flops, start.train.batch_size, iterations)]);
        Ok(outcome)
    }
}

/// FLOPs of `steps` training steps of batch `batch` of a network whose forward pass costs
/// `flops` per example: forward and backward, three forward passes.
pub fn training_flops(flops: f64, batch: i64, steps: u64) -> f64 {
    3.0 * flops * batch as f64 * steps as f64
}

/// Iterations per epoch, as the training loop counts them (whole batches of the training split).
fn epoch_iterations(cx: &StageCx, start: &Start) -> Result<u64> {
    let per_epoch = cx.exp.data.train.len() as u64 / start.train.batch_size as u64;
    if per_epoch == 0 {
        bail!("the batch size {} is larger than the training split; choose a smaller one", start.train.batch_size);
    }
    Ok(per_epoch)
}

/// The search's hook: at each epoch start, records |γ|, feeds the detectors and saves the
/// weights that tickets draw from. A resumed search replays the detectors over the epochs it
/// recorded before.
struct EpochStarts<'a> {
    dir: &'a Path,
    per_epoch: u64,
    drawn: BTreeSet<u64>,
    detectors: Vec<EarlyBird>,
    /// Per detector, the epoch it first fired at.
    found: Vec<Option<u64>>,
    replayed: bool,
}

impl EpochStarts<'_> {
    /// Records epoch start `e` of `model`; `detect`: feed the detectors (every start but the
    /// end of training, as the authors' loop checks at the start of each epoch it trains).
    fn record(&mut self, model: &Model, e: u64, detect: bool) -> Result<()> {
        let scales = channels::bn_scales(model)?;
        let mut save = self.drawn.contains(&e);
        if detect {
            for (d, found) in self.detectors.iter_mut().zip(self.found.iter_mut()) {
                if d.push(&scales) && found.is_none() {
                    *found = Some(e);
                    save = true;
                }
            }
        }
        if save && !weights_at(self.dir, e).exists() {
            checkpoint::save_weights(&weights_at(self.dir, e), &model.snapshot())?;
        }
        let flat = Tensor::from_slice(&scales.concat());
        crate::util::write_tensors(&scales_at(self.dir, e), &[("bn_scale".into(), flat)])
    }

    /// Feeds the detectors the epochs recorded before `e` (a resumed run), split into layers
    /// of `sizes` channels.
    fn replay(&mut self, e: u64, sizes: &[usize]) -> Result<()> {
        for past in 0..e {
            let file = checkpoint::load_weights(&scales_at(self.dir, past)).with_context(|| format!("resuming the search: the scales of epoch {past}"))?;
            let flat = Vec::<f32>::try_from(&file["bn_scale"])?;
            let mut rest = flat.as_slice();
            let scales: Vec<Vec<f32>> = sizes
                .iter()
                .map(|&n| {
                    let (layer, tail) = rest.split_at(n.min(rest.len()));
                    rest = tail;
                    layer.to_vec()
                })
                .collect();
            for (d, found) in self.detectors.iter_mut().zip(self.found.iter_mut()) {
                if d.push(&scales) && found.is_none() {
                    *found = Some(past);
                }
            }
        }
        Ok(())
    }
}

impl Hook for EpochStarts<'_> {
    fn at(&mut self, model: &Model, _opt: &Optimizer, t: u64, _log: &EvalLog) -> Result<Control> {
        if !self.replayed {
            self.replayed = true;
            let sizes: Vec<usize> = channels::bn_scales(model)?.iter().map(Vec::len).collect();
            self.replay(t.div_ceil(self.per_epoch), &sizes)?;
        }
        if t.is_multiple_of(self.per_epoch) {
            self.record(model, t / self.per_epoch, true)?;
        }
        Ok(Control::Continue)
    }
}

impl Kind for ChannelTicket {
    fn name(&self) -> &'static str {
        TICKET
    }

    fn params(&self, params: &Params) -> Result<Params> {
        let p: TicketParams = parse(params)?;
        if !(p.ratio > 0.0 && p.ratio < 1.0) {
            bail!("ratio = {}: a pruning ratio lies strictly between 0 and 1", p.ratio);
        }
        if p.epoch == Draw::Epoch(0) {
            bail!("epoch = 0: at initialisation every batch-norm scale is equal and no channel is above the threshold; draw at epoch 1 or later");
        }
        Ok(canonical(&p))
    }

    /// The search of its replicate.
    fn parents(&self, job: JobId, cfg: &ExperimentConfig) -> Vec<JobId> {
        let kind = search_branch(cfg).map(|b| b.kind).unwrap_or_else(|_| BranchKind::named(SEARCH).expect("built in"));
        vec![search_job(job.replicate, kind)]
    }

    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        false
    }

    fn validate(&self, branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        only_level_zero(branch)?;
        let search: SearchParams = parse(&search_branch(cfg)?.params)?;
        let p: TicketParams = parse(&branch.params)?;
        if p.epoch == Draw::Named(Detected::EarlyBird) && !search.ratios.contains(&p.ratio) {
            bail!(
                "branch {}: an early-bird ticket at ratio {} needs the search to detect at it; add it to the search's ratios {:?}",
                branch.kind,
                p.ratio,
                search.ratios
            );
        }
        Ok(())
    }

    /// The dense network at the drawn epoch, under the removal stated as a weight mask.
    fn start(&self, cx: &StageCx) -> Result<Start> {
        let (model, keep, epoch) = draw(cx)?;
        let p: TicketParams = cx.params()?;
        let mask = channels::element_mask(&model, &keep)?;
        let mut start = Start::new(model, mask, cx.config());
        start.metrics.insert("draw_epoch".into(), vec![epoch as f64]);
        start.metrics.insert("ratio".into(), vec![p.ratio]);
        start.metrics.insert("channels".into(), keep.kept().iter().map(|&c| c as f64).collect());
        Ok(start)
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let p: TicketParams = cx.params()?;
        let search: SearchParams = parse(&search_branch(cx.config())?.params)?;
        // The start holds the drawn epoch's dense weights, not yet masked: the same channels.
        let scales = channels::bn_scales(&start.model)?;
        let keep = ChannelMask::global(&scales, p.ratio).with_every_layer(&scales);
        let epoch = start.metrics["draw_epoch"][0] as u64;
        let per_epoch = epoch_iterations(cx, start)?;
        let iterations = start.train.iterations;
        let mut small = channels::prune(&start.model, &keep)?;
        let first = match p.retrain {
            Retraining::Continue => epoch * per_epoch,
            Retraining::FineTune => 0,
            Retraining::Scratch => {
                let config = ModelConfig { arch: small.config.arch.clone(), init: cx.config().model.init };
                small = Model::new(&config, small.shape, small.classes, cx.copy_seed("channel-ticket-init", cx.job.stage.copy()), small.device())?;
                0
            }
        };
        if first >= iterations {
            bail!("a ticket drawn at epoch {epoch} has no schedule left to continue ({iterations} iterations); retrain it with \"fine-tune\" or \"scratch\"");
        }
        let flops = channels::forward_flops(&small.config.arch, small.shape, small.classes)? as f64;
        let mask = Mask::dense(&small);
        let mut ticket = Start { model: small, mask, train: start.train.clone(), frozen: None, optimizer: None, metrics: Default::default(), data: None };
        let mut penalty = SlimmingPenalty::new(search.penalty);
        let outcome = cx.train_with(&mut ticket, self.data_seed(cx), None, first, vec![&mut penalty])?;
        let m = &mut start.metrics;
        m.insert("flops".into(), vec![flops]);
        m.insert("train_flops".into(), vec![training_flops(flops, start.train.batch_size, iterations - first)]);
        m.insert("first_iteration".into(), vec![first as f64]);
        Ok(outcome)
    }
}

/// The ticket's draw: the search's dense weights at its epoch, the channels kept at its ratio
/// (every layer keeping one), and the epoch.
fn draw(cx: &StageCx) -> Result<(Model, ChannelMask, u64)> {
    let p: TicketParams = cx.params()?;
    let search = search_branch(cx.config())?;
    let dir = cx.exp.stage_dir(search_job(cx.job.replicate, search.kind));
    let record = imp::read_record(&dir.join(paths::OUTCOME))?.context("the search has not finished; train it first")?;
    let epoch = match p.epoch {
        Draw::Epoch(e) => e,
        Draw::Named(Detected::EarlyBird) => {
            let at = record.metrics["ratios"].iter().position(|&r| r == p.ratio).context("the search has no detector at the ticket's ratio")?;
            let found = record.metrics["early_bird_epoch"][at];
            if found.is_nan() {
                bail!("the search found no early-bird ticket at ratio {} within its training; draw this ticket at a fixed epoch", p.ratio);
            }
            found as u64
        }
    };
    let file = weights_at(&dir, epoch);
    if !file.exists() {
        bail!("the search saved no weights at epoch {epoch} (beyond its training, or asked for after it ran); choose an epoch it trained through");
    }
    let mut model = cx.fresh_model(cx.init_seed())?;
    model.restore(&checkpoint::load_weights(&file)?)?;
    let scales = channels::bn_scales(&model)?;
    let keep = ChannelMask::global(&scales, p.ratio).with_every_layer(&scales);
    Ok((model, keep, epoch))
}
