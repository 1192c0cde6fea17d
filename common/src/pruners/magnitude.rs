//! `magnitude`: a weight's score is |w| of its trained value (Frankle & Carbin; every paper's
//! lottery ticket).

use super::{PruneCx, Pruner};
use crate::train::Weights;
use anyhow::Result;

pub struct Magnitude;

impl Pruner for Magnitude {
    fn name(&self) -> &'static str {
        "magnitude"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        Ok(cx.mask.0.keys().map(|name| (name.clone(), cx.trained[name].abs())).collect())
    }
}
