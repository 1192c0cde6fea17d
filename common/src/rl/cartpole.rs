//! CartPole-v0 (Barto, Sutton & Anderson 1983) as Gym defines it
//! (`gym/envs/classic_control/cartpole.py`, unchanged in Gymnasium): a pole on a cart pushed
//! left or right with a force of 10 N, explicit Euler steps of τ = 0.02 s with Florian's (2007)
//! equations; +1 reward per step including the last; the episode ends when |x| > 2.4 or
//! |θ| > 12°, or after 200 steps (v0's time limit). State `(x, ẋ, θ, θ̇)`, drawn at reset from
//! U(−0.05, 0.05) each. Physics in `f64` as NumPy computes it; observations rounded to `f32`.

use super::{uniform, Env, Step};
use rand_core::RngCore;

pub const GRAVITY: f64 = 9.8;
pub const MASS_CART: f64 = 1.0;
pub const MASS_POLE: f64 = 0.1;
/// Half the pole's length.
pub const LENGTH: f64 = 0.5;
pub const FORCE: f64 = 10.0;
pub const TAU: f64 = 0.02;
pub const X_LIMIT: f64 = 2.4;
/// 12° in radians, as Gym writes it.
pub const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;

/// The environment's state and step count.
#[derive(Debug, Clone)]
pub struct CartPole {
    /// `(x, ẋ, θ, θ̇)`.
    pub state: [f64; 4],
    pub steps: u32,
    pub max_steps: u32,
}

impl CartPole {
    /// CartPole-v0: 200 steps at most.
    pub fn v0() -> CartPole {
        CartPole { state: [0.0; 4], steps: 0, max_steps: 200 }
    }

    /// The state after one Euler step under `action` (0: push left, 1: push right).
    pub fn next_state(state: [f64; 4], action: usize) -> [f64; 4] {
        let [x, x_dot, theta, theta_dot] = state;
        let force = if action == 1 { FORCE } else { -FORCE };
        let (cos, sin) = (theta.cos(), theta.sin());
        let total_mass = MASS_POLE + MASS_CART;
        let pole_mass_length = MASS_POLE * LENGTH;
        let temp = (force + pole_mass_length * theta_dot * theta_dot * sin) / total_mass;
        let theta_acc = (GRAVITY * sin - cos * temp) / (LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / total_mass));
        let x_acc = temp - pole_mass_length * theta_acc * cos / total_mass;
        [x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc]
    }

    /// Whether `state` ends the episode (cart off the track or pole past 12°).
    pub fn terminal(state: [f64; 4]) -> bool {
        state[0] < -X_LIMIT || state[0] > X_LIMIT || state[2] < -THETA_LIMIT || state[2] > THETA_LIMIT
    }

    fn observation(&self) -> Vec<f32> {
        self.state.iter().map(|&v| v as f32).collect()
    }
}

impl Env for CartPole {
    fn reset(&mut self, rng: &mut dyn RngCore) -> Vec<f32> {
        for v in &mut self.state {
            *v = uniform(rng, -0.05, 0.05);
        }
        self.steps = 0;
        self.observation()
    }

    fn step(&mut self, action: usize) -> Step {
        self.state = Self::next_state(self.state, action);
        self.steps += 1;
        let done = Self::terminal(self.state) || self.steps >= self.max_steps;
        Step { observation: self.observation(), reward: 1.0, done }
    }
}
