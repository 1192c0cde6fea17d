//! The IMP trunk, stage `main`: level 0 trains the dense network from θ_0 (saving θ_0 as
//! `start.pt` and, passing through k, θ_k as `rewind.pt`); level L > 0 prunes level L − 1's
//! final weights with the config's pruner (magnitude by default) under its rule and retrains as
//! `cfg.retrain` says. A
//! non-default `cfg.ticket` builds the level by Zhou et al.'s criterion and values instead
//! ([`crate::ticket`]); a transfer experiment's every level is its source's ticket
//! ([`crate::transfer`]).

use super::{Kind, StageCx, Start};
use crate::config::ExperimentConfig;
use crate::imp::JobId;
use crate::paths;
use crate::prune::Mask;
use crate::pruners::PruneCx;
use crate::rng::derive_seed;
use crate::ticket::TicketConfig;
use crate::train::{checkpoint, TrainOutcome};
use anyhow::{Context, Result};

pub struct Trunk;

impl Kind for Trunk {
    fn name(&self) -> &'static str {
        "main"
    }

    fn stage_name(&self, _label: &str, _copy: u32) -> String {
        "main".into()
    }

    fn parents(&self, job: JobId, _cfg: &ExperimentConfig) -> Vec<JobId> {
        if job.level == 0 {
            vec![]
        } else {
            vec![job.trunk(job.level - 1)]
        }
    }

    fn measures_pruning_distance(&self, job: JobId) -> bool {
        job.level > 0
    }

    fn keeps_final_weights(&self) -> bool {
        true
    }

    /// Level 0 trains from iteration 0, passing through k to record θ_k.
    fn first_iteration(&self, job: JobId, cfg: &ExperimentConfig) -> u64 {
        if job.level == 0 {
            0
        } else {
            cfg.rewind_iteration
        }
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let (cfg, job) = (cx.config(), cx.job);
        let (r, l) = cx.coords();
        // A transfer's own draw (its re-initialised output layer) is independent of the
        // source's initialisation, even under the same seed.
        let seed = if cfg.transfer.is_some() { derive_seed(cfg.seed, "transfer-init", &[r]) } else { cx.init_seed() };
        let mut model = cx.fresh_model(seed)?;
        if let Some(t) = &cfg.transfer {
            // Morcos et al.: the source's level-L mask and θ_k, the output layer re-drawn.
            let source = cx.exp.source.as_deref().context("a transfer experiment needs its source's run folder")?;
            let ticket = crate::transfer::load_ticket(source, job.replicate, job.level, t.source.rewind_iteration, t.reinit_output, &mut model)?;
            if job.level == 0 {
                checkpoint::save_weights(&cx.dir.join(paths::START), &model.snapshot())?;
            }
            return Ok(Start::new(model, ticket.mask, cfg));
        }
        if job.level == 0 {
            checkpoint::save_weights(&cx.dir.join(paths::START), &model.snapshot())?;
            let dense = Mask::dense(&model);
            return Ok(Start::new(model, dense, cfg));
        }
        let (prev_mask, prev_final) = cx.exp.read_main(job.replicate, job.level - 1)?;
        // The pruner scores the weights the level is pruned from; every path below then puts
        // the level's start values into the model.
        model.restore(&prev_final)?;
        let by = PruneCx { stage: cx, model: &model, mask: &prev_mask };
        if cfg.ticket != TicketConfig::LOTTERY {
            // Zhou et al.'s tickets: the criterion's mask (or the pruner's), the survivors' and
            // pruned weights' start values, from θ_k and the weights the level is pruned from.
            let rewind = cx.exp.rewind_weights(job.replicate)?;
            let kept = cfg.kept_at(job.level, model.layers());
            let mask = match cfg.ticket.criterion_mask(&prev_mask, &rewind, &prev_final, kept, model.layers(), derive_seed(cfg.seed, "ticket-mask", &[r, l])) {
                Some(mask) => mask,
                None => crate::pruners::prune(cfg.pruner, &by)?,
            };
            let start = cfg.ticket.start(&rewind, &prev_final, &mask, derive_seed(cfg.seed, "ticket-values", &[r, l]));
            model.restore(&start.weights)?;
            return Ok(Start { frozen: start.frozen, ..Start::new(model, mask, cfg) });
        }
        let mask = crate::pruners::prune(cfg.pruner, &by)?;
        let r = cx.retrain(&mut model, job.level - 1)?;
        Ok(Start { train: r.train, optimizer: r.optimizer, ..Start::new(model, mask, cfg) })
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        let k = cx.config().rewind_iteration;
        let snapshot = (cx.job.level == 0 && k > 0).then_some(k);
        cx.train(start, self.data_seed(cx), snapshot)
    }
}
