//! The experiment config: everything that determines the numbers of an IMP experiment.
//!
//! Configs are serde data (TOML or JSON), printed and stored with every result. The run folder is
//! named from [`ExperimentConfig::hash`], the *trunk identity*: a SHA-256 of the canonical JSON
//! of every field except `replicates` and `branches`. Raising the number of trials reuses the
//! finished replicates, and asking for another branch or copy reuses the trunk (a branch stage's
//! folder, `<kind>_<copy>`, names it within the run folder). A branch's settings are its
//! `params`, out of the trunk identity: the learned supermask's and the spawned pairs'
//! interpolation moved there from top-level tables ([`MovedSetting`]; stored configs holding
//! them at their default still read, [`upgrade_stored`]; committed files holding other values
//! were rewritten by [`crate::results::MIGRATIONS`]). Fields added later (listed in [`AddedLater`]) are
//! left out of the hash while they hold their default, so configs that do not use them keep
//! their hash and their cached runs — the rule open_lth follows by hashing only non-default
//! hyperparameters.

use crate::data::DatasetName;
use crate::models::ModelConfig;
use crate::prune::PruneConfig;
use crate::train::TrainConfig;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// A branch off an IMP level: a registered stage kind (`reinit`, `spawn`, …; each is one module
/// of [`crate::stage`], which documents what it does).
pub use crate::stage::BranchKind;

/// How a pruned network retrains (Renda, Frankle & Carbin 2020): for every IMP level after the
/// dense one and for one-shot branches. Each trains from the rewind iteration k to the end
/// (t = T − k iterations) with a fresh optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Retrain {
    /// Weight rewinding: survivors reset to θ_k, the schedule replayed from k (k = 0: the LTH).
    #[default]
    WeightRewind,
    /// Learning-rate rewinding: survivors keep their final trained values; the schedule is
    /// replayed from k.
    LrRewind,
    /// Fine-tuning: survivors keep their final trained values and train at the schedule's final
    /// learning rate, constant.
    FineTune,
    /// Renda et al.'s ablation "low-LR weight rewinding": survivors reset to θ_k, trained at the
    /// schedule's final learning rate, constant (the authors' `lr_lottery`).
    LowLrWeightRewind,
    /// Renda et al.'s ablation "reinitialise and train t": survivors get new weights from the
    /// network's initialiser and train with the schedule replayed from k (the authors' `reinit`;
    /// that the schedule restarts at k rather than at 0 is our reading).
    Reinit,
}

impl Retrain {
    /// Where the survivors start: θ_k, new weights, or the weights they were pruned from.
    pub fn start(self) -> RetrainStart {
        match self {
            Retrain::WeightRewind | Retrain::LowLrWeightRewind => RetrainStart::Rewound,
            Retrain::Reinit => RetrainStart::Reinitialised,
            Retrain::LrRewind | Retrain::FineTune => RetrainStart::Trained,
        }
    }

    /// The training config of a retraining run: fine-tuning and low-LR weight rewinding train at
    /// the schedule's last rate.
    pub fn train_config(self, train: &TrainConfig) -> TrainConfig {
        match self {
            Retrain::WeightRewind | Retrain::LrRewind | Retrain::Reinit => train.clone(),
            Retrain::FineTune | Retrain::LowLrWeightRewind => {
                let last = train.schedule.lr(train.optimizer.lr(), train.iterations.saturating_sub(1));
                TrainConfig { optimizer: train.optimizer.with_lr(last), schedule: crate::train::schedule::Schedule::constant(), ..train.clone() }
            }
        }
    }
}

/// Where a retraining run's optimizer state starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerStart {
    /// A fresh optimizer (zero momentum and moments), as open_lth retrains every level.
    #[default]
    Fresh,
    /// The optimizer state saved with the weights the retraining starts from: θ_k's (saved
    /// during the dense run at iteration k) for weight rewinding, the trained network's final
    /// state for learning-rate rewinding and fine-tuning; new weights start fresh. Renda et
    /// al.'s `lottery.py` restores the whole checkpoint — weights, momentum and step — and only
    /// then assigns the new masks.
    WithWeights,
}

/// Where a retraining run's survivors start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrainStart {
    /// θ_k, saved during the dense run.
    Rewound,
    /// New weights from the network's initialiser.
    Reinitialised,
    /// The trained weights they were pruned from.
    Trained,
}

/// What pruning to some level keeps, from the config alone (with the pruner's rounding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Layer-wise pruning: survivors per layer, in the order of the model's layers.
    PerLayer(Vec<i64>),
    /// Global pruning: survivors among the pooled roles' weights (their split across layers
    /// depends on the weights).
    Pooled(i64),
}

/// Which levels get a branch of a kind, how many independent copies (e.g. 3
/// reinitialisations per ticket in Frankle & Carbin), and the kind's parameters. Branches are
/// not part of the trunk identity; a branch's non-default parameters name its stage folders
/// (`<kind>-<id>_<copy>`), so two branches of one kind with other parameters never share one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BranchFile", into = "BranchFile")]
pub struct BranchConfig {
    /// The kind, carrying the identity of `params`.
    pub kind: BranchKind,
    pub levels: Vec<u32>,
    pub copies: u32,
    /// The kind's non-default parameters, canonical ([`crate::stage::Kind::params`]).
    pub params: crate::stage::Params,
}

impl BranchConfig {
    /// `copies` copies of `kind` (its default parameters) at `levels`.
    pub fn new(kind: BranchKind, levels: Vec<u32>, copies: u32) -> BranchConfig {
        BranchConfig { kind, levels, copies, params: crate::stage::Params::new() }
    }

    /// `self` with the kind's parameters `params` (checked and made canonical by the kind).
    pub fn with_params(self, params: crate::stage::Params) -> Result<BranchConfig> {
        let params = self.kind.get().params(&params).with_context(|| format!("branch {}", self.kind.as_str()))?;
        Ok(BranchConfig { kind: self.kind.with_params(crate::stage::ParamsId::of(&params)), params, ..self })
    }
}

/// A branch as a config file states it: the kind by name, its parameters beside it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchFile {
    kind: String,
    levels: Vec<u32>,
    #[serde(default = "one")]
    copies: u32,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    params: crate::stage::Params,
}

fn one() -> u32 {
    1
}

impl TryFrom<BranchFile> for BranchConfig {
    type Error = anyhow::Error;
    fn try_from(f: BranchFile) -> Result<Self> {
        // serde shows an error's Display: keep the whole chain on its one line.
        BranchConfig::new(BranchKind::named(&f.kind)?, f.levels, f.copies).with_params(f.params).map_err(|e| anyhow::format_err!("{e:#}"))
    }
}

impl From<BranchConfig> for BranchFile {
    fn from(b: BranchConfig) -> Self {
        BranchFile { kind: b.kind.as_str().to_string(), levels: b.levels, copies: b.copies, params: b.params }
    }
}

/// One IMP experiment: `replicates` independent runs of level 0 (dense) … `levels`. Unknown
/// keys are errors: a misspelt field must not be silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Folder-friendly name, e.g. `lenet-mnist`.
    pub name: String,
    /// `smoke`, `small` or `paper`: a label stored with the results.
    pub scale: String,
    pub dataset: DatasetName,
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub prune: PruneConfig,
    /// How the trunk scores survivors before each level (default: magnitude; a non-default
    /// `ticket` replaces it).
    #[serde(default)]
    pub pruner: crate::pruners::PrunerName,
    /// Pruning levels after the dense level 0.
    pub levels: u32,
    /// Rewind point k: surviving weights are reset to their value after k iterations (0 = the
    /// LTH reset to initialisation) and the learning-rate schedule restarts at k.
    #[serde(default)]
    pub rewind_iteration: u64,
    /// How pruned networks retrain from k (default: weight rewinding, as the LTH).
    #[serde(default)]
    pub retrain: Retrain,
    /// Where a retraining's optimizer state starts (default: fresh). Left out of the identity
    /// while the optimizer carries no state, where it changes nothing.
    #[serde(default)]
    pub optimizer_start: OptimizerStart,
    pub replicates: u32,
    #[serde(default)]
    pub branches: Vec<BranchConfig>,
    /// How each pruned level builds its subnetwork: mask criterion, survivors' values, pruned
    /// weights' values (Zhou et al.; default: the lottery ticket).
    #[serde(default)]
    pub ticket: crate::ticket::TicketConfig,
    /// The part of the training split trained on (default: all of it).
    #[serde(default)]
    pub train_subset: crate::data::TrainSubset,
    /// Pixels of black framing every image on each side (default 0; 2 pads Fashion-MNIST's
    /// 28×28 to CIFAR's 32×32, [`crate::data::Dataset::padded`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub input_padding: i64,
    /// Take every level's ticket from another experiment instead of pruning (Morcos et al.).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<crate::transfer::TransferConfig>,
    /// What the network is trained to do (default: image classification, left out of configs
    /// and of the trunk hash; [`crate::task`]).
    #[serde(default, skip_serializing_if = "crate::task::TaskConfig::is_default")]
    pub task: crate::task::TaskConfig,
    /// Run seed: every random stream derives from it.
    pub seed: u64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// Version of the engine's arithmetic: bumped whenever a change alters trained numbers for the
/// same config (2: fused optimizer updates, channels-last convolutions on CPU). It is part of
/// the identity hash, so stages cached by an older engine are never resumed or mixed with new
/// ones: they sit in a folder with another hash.
pub const NUMERICS_VERSION: u32 = 2;

/// A branch setting that configs once held at their top level (and so in the trunk hash) and
/// that is now its branches' `params`.
pub struct MovedSetting {
    /// The top-level key that held it.
    pub key: &'static str,
    /// The kinds whose params hold it now.
    pub kinds: &'static [BranchKind],
    /// Its value when it was left at its default (it then named nothing and is dropped on
    /// reading); `None`: it had no default.
    pub default: Option<fn() -> serde_json::Value>,
}

/// The learned supermask's settings (no default: every config with the branch stated them).
pub const MOVED_SUPERMASK: MovedSetting = MovedSetting { key: "supermask", kinds: &[BranchKind::LEARNED_SUPERMASK], default: None };

/// The spawned pairs' interpolation (every config stated it, mostly at the paper's default).
pub const MOVED_INTERPOLATION: MovedSetting = MovedSetting {
    key: "interpolation",
    kinds: &[BranchKind::SPAWN, BranchKind::SPAWN_REINIT, BranchKind::SPAWN_RANDOM_PRUNE],
    default: Some(|| serde_json::json!({ "points": crate::interpolate::PAPER_POINTS })),
};

impl MovedSetting {
    /// Whether `value` (the old top-level entry) is its default, and so droppable.
    pub fn is_default(&self, value: &serde_json::Value) -> bool {
        self.default.is_some_and(|d| *value == d() || value.as_object().is_some_and(|o| o.is_empty()))
    }

    /// The kinds' names, as messages list them.
    fn kind_names(&self) -> String {
        self.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Every setting that left the config's top level, oldest first.
static MOVED: [MovedSetting; 2] = [MOVED_SUPERMASK, MOVED_INTERPOLATION];

/// Removes the moved settings from a config's top-level fields (`take` removes a key and
/// returns its value as JSON) while each is at its default, where it named nothing; returns the
/// first holding other values, which must move into its branches instead.
fn take_moved(mut take: impl FnMut(&str) -> Option<serde_json::Value>) -> Option<&'static MovedSetting> {
    MOVED.iter().find(|m| take(m.key).is_some_and(|v| !m.is_default(&v)))
}

/// Brings a stored config (JSON, as a results file or run folder holds it; a transfer
/// experiment's source config within it too) written before settings moved from its top level
/// into branch params to today's form: a moved setting at its default is dropped; one with
/// other values is refused, naming the migration that moves it into its branches and renames
/// their stages.
pub fn upgrade_stored(config: &mut serde_json::Value) -> Result<()> {
    let Some(fields) = config.as_object_mut() else { return Ok(()) };
    if let Some(moved) = take_moved(|key| fields.remove(key)) {
        bail!(
            "it predates the move of `{}` into the params of its {} branches; migrate it with `lt-data --migrate-results <its folder>`",
            moved.key,
            moved.kind_names()
        );
    }
    match fields.get_mut("transfer").and_then(|t| t.get_mut("source")) {
        Some(source) => upgrade_stored(source),
        None => Ok(()),
    }
}

/// [`upgrade_stored`] for a config file's table (`path` names it in the error); returns
/// whether it dropped anything.
fn upgrade_file(table: &mut toml::Table, path: &std::path::Path) -> Result<bool> {
    let fields = table.len();
    if let Some(moved) = take_moved(|key| table.remove(key).map(|v| serde_json::to_value(v).unwrap_or_default())) {
        bail!(
            "config {} has a top-level [{}] table, which is now the params of its {} branches; move its keys into those branches (params = {{ … }})",
            path.display(),
            moved.key,
            moved.kind_names()
        );
    }
    let source = table.get_mut("transfer").and_then(|t| t.get_mut("source")).and_then(|s| s.as_table_mut());
    let in_source = match source {
        Some(source) => upgrade_file(source, path)?,
        None => false,
    };
    Ok(table.len() < fields || in_source)
}

/// Upper bounds on counts a user can ask for (a typo must get an error, not exhaust memory).
pub const MAX_REPLICATES: u32 = 1_000;
pub const MAX_LEVELS: u32 = 100;
pub const MAX_COPIES: u32 = 100;

/// The defaults of fields added to [`ExperimentConfig`] after its first hash (see
/// [`ExperimentConfig::hash`]); a new field goes here too.
#[derive(Serialize)]
pub struct AddedLater {
    pub pruner: crate::pruners::PrunerName,
    pub retrain: Retrain,
    pub ticket: crate::ticket::TicketConfig,
    pub train_subset: crate::data::TrainSubset,
    pub optimizer_start: OptimizerStart,
}

impl ExperimentConfig {
    /// A config with everything but the protocol's core at its default: rewinding to k = 0 with
    /// weight rewinding (the LTH), one replicate, no branches, the lottery ticket, the whole
    /// training split, no transfer, seed 0. A preset states only what differs
    /// (`ExperimentConfig { replicates: 5, ..ExperimentConfig::new(…) }`),
    /// so a field added to the engine later never touches a paper's presets.
    pub fn new(name: String, scale: &str, dataset: DatasetName, model: ModelConfig, train: TrainConfig, prune: PruneConfig, levels: u32) -> Self {
        ExperimentConfig {
            name,
            scale: scale.into(),
            dataset,
            model,
            train,
            prune,
            pruner: crate::pruners::PrunerName::MAGNITUDE,
            levels,
            rewind_iteration: 0,
            retrain: Retrain::default(),
            optimizer_start: OptimizerStart::Fresh,
            replicates: 1,
            branches: Vec::new(),
            ticket: crate::ticket::TicketConfig::LOTTERY,
            train_subset: crate::data::TrainSubset::All,
            input_padding: 0,
            transfer: None,
            task: crate::task::TaskConfig::default(),
            seed: 0,
        }
    }

    const ADDED_LATER_DEFAULTS: AddedLater = AddedLater {
        pruner: crate::pruners::PrunerName::MAGNITUDE,
        retrain: Retrain::WeightRewind,
        ticket: crate::ticket::TicketConfig::LOTTERY,
        train_subset: crate::data::TrainSubset::All,
        optimizer_start: OptimizerStart::Fresh,
    };

    /// Trunk identity (12 hex digits): everything but `replicates` and `branches`, plus
    /// [`NUMERICS_VERSION`]; a transfer source by its own trunk identity.
    pub fn hash(&self) -> String {
        let mut v = serde_json::to_value(self).expect("config serialises");
        let fields = v.as_object_mut().expect("object");
        fields.remove("replicates");
        fields.remove("branches");
        // A transfer source enters by its own trunk identity (its trials and branches do not
        // change the tickets).
        if let (Some(t), Some(transfer)) = (&self.transfer, fields.get_mut("transfer").and_then(|v| v.as_object_mut())) {
            transfer.insert("source".into(), t.source.hash().into());
        }
        // Fields added after configs were first hashed, left out while they hold their default.
        let defaults = serde_json::to_value(Self::ADDED_LATER_DEFAULTS).expect("defaults serialise");
        for (key, default) in defaults.as_object().expect("object") {
            if fields.get(key) == Some(default) {
                fields.remove(key);
            }
        }
        if !self.train.optimizer.has_state() {
            fields.remove("optimizer_start");
        }
        fields.insert("numerics_version".into(), NUMERICS_VERSION.into());
        crate::util::sha256_hex(v.to_string().as_bytes())[..12].to_string()
    }

    /// Reads a config as a results file or run folder stores it (JSON), written by this version
    /// or an earlier one ([`upgrade_stored`]).
    pub fn from_stored_json(json: &str) -> Result<Self> {
        let mut config: serde_json::Value = serde_json::from_str(json).context("unreadable config")?;
        upgrade_stored(&mut config)?;
        serde_json::from_value(config).context("unreadable config")
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises to TOML")
    }

    /// Reads a TOML config, with the file named in any error.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self> {
        let mut text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
        if let Ok(mut table) = toml::from_str::<toml::Table>(&text) {
            if upgrade_file(&mut table, path)? {
                text = toml::to_string(&table).expect("a table read from TOML writes back");
            }
        }
        toml::from_str(&text).map_err(|e| {
            let msg = e.to_string().lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
            anyhow::format_err!("config {} is invalid: {msg}", path.display())
        })
    }

    /// Checks the config as a whole (training values are checked again against the dataset).
    pub fn validate(&self) -> Result<()> {
        self.model.arch.validate()?;
        self.prune.validate()?;
        self.train.validate_values()?;
        if self.rewind_iteration >= self.train.iterations {
            bail!(
                "rewind iteration {} is beyond the training length of {} iterations; choose a rewind iteration below it",
                self.rewind_iteration,
                self.train.iterations
            );
        }
        if self.replicates == 0 {
            bail!("0 replicates requested; use --trials 1 or more");
        }
        if self.replicates > MAX_REPLICATES {
            bail!("{} replicates requested; at most {MAX_REPLICATES} trials are allowed", self.replicates);
        }
        if self.levels > MAX_LEVELS {
            bail!("{} pruning levels requested; at most {MAX_LEVELS} are allowed (0.8^{MAX_LEVELS} already leaves 1e-10 of the weights)", self.levels);
        }
        self.ticket.validate(self)?;
        if self.ticket.criterion.is_some() && self.pruner != crate::pruners::PrunerName::MAGNITUDE {
            bail!("pruner `{}` and the ticket's criterion both choose the mask; keep one (a criterion replaces the pruner)", self.pruner);
        }
        self.train_subset.validate()?;
        if !(0..=64).contains(&self.input_padding) {
            bail!("input_padding = {}: pad 0 to 64 pixels (2 pads 28×28 images to 32×32)", self.input_padding);
        }
        if let Some(t) = &self.transfer {
            t.validate(self)?;
        }
        self.task.validate()?;
        for b in &self.branches {
            if b.copies == 0 || b.copies > MAX_COPIES {
                bail!("branch {} asks for {} copies; choose 1 to {MAX_COPIES}", b.kind.as_str(), b.copies);
            }
            b.kind.get().validate(b, self)?;
            if let Some(l) = b.levels.iter().find(|&&l| l > self.levels) {
                bail!("branch {} asks for level {l}, but the experiment stops at level {}", b.kind.as_str(), self.levels);
            }
        }
        Ok(())
    }

    /// Fraction of prunable weights remaining at each level 0..=levels on `layers` (the Pm
    /// ladder), computed with the same rounding as the pruner.
    pub fn ladder(&self, layers: &[crate::models::LayerInfo]) -> Vec<f64> {
        let total: i64 = layers.iter().map(|l| l.numel).sum();
        let unpruned = |roles: &[crate::models::LayerRole]| -> i64 { layers.iter().filter(|l| !roles.contains(&l.role)).map(|l| l.numel).sum() };
        (0..=self.levels)
            .map(|level| {
                let alive = match (self.kept_at(level, layers), &self.prune) {
                    (Kept::PerLayer(kept), _) => kept.iter().sum::<i64>(),
                    (Kept::Pooled(kept), PruneConfig::Global { roles, .. }) => kept + unpruned(roles),
                    (Kept::Pooled(kept), _) => kept,
                };
                alive as f64 / total as f64
            })
            .collect()
    }

    /// What IMP keeps at `level` of `layers` — the same counts whatever the weights, so a
    /// one-shot pruning to a level needs no trained trunk.
    pub fn kept_at(&self, level: u32, layers: &[crate::models::LayerInfo]) -> Kept {
        match &self.prune {
            PruneConfig::LayerWise { .. } => {
                let mut alive: Vec<i64> = layers.iter().map(|l| l.numel).collect();
                for _ in 0..level {
                    for (a, l) in alive.iter_mut().zip(layers) {
                        *a -= self.prune.removed(self.prune.rate(l.role), *a);
                    }
                }
                Kept::PerLayer(alive)
            }
            PruneConfig::Global { fraction, roles } => {
                let mut pooled: i64 = layers.iter().filter(|l| roles.contains(&l.role)).map(|l| l.numel).sum();
                for _ in 0..level {
                    pooled -= crate::prune::prune_count(*fraction, pooled);
                }
                Kept::Pooled(pooled)
            }
        }
    }
}
