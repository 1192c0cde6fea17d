//! `pretrain` and `rewind-pretrained`: can a pretraining task stand in for the early phase of
//! supervised training? — Frankle, Schwab & Morcos (2020), "The Early Phase of Neural Network
//! Training", §5. Both take params `pretext = "random-labels" | "rotation" | "blur"`
//! ([`crate::data::pretext`]) and `iterations` (P):
//! - `pretrain` (level 0): the dense network trained from θ_0 for P iterations on the task, with
//!   the experiment's optimizer and schedule (the replicate's data order; the task's draws from
//!   purpose `pretext` at (replicate)). Where the task has
//!   another class count (rotation: 4), the network gets an output layer of that size (drawn
//!   with purpose `pretrain-head` at (replicate, 0, 0)), everything else θ_0's. Its final
//!   weights are kept;
//! - `rewind-pretrained` (any pruned level): the level's IMP mask on the pretrained weights
//!   instead of θ_k — the output layer θ_0's where the task replaced it (open_lth's rule) —
//!   trained on the experiment's task from step k with the schedule at step k, exactly as the
//!   ticket rewound to θ_k trains, so only the starting weights differ. (open_lth's pretraining
//!   instead subtracts P from the main budget; here P does not change the main phase, so tasks
//!   of any length compare with the same k.) The experiment needs a `pretrain` branch with the
//!   same params.

use super::{BranchKind, Kind, Params, ParamsId, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::data::pretext::Pretext;
use crate::imp::{JobId, Stage};
use crate::models::{LayerRole, Model};
use crate::paths;
use crate::prune::Mask;
use crate::train::{checkpoint, Weights};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub const PRETRAIN: &str = "pretrain";
pub const REWIND_PRETRAINED: &str = "rewind-pretrained";

/// The task and its length: both kinds' params.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainParams {
    pub pretext: Pretext,
    pub iterations: u64,
}

impl PretrainParams {
    /// The branch params stating this task.
    pub fn params(&self) -> Params {
        super::to_params(self)
    }

    /// The `pretrain` branch kind (with these params' identity) a `rewind-pretrained` reads.
    pub fn pretrain_kind(&self) -> BranchKind {
        BranchKind::PRETRAIN.with_params(ParamsId::of(&self.params()))
    }
}

fn parse(params: &Params) -> Result<PretrainParams> {
    let p: PretrainParams = super::read_params(params, "pretraining", "set pretext = \"random-labels\", \"rotation\" or \"blur\" and iterations (P ≥ 1)")?;
    if p.iterations == 0 {
        bail!("pretraining needs iterations ≥ 1");
    }
    Ok(p)
}

/// The names of the output layer's variables (its weight and bias).
fn output_variables(model: &Model) -> Vec<String> {
    let Some(out) = model.layers().iter().find(|l| l.role == LayerRole::Output) else { return Vec::new() };
    let prefix = out.name.trim_end_matches("weight");
    model.snapshot().into_keys().filter(|k| k.starts_with(prefix)).collect()
}

/// `into`'s variables set from `from`, but those named in `keep` (left as they are).
fn transplant(into: &mut Model, from: &Weights, keep: &[String]) -> Result<()> {
    let mut snap = into.snapshot();
    for (name, value) in snap.iter_mut() {
        if !keep.contains(name) {
            *value = from.get(name).with_context(|| format!("the pretrained weights lack {name}"))?.shallow_clone();
        }
    }
    into.restore(&snap)
}

pub struct Pretrain;

impl Kind for Pretrain {
    fn name(&self) -> &'static str {
        PRETRAIN
    }

    fn params(&self, params: &Params) -> Result<Params> {
        Ok(parse(params)?.params())
    }

    fn validate(&self, branch: &BranchConfig, _cfg: &ExperimentConfig) -> Result<()> {
        parse(&branch.params)?;
        if branch.levels != [0] {
            bail!("a pretrain branch trains the dense network: give it levels = [0]");
        }
        Ok(())
    }

    /// From θ_0: no trunk stage is needed.
    fn parents(&self, _job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        Vec::new()
    }

    fn copies(&self, _asked: u32) -> u32 {
        1
    }

    fn measures_pruning_distance(&self, _job: JobId) -> bool {
        false
    }

    fn keeps_final_weights(&self) -> bool {
        true
    }

    fn first_iteration(&self, _job: JobId, _cfg: &ExperimentConfig) -> u64 {
        0
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let p: PretrainParams = cx.params()?;
        let data = cx.exp.data;
        let theta0 = cx.fresh_model(cx.init_seed())?;
        let classes = p.pretext.classes(data.num_classes);
        let model = if classes == data.num_classes {
            theta0
        } else {
            let mut m = Model::new(&cx.config().model, data.shape, classes, cx.copy_seed("pretrain-head", 0), theta0.device())?;
            let head = output_variables(&m);
            transplant(&mut m, &theta0.snapshot(), &head)?;
            m
        };
        let mask = Mask::dense(&model);
        let mut start = Start::new(model, mask, cx.config());
        start.train.iterations = p.iterations;
        start.data = Some(p.pretext.apply(data, crate::rng::derive_seed(cx.config().seed, "pretext", &[cx.job.replicate as u64]))?);
        Ok(start)
    }
}

pub struct RewindPretrained;

impl Kind for RewindPretrained {
    fn name(&self) -> &'static str {
        REWIND_PRETRAINED
    }

    fn params(&self, params: &Params) -> Result<Params> {
        Ok(parse(params)?.params())
    }

    fn validate(&self, branch: &BranchConfig, cfg: &ExperimentConfig) -> Result<()> {
        let p = parse(&branch.params)?;
        if !cfg.branches.iter().any(|b| b.kind == p.pretrain_kind()) {
            bail!(
                "branch {}: it starts from a pretrain branch with the same params; add one (kind = \"pretrain\", levels = [0], the same pretext and iterations)",
                branch.kind
            );
        }
        if branch.levels.contains(&0) {
            bail!("branch {}: it trains a level's IMP mask; give it pruned levels (≥ 1)", branch.kind);
        }
        Ok(())
    }

    fn parents(&self, job: JobId, cfg: &ExperimentConfig) -> Vec<JobId> {
        let pretrain = match job.stage {
            Stage::Branch(kind, _) => cfg.branches.iter().find(|b| b.kind == kind).and_then(|b| parse(&b.params).ok()).map(|p| p.pretrain_kind()),
            Stage::Main => None,
        };
        let mut parents = vec![job.trunk(job.level)];
        parents.extend(pretrain.map(|kind| JobId { replicate: job.replicate, level: 0, stage: Stage::Branch(kind, 0) }));
        parents
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let p: PretrainParams = cx.params()?;
        let mut model = cx.fresh_model(cx.init_seed())?;
        let dir = cx.exp.stage_dir(JobId { replicate: cx.job.replicate, level: 0, stage: Stage::Branch(p.pretrain_kind(), 0) });
        let pretrained = checkpoint::load_weights(&dir.join(paths::FINAL)).context("the pretraining has not finished; train it first")?;
        let keep = if p.pretext.classes(cx.exp.data.num_classes) == cx.exp.data.num_classes { Vec::new() } else { output_variables(&model) };
        transplant(&mut model, &pretrained, &keep)?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        Ok(Start::new(model, mask, cx.config()))
    }
}
