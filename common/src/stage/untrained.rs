//! Untrained supermasks (Zhou et al. 2019 §4.5): the level's mask on θ_k (`untrained`), or on
//! signed constants sign(θ_k)·σ_layer (`untrained-signed-constant`; σ: the standard deviation
//! of the layer's θ_k), evaluated once at iteration k without training a weight.

use super::{Kind, StageCx, Start};
use crate::criteria::{kept_values, KeptValues};
use crate::train::{self, TrainOutcome, Weights};
use anyhow::Result;

pub struct Untrained {
    name: &'static str,
    /// Signed constants instead of θ_k's values.
    signed_constant: bool,
}

pub const UNTRAINED: Untrained = Untrained { name: "untrained", signed_constant: false };
pub const UNTRAINED_SIGNED_CONSTANT: Untrained = Untrained { name: "untrained-signed-constant", signed_constant: true };

impl Kind for Untrained {
    fn name(&self) -> &'static str {
        self.name
    }

    fn trains_weights(&self) -> bool {
        false
    }

    fn start(&self, cx: &StageCx) -> Result<Start> {
        let mut model = cx.fresh_model(cx.copy_seed(&format!("{}-init", self.name), cx.job.stage.copy()))?;
        let mask = cx.exp.read_main(cx.job.replicate, cx.job.level)?.0;
        let rewind = cx.exp.rewind_weights(cx.job.replicate)?;
        if self.signed_constant {
            let mut start: Weights = rewind.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
            for (name, m) in &mask.0 {
                // No random choice is involved: the seed is unused.
                start.insert(name.clone(), kept_values(KeptValues::SignedConstant, &rewind[name], m, 0));
            }
            model.restore(&start)?;
        } else {
            model.restore(&rewind)?;
        }
        Ok(Start::new(model, mask, cx.config()))
    }

    fn run(&self, cx: &StageCx, start: &mut Start) -> Result<TrainOutcome> {
        Ok(train::evaluate_untrained(&mut start.model, &start.mask, cx.exp.data, cx.config().rewind_iteration))
    }
}
