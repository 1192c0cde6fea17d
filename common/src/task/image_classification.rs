//! The default task: mini-batches of a [`Dataset`]'s training split, cross-entropy, loss and
//! accuracy on the validation and test splits ([`crate::train::train`]).

use super::Task;
use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::models::Model;
use crate::prune::Mask;
use crate::stage::Params;
use crate::train::{RunSpec, TrainConfig, TrainOutcome};
use anyhow::{bail, Result};

pub struct ImageClassification;

impl Task for ImageClassification {
    fn name(&self) -> &'static str {
        "image-classification"
    }

    fn validate(&self, cfg: &ExperimentConfig, data: &Dataset) -> Result<()> {
        if data.name.environment().is_some() {
            bail!("{} is a game, not images; set task = {{ name = \"actor-critic\" }} or choose an image dataset", data.name.as_str());
        }
        if data.name.is_text() {
            bail!("{} is a text corpus, not images; set task = {{ name = \"language-model\" }} or choose an image dataset", data.name.as_str());
        }
        cfg.train.validate(data.train.len())
    }

    fn train(&self, model: &mut Model, mask: &Mask, data: &Dataset, train: &TrainConfig, _params: &Params, run: RunSpec) -> Result<TrainOutcome> {
        crate::train::train(model, mask, data, train, run)
    }
}
