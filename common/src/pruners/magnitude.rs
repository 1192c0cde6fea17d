//! `magnitude`: a weight's score is |w| of the weights scored — the trained ones in IMP (Frankle
//! & Carbin; every paper's lottery ticket), θ_0 at initialisation (Tanaka et al.'s baseline).

use super::{PruneCx, Pruner};
use crate::train::Weights;
use anyhow::Result;

pub struct Magnitude;

impl Pruner for Magnitude {
    fn name(&self) -> &'static str {
        "magnitude"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        Ok(cx.weights().into_iter().map(|(name, w)| (name, w.abs())).collect())
    }
}
