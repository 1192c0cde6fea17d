//! `random`: uniform random scores, so each level removes survivors uniformly at random in the
//! counts the config's rule gives (IMP with random pruning instead of magnitude). Layer `i`'s
//! scores come from the stream `random-pruner` at (replicate, level, i).

use super::{PruneCx, Pruner};
use crate::rng;
use crate::train::Weights;
use anyhow::Result;
use tch::Tensor;

pub struct Random;

impl Pruner for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn scores(&self, cx: &PruneCx) -> Result<Weights> {
        let (r, l) = cx.stage.coords();
        let seed = cx.stage.config().seed;
        Ok(cx
            .mask
            .0
            .iter()
            .enumerate()
            .map(|(i, (name, m))| {
                let mut g = rng::stream(seed, "random-pruner", &[r, l, i as u64]);
                let v: Vec<f32> = (0..m.numel()).map(|_| rng::uniform(&mut g) as f32).collect();
                (name.clone(), Tensor::from_slice(&v).view(m.size().as_slice()))
            })
            .collect())
    }
}
