//! Yu et al.'s classic-control games as a task: the advantage actor–critic of [`crate::rl::a2c`]
//! on the environment the experiment's dataset names (`cartpole-v0`, `acrobot-v1`).

use super::Task;
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::models::{Arch, Model};
use crate::prune::Mask;
use crate::rl::a2c::{self, A2cParams};
use crate::stage::{from_params, Params};
use crate::train::{RunSpec, TrainConfig, TrainOutcome};
use anyhow::{bail, Result};

pub struct ActorCritic;

impl ActorCritic {
    fn typed(params: &Params) -> Result<A2cParams> {
        from_params(params).map_err(|e| anyhow::format_err!("task `actor-critic`: params: {e}"))
    }
}

impl Task for ActorCritic {
    fn name(&self) -> &'static str {
        "actor-critic"
    }

    fn params(&self, params: &Params) -> Result<Params> {
        let typed = Self::typed(params)?;
        typed.validate()?;
        Ok(super::non_default(&typed))
    }

    fn validate(&self, cfg: &ExperimentConfig, data: &Dataset) -> Result<()> {
        if data.name.environment().is_none() {
            bail!("task `actor-critic` plays a game, and {} is a dataset; choose --dataset cartpole-v0 or acrobot-v1", data.name.as_str());
        }
        if !matches!(cfg.model.arch, Arch::ActorCritic { .. }) {
            bail!("task `actor-critic` needs an actor-critic network (a policy and a value head); set model.arch = \"actor-critic\"");
        }
        cfg.train.validate_values()?;
        let p = Self::typed(&cfg.task.params)?;
        if cfg.train.batch_size != (p.envs * p.steps) as i64 {
            bail!("batch size {} does not fit {} games × {} steps per update; set batch_size = {}", cfg.train.batch_size, p.envs, p.steps, p.envs * p.steps);
        }
        Ok(())
    }

    fn train(&self, model: &mut Model, mask: &Mask, data: &Dataset, train: &TrainConfig, params: &Params, run: RunSpec) -> Result<TrainOutcome> {
        let env = data.name.environment().expect("validated: a game");
        a2c::train(model, mask, env, train, &Self::typed(params)?, run)
    }
}
