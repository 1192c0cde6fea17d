//! Reinforcement learning as a lottery-ticket task (Yu et al. 2020): classic-control
//! environments written from Gym's published dynamics, and the advantage actor–critic that
//! trains a ticket on them ([`a2c`]).
//!
//! An environment is deterministic given its reset draw: [`Env::reset`] takes the random stream,
//! [`Env::step`] takes none (CartPole-v0 and Acrobot-v1 have no transition noise), so a seeded
//! run replays exactly.

pub mod a2c;
pub mod acrobot;
pub mod cartpole;

use anyhow::Result;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

/// What one step of an environment returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub observation: Vec<f32>,
    pub reward: f64,
    /// The episode ended: the task's termination or the time limit (Gym's `TimeLimit`); the
    /// next step needs a [`Env::reset`].
    pub done: bool,
}

/// A classic-control environment, one episode at a time.
pub trait Env: Send {
    /// Starts an episode from a random state; returns the first observation.
    fn reset(&mut self, rng: &mut dyn RngCore) -> Vec<f32>;
    /// Applies `action` (in `0..actions()`).
    fn step(&mut self, action: usize) -> Step;
}

/// The environments, by their Gym ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Environment {
    #[serde(rename = "CartPole-v0")]
    CartPoleV0,
    #[serde(rename = "Acrobot-v1")]
    AcrobotV1,
}

impl Environment {
    pub const ALL: [Environment; 2] = [Environment::CartPoleV0, Environment::AcrobotV1];

    /// Gym's id.
    pub fn id(self) -> &'static str {
        match self {
            Environment::CartPoleV0 => "CartPole-v0",
            Environment::AcrobotV1 => "Acrobot-v1",
        }
    }

    /// Length of an observation.
    pub fn observation_size(self) -> usize {
        match self {
            Environment::CartPoleV0 => 4,
            Environment::AcrobotV1 => 6,
        }
    }

    /// Number of discrete actions.
    pub fn actions(self) -> usize {
        match self {
            Environment::CartPoleV0 => 2,
            Environment::AcrobotV1 => 3,
        }
    }

    /// A fresh environment (call [`Env::reset`] before stepping).
    pub fn make(self) -> Box<dyn Env> {
        match self {
            Environment::CartPoleV0 => Box::new(cartpole::CartPole::v0()),
            Environment::AcrobotV1 => Box::new(acrobot::Acrobot::v1()),
        }
    }

    /// Where the dynamics come from (the provenance of every result on this environment).
    pub fn source(self) -> &'static str {
        match self {
            Environment::CartPoleV0 => "Gym's CartPole-v0 dynamics (classic_control/cartpole.py: Euler, τ 0.02, 200-step limit) in Rust",
            Environment::AcrobotV1 => "Gym's Acrobot-v1 dynamics (classic_control/acrobot.py: book dynamics, RK4, dt 0.2, 500-step limit) in Rust",
        }
    }

    /// Parses a Gym id, with a one-line error listing the known ones.
    pub fn parse(s: &str) -> Result<Environment> {
        Self::ALL
            .into_iter()
            .find(|e| e.id() == s)
            .ok_or_else(|| anyhow::format_err!("unknown environment `{s}`; choose one of {}", Self::ALL.iter().map(|e| e.id()).collect::<Vec<_>>().join(", ")))
    }
}

/// Uniform on `[lo, hi)` from the stream, as `f64`.
fn uniform(rng: &mut dyn RngCore, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}
