//! The paper's protocol as data: one experiment config per game, rewind point and scale.
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
//! CartPole (3 trials) and on Acrobot (1 trial, random tickets at every other level, no
//! ablations); `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::rl::a2c::A2cParams;
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
    pub fn experiment(self, late: bool) -> &'static str {
        match (self, late) {
            (Game::CartPole, true) => "cartpole",
            (Game::CartPole, false) => "cartpole-k0",
            (Game::Acrobot, true) => "acrobot",
            (Game::Acrobot, false) => "acrobot-k0",
        }
    }
}

pub static EXPERIMENTS: [ExperimentSpec; 4] = [
    ExperimentSpec { name: "cartpole", label: "CartPole-v0, late rewinding", dataset: DatasetName::CartPole, fallback: None },
    ExperimentSpec { name: "cartpole-k0", label: "CartPole-v0, rewinding to θ_0", dataset: DatasetName::CartPole, fallback: None },
    ExperimentSpec { name: "acrobot", label: "Acrobot-v1, late rewinding", dataset: DatasetName::Acrobot, fallback: None },
    ExperimentSpec { name: "acrobot-k0", label: "Acrobot-v1, rewinding to θ_0", dataset: DatasetName::Acrobot, fallback: None },
];

/// `small` leaves out Acrobot's no-rewind ablation (an hour on 2 cores holds one Acrobot run).
pub fn included(experiment: &str, scale: Scale) -> bool {
    experiment != "acrobot-k0" || scale == Scale::Paper
}

fn parse(name: &str) -> (Game, bool) {
    match name {
        "cartpole" => (Game::CartPole, true),
        "cartpole-k0" => (Game::CartPole, false),
        "acrobot" => (Game::Acrobot, true),
        "acrobot-k0" => (Game::Acrobot, false),
        other => panic!("no experiment `{other}`"),
    }
}

/// The preset of the experiment called `name` (one of [`EXPERIMENTS`]).
pub fn preset(name: &str, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let (game, late) = parse(name);
    experiment(game, late, scale, dataset)
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
        (Scale::Small, Game::Acrobot) => (1, 20),
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
