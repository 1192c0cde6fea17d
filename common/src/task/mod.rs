//! What a network is trained to do — the `Task` seam: how a stage trains its network (data or
//! environment, loss, the curves it logs) and what a config must satisfy for it. The pipeline
//! ([`crate::stage`]), pruning, rewinding and the results store are the same for every task.
//!
//! Built in: [`image-classification`](ImageClassification) (the default: mini-batches of a
//! [`Dataset`], cross-entropy, accuracy — the training loop of [`crate::train`]) and
//! [`actor-critic`](ActorCritic) (Yu et al.'s advantage actor–critic on a game,
//! [`crate::rl::a2c`]) and [`language-model`](LanguageModel) (truncated BPTT over a text
//! corpus, log perplexity). A config selects one with `task = { name = "…", params = { … } }`;
//! the default task is left out of configs and so of the trunk hash.
//!
//! A task logs what it measures in [`crate::train::EvalLog`], every curve by name: image
//! classification (and the language model) the five of [`crate::train::metric`], another task
//! its own (e.g. `reward`).
//!
//! Adding a task: a type implementing [`Task`] in `task/<name>.rs` (or a paper's own, with
//! [`register`]), one line in `builtin()`, and a [`TaskName`] constant.

mod actor_critic;
mod image_classification;
pub mod language_model;

pub use actor_critic::ActorCritic;
pub use image_classification::ImageClassification;
pub use language_model::LanguageModel;

use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::models::Model;
use crate::prune::Mask;
use crate::registry::Registry;
use crate::stage::Params;
use crate::train::{RunSpec, TrainConfig, TrainOutcome};
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// A training task.
pub trait Task: Sync + Send {
    /// Its config name (`image-classification`), an API boundary.
    fn name(&self) -> &'static str;

    /// The canonical form of the config's task `params`: checked, typed, defaults left out
    /// (unknown keys are errors). Default: the task takes none.
    fn params(&self, params: &Params) -> Result<Params> {
        if let Some(key) = params.keys().next() {
            anyhow::bail!("task `{}` takes no parameters, but its params set `{key}`; remove it", self.name());
        }
        Ok(Params::new())
    }

    /// Checks `cfg` against the data it will train on, with a one-line error naming the fix.
    fn validate(&self, cfg: &ExperimentConfig, data: &Dataset) -> Result<()>;

    /// Trains `model` (holding its start weights) under `mask` from iteration `run.start` to
    /// `train.iterations` on `data`, with the task's `params` ([`Task::params`]'s form).
    fn train(&self, model: &mut Model, mask: &Mask, data: &Dataset, train: &TrainConfig, params: &Params, run: RunSpec) -> Result<TrainOutcome>;
}

/// `typed`'s parameters that differ from their defaults (the canonical form of a task's params:
/// stating a default keeps the hash).
fn non_default<T: Serialize + Default>(typed: &T) -> Params {
    let default = crate::stage::to_params(&T::default());
    crate::stage::to_params(typed).into_iter().filter(|(k, v)| default.get(k) != Some(v)).collect()
}

fn builtin() -> Vec<&'static dyn Task> {
    vec![&ImageClassification, &ActorCritic, &LanguageModel]
}

static TASKS: Registry<dyn Task> = Registry::new("task", builtin, |t| t.name());

/// Adds a task (a paper's or a test's own) to the registry; names are unique.
pub fn register(task: &'static dyn Task) -> Result<()> {
    TASKS.register(task)
}

crate::registered_name! {
    /// A registered task, by name.
    TaskName => TASKS, dyn Task
}

impl TaskName {
    pub const IMAGE_CLASSIFICATION: TaskName = TaskName("image-classification");
    pub const ACTOR_CRITIC: TaskName = TaskName("actor-critic");
    pub const LANGUAGE_MODEL: TaskName = TaskName("language-model");
}

/// The config's `task`: which task, with its parameters (unknown keys are errors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub name: TaskName,
    #[serde(default, skip_serializing_if = "Params::is_empty")]
    pub params: Params,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig { name: TaskName::IMAGE_CLASSIFICATION, params: Params::new() }
    }
}

impl TaskConfig {
    /// `name` with its typed parameters `params`, in canonical form (defaults left out).
    pub fn new<T: Serialize>(name: TaskName, params: &T) -> Result<TaskConfig> {
        Ok(TaskConfig { name, params: name.get().params(&crate::stage::to_params(params))? })
    }

    pub fn is_default(&self) -> bool {
        *self == TaskConfig::default()
    }

    /// Checks the parameters and that they are in canonical form (what the hash sees).
    pub fn validate(&self) -> Result<()> {
        let canonical = self.name.get().params(&self.params)?;
        if canonical != self.params {
            anyhow::bail!(
                "task `{}`: params state defaults; leave out {:?}",
                self.name,
                self.params.keys().filter(|k| !canonical.contains_key(*k)).collect::<Vec<_>>()
            );
        }
        Ok(())
    }

    /// Trains as the task says ([`Task::train`]).
    pub fn train(&self, model: &mut Model, mask: &Mask, data: &Dataset, train: &TrainConfig, run: RunSpec) -> Result<TrainOutcome> {
        self.name.get().train(model, mask, data, train, &self.params, run)
    }
}
