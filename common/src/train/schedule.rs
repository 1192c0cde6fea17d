//! Learning-rate schedules, as a function of the absolute iteration `t` (so that rewinding to
//! iteration k restarts the schedule at k).

use serde::{Deserialize, Serialize};

/// `lr(t) = base · gamma^(number of milestones ≤ t) · warmup(t)`, where `warmup(t) = (t + 1) /
/// warmup` for `t < warmup` (linear from ~0 to the base rate over `warmup` iterations) and 1
/// afterwards. Constant: no milestones, no warmup. Step drop: milestones with `gamma` (0.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Schedule {
    #[serde(default)]
    pub milestones: Vec<u64>,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    #[serde(default)]
    pub warmup: u64,
}

fn default_gamma() -> f64 {
    0.1
}

impl Schedule {
    pub fn constant() -> Self {
        Schedule { milestones: vec![], gamma: 0.1, warmup: 0 }
    }

    pub fn lr(&self, base: f64, t: u64) -> f64 {
        let drops = self.milestones.iter().filter(|&&m| m <= t).count() as i32;
        let warm = if t < self.warmup { (t + 1) as f64 / self.warmup as f64 } else { 1.0 };
        base * self.gamma.powi(drops) * warm
    }
}
