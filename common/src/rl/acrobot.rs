//! Acrobot-v1 (Sutton 1996; Sutton & Barto's "book" dynamics) as Gym defines it
//! (`gym/envs/classic_control/acrobot.py`, unchanged in Gymnasium): two links of length 1 and
//! mass 1 hanging from a pivot, torque −1, 0 or +1 on the joint between them; one fourth-order
//! Runge–Kutta step over dt = 0.2 s per environment step; angles wrapped to [−π, π], angular
//! velocities clipped to ±4π and ±9π. Reward −1 per step and 0 on the step that ends the task
//! (the tip above one link's length over the pivot: −cos θ1 − cos(θ1 + θ2) > 1); the episode
//! also ends after 500 steps (v1's time limit). State `(θ1, θ2, θ̇1, θ̇2)` drawn at reset from
//! U(−0.1, 0.1) each; the observation is `(cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2)`.

use super::{uniform, Env, Step};
use rand_core::RngCore;
use std::f64::consts::PI;

pub const DT: f64 = 0.2;
pub const MAX_VEL_1: f64 = 4.0 * PI;
pub const MAX_VEL_2: f64 = 9.0 * PI;
/// Torque of each action.
pub const TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

/// The environment's state and step count.
#[derive(Debug, Clone)]
pub struct Acrobot {
    /// `(θ1, θ2, θ̇1, θ̇2)`.
    pub state: [f64; 4],
    pub steps: u32,
    pub max_steps: u32,
}

/// `(θ̇1, θ̇2, θ̈1, θ̈2)` under torque `a` (the book's equations; links of mass 1, length 1,
/// centre of mass 0.5, moment of inertia 1, g = 9.8).
pub fn derivatives(s: [f64; 4], a: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2, g) = (1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 9.8);
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * theta2.sin() - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * theta2.sin() - phi2) / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One RK4 step of `dt` from `y` under torque `a`.
pub fn rk4(y: [f64; 4], a: f64, dt: f64) -> [f64; 4] {
    let add = |y: [f64; 4], k: [f64; 4], h: f64| std::array::from_fn::<f64, 4, _>(|i| y[i] + h * k[i]);
    let k1 = derivatives(y, a);
    let k2 = derivatives(add(y, k1, dt / 2.0), a);
    let k3 = derivatives(add(y, k2, dt / 2.0), a);
    let k4 = derivatives(add(y, k3, dt), a);
    std::array::from_fn(|i| y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// `x` wrapped into `[lo, hi]` by whole turns (Gym's `wrap`).
pub fn wrap(mut x: f64, lo: f64, hi: f64) -> f64 {
    let span = hi - lo;
    while x > hi {
        x -= span;
    }
    while x < lo {
        x += span;
    }
    x
}

impl Acrobot {
    /// Acrobot-v1: 500 steps at most.
    pub fn v1() -> Acrobot {
        Acrobot { state: [0.0; 4], steps: 0, max_steps: 500 }
    }

    /// The state after one step under `action` (0, 1, 2: torque −1, 0, +1).
    pub fn next_state(s: [f64; 4], action: usize) -> [f64; 4] {
        let n = rk4(s, TORQUE[action], DT);
        [wrap(n[0], -PI, PI), wrap(n[1], -PI, PI), n[2].clamp(-MAX_VEL_1, MAX_VEL_1), n[3].clamp(-MAX_VEL_2, MAX_VEL_2)]
    }

    /// Whether the tip is above one link's length over the pivot.
    pub fn terminal(s: [f64; 4]) -> bool {
        -s[0].cos() - (s[1] + s[0]).cos() > 1.0
    }

    fn observation(&self) -> Vec<f32> {
        let [t1, t2, d1, d2] = self.state;
        [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2].iter().map(|&v| v as f32).collect()
    }
}

impl Env for Acrobot {
    fn reset(&mut self, rng: &mut dyn RngCore) -> Vec<f32> {
        for v in &mut self.state {
            *v = uniform(rng, -0.1, 0.1);
        }
        self.steps = 0;
        self.observation()
    }

    fn step(&mut self, action: usize) -> Step {
        self.state = Self::next_state(self.state, action);
        self.steps += 1;
        let terminal = Self::terminal(self.state);
        Step { observation: self.observation(), reward: if terminal { 0.0 } else { -1.0 }, done: terminal || self.steps >= self.max_steps }
    }
}
