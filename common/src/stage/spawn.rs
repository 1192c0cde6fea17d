//! Spawned pairs for instability analysis (Frankle et al. 2020): copies pair up — (0, 1),
//! (2, 3), … — each trained from the same start with its own data order and augmentation
//! (purpose `spawn-data-order` at (replicate, level, copy), the same for every spawned kind);
//! the second of a pair depends on the first and records the error along the straight line
//! between them ([`crate::interpolate`], as the branch's parameters say: [`Interpolation`],
//! the paper's 30 points on the whole data by default, which leaves the folder name bare).
//!
//! - `spawn`: the level's mask and θ_k;
//! - `spawn-reinit`: pair p starts as `reinit_p` (the level's mask, new weights);
//! - `spawn-random-prune`: pair p starts as `random-prune_p` (a random mask, new weights).

use super::random_prune::RandomPrune;
use super::reinit::Reinit;
use super::{Kind, Params, StageCx, Start};
use crate::config::{BranchConfig, ExperimentConfig};
use crate::imp::{JobId, Stage};
use crate::interpolate::{Interpolation, PairRecord};
use crate::models::Model;
use crate::paths;
use crate::rng::derive_seed;
use crate::train::checkpoint;
use anyhow::Result;

/// What a pair starts from.
#[derive(Clone, Copy)]
enum From {
    /// The level's ticket: its mask on θ_k.
    Ticket,
    /// The start of the same-numbered `reinit` copy.
    Reinit,
    /// The start of the same-numbered `random-prune` copy.
    RandomPrune,
}

pub struct Spawn {
    name: &'static str,
    from: From,
}

pub const SPAWN: Spawn = Spawn { name: "spawn", from: From::Ticket };
pub const SPAWN_REINIT: Spawn = Spawn { name: "spawn-reinit", from: From::Reinit };
pub const SPAWN_RANDOM_PRUNE: Spawn = Spawn { name: "spawn-random-prune", from: From::RandomPrune };

fn parse(params: &Params) -> Result<Interpolation> {
    let usage = "use points (2 to 1000), train_examples, recompute_batch_norm, or none for the paper's interpolation";
    let how: Interpolation = super::read_params(params, "spawned pairs'", usage)?;
    how.check()?;
    Ok(how)
}

impl Kind for Spawn {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Canonical: the interpolation's settings that differ from the paper's.
    fn params(&self, params: &Params) -> Result<Params> {
        Ok(super::to_params(&parse(params)?))
    }

    fn validate(&self, branch: &BranchConfig, _cfg: &ExperimentConfig) -> Result<()> {
        parse(&branch.params).map(|_| ())
    }

    /// The second copy of a pair compares itself with the first.
    fn parents(&self, job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        match job.stage {
            Stage::Branch(kind, c) if c % 2 == 1 => vec![job.trunk(job.level), JobId { stage: Stage::Branch(kind, c - 1), ..job }],
            _ => vec![job.trunk(job.level)],
        }
    }

    fn keeps_final_weights(&self) -> bool {
        true
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let pair = cx.job.stage.copy() / 2;
        match self.from {
            From::Ticket => {
                let mut model = cx.fresh_model(cx.init_seed())?;
                model.restore(&cx.exp.rewind_weights(cx.job.replicate)?)?;
                let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
                Ok(Start::new(model, mask, cx.config()))
            }
            From::Reinit => Reinit::start_copy(cx, pair),
            From::RandomPrune => RandomPrune::start_copy(cx, pair),
        }
    }

    fn data_seed(&self, cx: &StageCx) -> u64 {
        let (r, l) = cx.coords();
        derive_seed(cx.config().seed, "spawn-data-order", &[r, l, cx.job.stage.copy() as u64])
    }

    fn pair(&self, cx: &StageCx, model: &mut Model) -> Result<Option<PairRecord>> {
        let Stage::Branch(kind, c) = cx.job.stage else { return Ok(None) };
        if c % 2 == 0 {
            return Ok(None);
        }
        let partner = JobId { stage: Stage::Branch(kind, c - 1), ..cx.job };
        let first = checkpoint::load_weights(&cx.exp.stage_dir(partner).join(paths::FINAL))?;
        let own = model.snapshot();
        let how: Interpolation = cx.params()?;
        Ok(Some(crate::interpolate::compare(model, c - 1, &first, &own, cx.exp.data, &how)?))
    }
}
