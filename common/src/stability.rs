//! Stability to pruning (Frankle, Dziugaite, Roy & Carbin 2019, "Stabilizing the Lottery Ticket
//! Hypothesis"): how far a subnetwork trained in isolation ends from the full network trained
//! from the same rewind point, compared on the subnetwork's own weights.
//!
//! For a stage with mask `m` that trained to `θ_sub`, with the replicate's full network at
//! `θ_k` (the rewind point, `θ_0` when k = 0) and `θ_T` (level 0's final weights):
//!
//! ```text
//! distance = ‖θ_sub − m ⊙ θ_T‖₂        travel = ‖m ⊙ (θ_T − θ_k)‖₂
//! ```
//!
//! both over the prunable (conv and linear) weights; pruned entries are zero in `θ_sub` and
//! masked out of the full network, so only surviving weights count. `distance / travel` is the
//! normalised form we plot: 0 when the subnetwork retraces the full network's trajectory, 1 when
//! it ends as far from the full network as the full network's surviving weights moved during
//! training. A data-order distance (two copies of one subnetwork, `PairRecord::distance`) is
//! normalised by the same `travel`, so the two stabilities share one scale. The paper reports L2
//! distances; which normaliser it used is not confirmed (papers.md §2 marks v1's details as
//! remembered), so the raw distance and the travel are both stored.

use crate::models::LayerInfo;
use crate::prune::Mask;
use crate::train::Weights;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Where a subnetwork ended relative to the full network (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PruningDistance {
    /// ‖θ_sub − m ⊙ θ_T‖₂ over prunable weights.
    pub distance: f64,
    /// ‖m ⊙ (θ_T − θ_k)‖₂: how far the full network's surviving weights travelled.
    pub travel: f64,
}

impl PruningDistance {
    /// Measures `subnetwork` (trained under `mask`) against the full network's rewind point
    /// `rewind` and final weights `full`, over `layers`.
    pub fn measure(layers: &[LayerInfo], mask: &Mask, subnetwork: &Weights, full: &Weights, rewind: &Weights) -> PruningDistance {
        let cpu = |t: &Tensor| t.to_device(Device::Cpu).to_kind(Kind::Double);
        tch::no_grad(|| {
            let (mut distance, mut travel) = (0.0, 0.0);
            for l in layers {
                let m = cpu(&mask.0[&l.name]);
                let end = cpu(&full[&l.name]) * &m;
                distance += (cpu(&subnetwork[&l.name]) * &m - &end).square().sum(Kind::Double).double_value(&[]);
                travel += (end - cpu(&rewind[&l.name]) * &m).square().sum(Kind::Double).double_value(&[]);
            }
            PruningDistance { distance: distance.sqrt(), travel: travel.sqrt() }
        })
    }

    /// `distance / travel` (NaN when the full network did not move).
    pub fn normalised(&self) -> f64 {
        self.distance / self.travel
    }
}
