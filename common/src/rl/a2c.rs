//! The advantage actor–critic Yu et al. train classic-control tickets with (Table A1; FLARE's
//! `SimpleAC` with `SimpleModelAC` and `OnlineHelper`, the framework the paper used).
//!
//! `envs` games run side by side; each update takes `steps` steps in every game (a batch of
//! `envs × steps` transitions: Yu et al. 32 × 4 = 128) with actions sampled from the policy, then
//! one gradient step on the sum over the batch of FLARE's one-step actor–critic cost:
//!
//! ```text
//! δ = r·reward_scale + γ·V(s′)·alive − V(s)          (V(s′) without gradient; alive = 0 at a game's end)
//! cost = value_weight·δ² − log π(a|s)·δ̄ − entropy_weight·H(π(·|s))     (δ̄: δ without gradient)
//! ```
//!
//! A game ends at its task's termination or its time limit (FLARE treats both as the end); it
//! restarts at once from a fresh draw. **The clock is games, not updates**: the experiment's
//! `iterations` is the number of games trained (N epochs × M games), `eval_every` an epoch of M
//! games, and the rewind point k a game count (Yu et al. rewind to the end of epoch 1). The
//! hooks see each game count once, with the weights of the update in which that game ended, so
//! θ_k is the network when the k-th game finished. Training stops at the first update that
//! completes the last game.
//!
//! Logged at every epoch (and at the start and the end), as curves of [`EvalLog`] by name:
//! `reward` (mean undiscounted, unscaled reward of the last `last_games` games — the ticket's
//! metric, Yu et al.'s "mean of the last L episodes"), `updates` and `env_steps` so far, and
//! `train_loss`, the mean batch cost since the last entry. Nothing else: a game has no
//! validation or test set.
//!
//! Random streams, from the stage's data seed: one per game slot for its reset draws
//! (`rl-reset`), one for the actions (`rl-actions`), so a run replays exactly. A killed stage
//! restarts from its start (games are not checkpointed).

use super::{Env, Environment};
use crate::models::Model;
use crate::prune::Mask;
use crate::rng;
use crate::train::hooks::Control;
use crate::train::{metric, EvalLog, RunSpec, Status, TrainConfig, TrainOutcome};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// The actor–critic's settings (the config's `task.params`); defaults are Yu et al.'s
/// classic-control values and FLARE's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct A2cParams {
    /// Games played side by side (Yu et al.: 32 game threads).
    pub envs: usize,
    /// Steps taken in each game per update (4: "each blocked every 4 steps").
    pub steps: usize,
    /// Discount γ (0.99).
    pub gamma: f64,
    /// Multiplies every reward before learning (Yu et al.: rewards divided by 100).
    pub reward_scale: f64,
    /// Weight of the critic's squared TD error (FLARE: 1.0).
    pub value_weight: f64,
    /// Weight of the policy's entropy bonus (FLARE's `SimpleAC`: 0.01).
    pub entropy_weight: f64,
    /// The ticket's reward is the mean over this many last games (Yu et al.'s L = 100).
    pub last_games: usize,
}

impl Default for A2cParams {
    fn default() -> Self {
        A2cParams { envs: 32, steps: 4, gamma: 0.99, reward_scale: 0.01, value_weight: 1.0, entropy_weight: 0.01, last_games: 100 }
    }
}

impl A2cParams {
    pub fn validate(&self) -> Result<()> {
        if !(1..=4_096).contains(&self.envs) || !(1..=4_096).contains(&self.steps) {
            bail!("actor-critic: envs {} and steps {} must each be 1 to 4096 (Yu et al.: 32 games × 4 steps)", self.envs, self.steps);
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            bail!("actor-critic: discount gamma {} is outside [0, 1]; Yu et al. use 0.99", self.gamma);
        }
        if self.last_games == 0 {
            bail!("actor-critic: last_games is 0; the ticket's reward needs at least one game (Yu et al.: 100)");
        }
        let finite = [self.reward_scale, self.value_weight, self.entropy_weight];
        if finite.iter().any(|v| !v.is_finite()) {
            bail!("actor-critic: reward_scale, value_weight and entropy_weight must be finite numbers");
        }
        Ok(())
    }
}

/// The games in play: environments, their random streams and running rewards.
struct Games {
    envs: Vec<Box<dyn Env>>,
    resets: Vec<rand_chacha::ChaCha8Rng>,
    actions: rand_chacha::ChaCha8Rng,
    /// Current observation of each game, `[envs × observation size]` row-major.
    observations: Vec<Vec<f32>>,
    running: Vec<f64>,
    /// Rewards of the last finished games (at most `last_games`).
    finished: VecDeque<f64>,
    last_games: usize,
    env_steps: u64,
}

impl Games {
    fn new(env: Environment, p: &A2cParams, data_seed: u64) -> Games {
        let mut envs: Vec<Box<dyn Env>> = (0..p.envs).map(|_| env.make()).collect();
        let mut resets: Vec<_> = (0..p.envs as u64).map(|i| rng::stream(data_seed, "rl-reset", &[i])).collect();
        let observations = envs.iter_mut().zip(&mut resets).map(|(e, r)| e.reset(r)).collect();
        Games {
            envs,
            resets,
            actions: rng::stream(data_seed, "rl-actions", &[]),
            observations,
            running: vec![0.0; p.envs],
            finished: VecDeque::new(),
            last_games: p.last_games,
            env_steps: 0,
        }
    }

    /// Mean reward of the last finished games (NaN before the first ends).
    fn recent_reward(&self) -> f64 {
        if self.finished.is_empty() {
            f64::NAN
        } else {
            self.finished.iter().sum::<f64>() / self.finished.len() as f64
        }
    }

    fn observation_batch(&self, device: Device) -> Tensor {
        let n = self.observations.len() as i64;
        let flat: Vec<f32> = self.observations.concat();
        Tensor::from_slice(&flat).view([n, -1]).to_device(device)
    }
}

/// One update's transitions.
#[derive(Default)]
struct Batch {
    states: Vec<f32>,
    actions: Vec<i64>,
    rewards: Vec<f32>,
    next_states: Vec<f32>,
    alive: Vec<f32>,
}

/// Samples an index from `probabilities` (summing to ~1) with one uniform draw.
fn sample(probabilities: &[f32], rng: &mut impl rand_core::RngCore) -> usize {
    let u = rng::uniform(rng) as f32;
    let mut acc = 0.0;
    for (i, &p) in probabilities.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    probabilities.len() - 1
}

/// `steps` steps of every game under the current policy; returns the transitions and how many
/// games ended.
fn play(model: &Model, games: &mut Games, p: &A2cParams, actions: usize) -> (Batch, u64) {
    let device = model.device();
    let mut batch = Batch::default();
    let mut ended = 0;
    for _ in 0..p.steps {
        let probabilities = tch::no_grad(|| model.forward_t(&games.observation_batch(device), false).narrow(1, 0, actions as i64).softmax(-1, Kind::Float));
        let probabilities: Vec<f32> = Vec::<f32>::try_from(probabilities.to_device(Device::Cpu).flatten(0, -1)).expect("f32 probabilities");
        for i in 0..games.envs.len() {
            let a = sample(&probabilities[i * actions..(i + 1) * actions], &mut games.actions);
            let step = games.envs[i].step(a);
            games.env_steps += 1;
            games.running[i] += step.reward;
            batch.states.extend_from_slice(&games.observations[i]);
            batch.actions.push(a as i64);
            batch.rewards.push((step.reward * p.reward_scale) as f32);
            batch.next_states.extend_from_slice(&step.observation);
            batch.alive.push(if step.done { 0.0 } else { 1.0 });
            games.observations[i] = if step.done {
                games.finished.push_back(std::mem::take(&mut games.running[i]));
                if games.finished.len() > games.last_games {
                    games.finished.pop_front();
                }
                ended += 1;
                games.envs[i].reset(&mut games.resets[i])
            } else {
                step.observation
            };
        }
    }
    (batch, ended)
}

/// The batch's summed actor–critic cost (module docs), differentiable in the model.
fn cost(model: &Model, batch: &Batch, p: &A2cParams, actions: usize) -> Tensor {
    let device = model.device();
    let n = batch.actions.len() as i64;
    let to = |v: &[f32]| Tensor::from_slice(v).view([n, -1]).to_device(device);
    let out = model.forward_t(&to(&batch.states), true);
    let (logits, value) = (out.narrow(1, 0, actions as i64), out.narrow(1, actions as i64, 1).squeeze_dim(1));
    let next_value = tch::no_grad(|| model.forward_t(&to(&batch.next_states), false).narrow(1, actions as i64, 1).squeeze_dim(1));
    let target = to(&batch.rewards).squeeze_dim(1) + next_value * to(&batch.alive).squeeze_dim(1) * p.gamma;
    let td = target - &value;
    let log_p = logits.log_softmax(-1, Kind::Float);
    let taken = log_p.gather(1, &Tensor::from_slice(&batch.actions).to_device(device).unsqueeze(1), false).squeeze_dim(1);
    let entropy = -(log_p.exp() * &log_p).sum_dim_intlist(1, false, Kind::Float);
    let per_example = td.square() * p.value_weight - taken * td.detach() - entropy * p.entropy_weight;
    per_example.sum(Kind::Float)
}

/// Trains `model` (holding its start weights, masked by `mask`) on `env` from game `run.start`
/// to `cfg.iterations` games.
pub fn train(model: &mut Model, mask: &Mask, env: Environment, cfg: &TrainConfig, p: &A2cParams, mut run: RunSpec) -> Result<TrainOutcome> {
    let mut opt = crate::train::begin(model, mask, cfg, &run, "actor-critic")?;
    let actions = env.actions();
    let mut games = Games::new(env, p, run.data_seed);
    let mut log = EvalLog::default();
    let started = Instant::now();
    // `unseen`: the first game count the hooks have not been shown.
    let (mut t, mut unseen, mut updates) = (run.start, run.start, 0u64);
    let (mut cost_sum, mut cost_count) = (0.0, 0u64);
    let mut stop = false;
    loop {
        let epoch_done = log.iteration.last().is_some_and(|&last| t / cfg.eval_every > last / cfg.eval_every);
        if log.iteration.last() != Some(&t) && (t == run.start || epoch_done || t >= cfg.iterations || stop) {
            let train_loss = if cost_count == 0 { f64::NAN } else { cost_sum / cost_count as f64 };
            log.push(
                t,
                &[(metric::TRAIN_LOSS, train_loss), ("reward", games.recent_reward()), ("updates", updates as f64), ("env_steps", games.env_steps as f64)],
            );
            (cost_sum, cost_count) = (0.0, 0);
            if !(train_loss.is_finite() || t == run.start) {
                return crate::train::end(&run, &opt, log, Status::Diverged { iteration: t }, started);
            }
        }
        if t >= cfg.iterations || stop {
            break;
        }
        // Every game count reached since the last update, once, before the next update.
        for g in unseen..=t {
            for hook in run.hooks.iter_mut() {
                stop |= hook.at(model, &opt, g, &log)? == Control::Stop;
            }
        }
        unseen = t + 1;
        if stop {
            continue;
        }
        let (batch, ended) = play(model, &mut games, p, actions);
        let c = cost(model, &batch, p, actions);
        opt.zero_grad();
        c.backward();
        opt.step(cfg.schedule.lr(cfg.optimizer.lr(), t));
        updates += 1;
        cost_sum += c.double_value(&[]);
        cost_count += 1;
        for g in t + 1..=t + ended {
            for hook in run.hooks.iter_mut() {
                hook.stepped(g);
            }
        }
        t += ended;
    }
    crate::train::end(&run, &opt, log, Status::Completed, started)
}
