//! The paper's protocol as data: one experiment config per game or language model, rewind
//! point and scale.
//!
//! **Language modelling** (§2.2): a 2-layer LSTM, embedding and hidden 650, dropout 0.5 between
//! the layers, untied decoder; truncated BPTT of 50 words, batch 30; Adam 1e-3 with ε 1e-3;
//! 10 epochs per ticket on WikiText-2, rewound to the end of epoch 1; iterative pruning of 20 %
//! of every parameter per round (embeddings, LSTM, decoder, biases) for 20 rounds; the metric is
//! the test set's log perplexity after training. Ablations: no late rewinding, one-shot; and the
//! embeddings and softmax kept dense (only the LSTM pruned; the paper runs this comparison on
//! its Transformer, Fig. 2 right). WikiText-2 is read from `data/wikitext-2` when present; the
//! Brown Corpus stands in otherwise (no registry ships WikiText-2), and every figure says which.
//! `small` (papers-round3.md §2.7): embedding and hidden 128, BPTT 35, batch 20, two epochs per
//! ticket (after one, the dense LSTM with the paper's Adam ε = 1e-3 is no better than a unigram
//! model: 6.063 vs 6.044 nats; after two, 5.646), rewound to 10 % of training (the paper's epoch
//! 1 of 10), 36 % pruned per level (two of the paper's rounds) for 5 levels (89 %), one trial;
//! one-shot at levels 1, 3, 5.
//!
//! Yu et al.'s classic-control protocol (`shared/reference/papers-round3.md` §2.1, §2.3, Table
//! A1): an actor–critic MLP (CartPole-v0 128-128-128, Acrobot-v1 256-256-256) trained by A2C —
//! 32 games × 4 steps per update, rewards / 100, γ 0.99, RMSprop 1e-4 (α 0.99, ε 1e-8) — for
//! N = 20 epochs of M games (CartPole 160, Acrobot 320); a ticket's reward is the mean of its
//! last L = 100 games. Iterative pruning removes 20 % of the surviving parameters per round,
//! globally over every weight *and bias* (20 rounds: 98.8 % pruned), and late rewinding resets
//! the survivors to the weights after epoch 1 (k = M games). Random tickets: the ticket's mask on
//! a new draw of the initialiser, trained the same way (the paper does not say whether its
//! random tickets keep the winning mask; this is Frankle & Carbin's control). Ablations (Fig. 6):
//! no late rewinding (k = 0) and one-shot pruning to each level from the dense network.
//! PyTorch's default initialiser (FLARE's networks). Values FLARE's code gives and the paper
//! does not state: the one-step TD actor–critic with an entropy weight of 0.01 (FLARE's
//! `SimpleAC` default). `paper` is this protocol, 3 runs per game; `small` runs it unchanged on
//! CartPole (3 trials) and on Acrobot (3 trials, random tickets at every other level, no
//! ablations); `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::rl::a2c::A2cParams;
use common::task::language_model::LmParams;
use common::task::{TaskConfig, TaskName};
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};

/// A game of Table A1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Game {
    CartPole,
    Acrobot,
}

impl Game {
    pub fn label(self) -> &'static str {
        match self {
            Game::CartPole => "CartPole-v0",
            Game::Acrobot => "Acrobot-v1",
        }
    }

    /// The experiment with late rewinding (`cartpole`), or without (`cartpole-k0`).
    pub const fn experiment(self, late: bool) -> &'static str {
        match (self, late) {
            (Game::CartPole, true) => "cartpole",
            (Game::CartPole, false) => "cartpole-k0",
            (Game::Acrobot, true) => "acrobot",
            (Game::Acrobot, false) => "acrobot-k0",
        }
    }
}

/// An experiment: a game rewound late or to θ_0, or a language-model variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Experiment {
    Game { game: Game, late: bool },
    Lm(LmVariant),
}

/// Its results files read back.
pub type Loaded = harness::Loaded<Experiment>;
pub type Results = harness::Results<Experiment>;

const fn game(game: Game, late: bool, label: &'static str) -> ExperimentSpec<Experiment> {
    let dataset = match game {
        Game::CartPole => DatasetName::CartPole,
        Game::Acrobot => DatasetName::Acrobot,
    };
    ExperimentSpec { id: Experiment::Game { game, late }, name: game.experiment(late), label, dataset, fallback: None }
}

const fn lm(variant: LmVariant, label: &'static str) -> ExperimentSpec<Experiment> {
    ExperimentSpec { id: Experiment::Lm(variant), name: variant.experiment(), label, dataset: DatasetName::Wikitext2, fallback: Some(DatasetName::Brown) }
}

pub static EXPERIMENTS: [ExperimentSpec<Experiment>; 7] = [
    game(Game::CartPole, true, "CartPole-v0, late rewinding"),
    game(Game::CartPole, false, "CartPole-v0, rewinding to θ_0"),
    game(Game::Acrobot, true, "Acrobot-v1, late rewinding"),
    game(Game::Acrobot, false, "Acrobot-v1, rewinding to θ_0"),
    lm(LmVariant::Full, "LSTM LM, late rewinding"),
    lm(LmVariant::NoRewind, "LSTM LM, rewinding to θ_0"),
    lm(LmVariant::DenseEmbeddings, "LSTM LM, embeddings and softmax dense"),
];

/// A language-model experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LmVariant {
    /// Every parameter pruned, late rewinding: winning and random tickets, one-shot.
    Full,
    /// Every parameter pruned, rewound to θ_0.
    NoRewind,
    /// Only the LSTM's weights and biases pruned: winning and random tickets.
    DenseEmbeddings,
}

impl LmVariant {
    pub const fn experiment(self) -> &'static str {
        match self {
            LmVariant::Full => "lstm",
            LmVariant::NoRewind => "lstm-k0",
            LmVariant::DenseEmbeddings => "lstm-dense-embeddings",
        }
    }
}

/// `small` leaves out Acrobot's no-rewind ablation (an hour on 2 cores holds one Acrobot run).
pub fn included(e: Experiment, scale: Scale) -> bool {
    e != Experiment::Game { game: Game::Acrobot, late: false } || scale == Scale::Paper
}

/// The config of experiment `e` at `scale` on `dataset` (seed 0).
pub fn preset(e: Experiment, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    match e {
        Experiment::Lm(variant) => language_model(variant, scale, dataset),
        Experiment::Game { game, late } => experiment(game, late, scale, dataset),
    }
}

/// Training words of the corpus after batching, as the task counts them: iterations per epoch
/// are `words / batch / bptt` (smoke: a synthetic corpus of the test suite's size).
fn iterations_per_epoch(dataset: DatasetName, batch: u64, bptt: u64) -> u64 {
    let words: u64 = match dataset {
        // Predictions in the training stream (words and <eos> − 1): `lt-data brown` prints it.
        DatasetName::Wikitext2 => 2_088_627,
        DatasetName::Brown => 974_617,
        _ => 3_999,
    };
    (words / batch / bptt).max(1)
}

/// The config of the language-model experiment `variant` at `scale` on `dataset` (seed 0).
pub fn language_model(variant: LmVariant, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let (width, bptt, batch, epochs, fraction, levels) = match scale {
        Scale::Paper => (650, 50, 30, 10, 0.2, 20),
        Scale::Small => (128, 35, 20, 2, 0.36, 5),
        Scale::Smoke => (16, 10, 4, 1, 0.36, 2),
    };
    let per_epoch = iterations_per_epoch(dataset, batch, bptt);
    let iterations = per_epoch * epochs;
    // The paper rewinds to the end of epoch 1 of 10: 10 % of training.
    let k = if variant == LmVariant::NoRewind { 0 } else { (iterations / 10).max(1) };
    let roles = match variant {
        LmVariant::DenseEmbeddings => vec![LayerRole::Recurrent, LayerRole::Bias],
        _ => vec![LayerRole::Embedding, LayerRole::Recurrent, LayerRole::Bias, LayerRole::Output],
    };
    let all: Vec<u32> = (0..=levels).collect();
    let branches = match variant {
        LmVariant::NoRewind => vec![],
        LmVariant::DenseEmbeddings => vec![BranchConfig::new(BranchKind::REINIT, all, 1)],
        LmVariant::Full => {
            let oneshot = if scale == Scale::Paper { all[1..].to_vec() } else { all[1..].iter().copied().step_by(2).collect() };
            vec![BranchConfig::new(BranchKind::REINIT, all, 1), BranchConfig::new(BranchKind::ONESHOT, oneshot, 1)]
        }
    };
    let train = TrainConfig {
        optimizer: OptimizerConfig::Adam { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-3, weight_decay: 0.0 },
        schedule: Schedule::constant(),
        batch_size: batch as i64,
        iterations,
        // Every epoch, as the paper (smoke: one epoch, evaluated at its start and end).
        eval_every: if epochs > 1 { per_epoch } else { iterations },
        augment: false,
        test_eval: TestEval::Always,
    };
    let params = LmParams { bptt: bptt as usize, ..LmParams::default() };
    let model = ModelConfig { arch: Arch::Lstm { embedding: width, hidden: width, layers: 2 }, init: InitKind::TorchDefault };
    let name = format!("{}-{}", variant.experiment(), dataset.as_str());
    ExperimentConfig {
        // `small`: the 3 trials the committed results hold (~70 min each on a 2-core Xeon).
        replicates: match scale {
            Scale::Paper => 3,
            Scale::Small => 3,
            Scale::Smoke => 1,
        },
        branches,
        rewind_iteration: k,
        task: TaskConfig::new(TaskName::LANGUAGE_MODEL, &params).expect("valid language-model settings"),
        ..ExperimentConfig::new(name, scale.as_str(), dataset, model, train, PruneConfig::Global { fraction, roles }, levels)
    }
}

/// Games per epoch M and epochs N at `scale` (Table A1; smoke: 4 epochs of 8 games).
pub fn schedule(game: Game, scale: Scale) -> (u64, u64) {
    match (scale, game) {
        (Scale::Smoke, _) => (8, 4),
        (_, Game::CartPole) => (160, 20),
        (_, Game::Acrobot) => (320, 20),
    }
}

/// The config of `game` with late rewinding (`late`) or without, at `scale` on `dataset` (the
/// game's environment; seed 0).
pub fn experiment(game: Game, late: bool, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let (per_epoch, epochs) = schedule(game, scale);
    let hidden = match (scale, game) {
        (Scale::Smoke, _) => vec![16, 16],
        (_, Game::CartPole) => vec![128, 128, 128],
        (_, Game::Acrobot) => vec![256, 256, 256],
    };
    let params = match scale {
        Scale::Smoke => A2cParams { envs: 4, last_games: 8, ..A2cParams::default() },
        _ => A2cParams::default(),
    };
    let (replicates, levels) = match (scale, game) {
        (Scale::Smoke, _) => (1, 3),
        _ => (3, 20),
    };
    let all: Vec<u32> = (0..=levels).collect();
    let branches = match (late, scale, game) {
        (false, _, _) => vec![],
        (true, Scale::Small, Game::Acrobot) => vec![BranchConfig::new(BranchKind::REINIT, all.iter().copied().filter(|l| l % 2 == 0).collect(), 1)],
        (true, _, _) => vec![BranchConfig::new(BranchKind::REINIT, all.clone(), 1), BranchConfig::new(BranchKind::ONESHOT, all[1..].to_vec(), 1)],
    };
    let train = TrainConfig {
        optimizer: OptimizerConfig::Rmsprop { lr: 1e-4, alpha: 0.99, eps: 1e-8, weight_decay: 0.0 },
        schedule: Schedule::constant(),
        batch_size: (params.envs * params.steps) as i64,
        iterations: per_epoch * epochs,
        eval_every: per_epoch,
        augment: false,
        test_eval: TestEval::Always,
    };
    let prune = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc, LayerRole::Output, LayerRole::Bias] };
    let model = ModelConfig { arch: Arch::ActorCritic { hidden }, init: InitKind::TorchDefault };
    let name = format!("{}-{}", game.experiment(late), dataset.as_str());
    ExperimentConfig {
        replicates,
        branches,
        rewind_iteration: if late { per_epoch } else { 0 },
        task: TaskConfig::new(TaskName::ACTOR_CRITIC, &params).expect("valid actor-critic settings"),
        ..ExperimentConfig::new(name, scale.as_str(), dataset, model, train, prune, levels)
    }
}
