//! The paper's protocol as data: one experiment per network, retraining method and budget t.
//!
//! A network is trained for T iterations (the trunk's level 0), pruned, and retrained for a
//! budget of t iterations by one of five methods (papers.md §3.1): fine-tuning (FT, the final
//! weights at the schedule's final rate), weight rewinding (WR, θ_{T−t} with the schedule from
//! T − t), learning-rate rewinding (LRR, the final weights with the schedule from T − t), and
//! the authors' two ablations, low-LR weight rewinding and reinitialise-and-train. In our
//! engine t is `T − rewind_iteration` and the method is `retrain`, so each (method, t) is one
//! experiment (`resnet-20-lrr-t50`). One-shot pruning to 1.95×, 4.77× and 9.31× (levels 3, 7
//! and 10 of 20 % global pruning) is a branch of every experiment; iterative pruning at 20 %
//! per round is its trunk, drawn for the paper's iterative methods (LRR and FT with t = T, WR
//! with t = 0.9·T).
//!
//! `paper` is §3.2: ResNet-20 and ResNet-56 on CIFAR-10, 182 epochs (71,108 iterations), batch
//! 128, SGD 0.1 momentum 0.9, ×0.1 at epochs 91 and 136, weight decay 2e-4, augmentation,
//! global magnitude pruning of conv and linear weights; budgets t ∈ {0.25, 0.5, 0.75, 0.9, 1}·T;
//! 3 trials; every retraining restores the optimizer state saved with its start weights (θ_k's
//! momentum for weight rewinding, the trained network's for learning-rate rewinding and
//! fine-tuning; `vision/lottery/lottery/lottery.py` restores the whole checkpoint).
//! LeNet-300-100 on MNIST (not in the paper) uses open_lth's LeNet recipe (SGD 0.1, batch 128,
//! 16 epochs) with drops at the same fractions of T.
//!
//! `small` is LeNet-300-100 on MNIST (4,000 iterations, 3 trials, the full grid) and a reduced
//! ResNet-20 (width 8, 600 iterations, 3 trials; FT, WR and LRR at t = 0.75, 0.9 and 1·T,
//! one-shot to 4.77× only, no iterative trunk) on Fashion-MNIST where CIFAR-10 is absent — at
//! ~0.2 s a ResNet step on this CPU the full grid needs `paper` on a GPU. `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig, OptimizerStart, Retrain};
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Lenet,
    Resnet20,
    Resnet56,
}

impl Net {
    pub const ALL: [Net; 3] = [Net::Lenet, Net::Resnet20, Net::Resnet56];

    pub fn name(self) -> &'static str {
        match self {
            Net::Lenet => "lenet",
            Net::Resnet20 => "resnet-20",
            Net::Resnet56 => "resnet-56",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Net::Lenet => "LeNet-300-100",
            Net::Resnet20 => "ResNet-20",
            Net::Resnet56 => "ResNet-56",
        }
    }
}

/// The budgets and methods ResNet-20 runs at `small` (one-shot to 4.77× only): enough
/// for the one-shot claims at t = 0.75·T and for weight rewinding's collapse at t = T.
const RESNET_SMALL: ([Retrain; 3], [u64; 3]) = ([Retrain::FineTune, Retrain::WeightRewind, Retrain::LrRewind], [75, 90, 100]);

/// The retraining methods, with the names the figures use.
pub const METHODS: [(Retrain, &str, &str); 5] = [
    (Retrain::FineTune, "ft", "fine-tuning"),
    (Retrain::WeightRewind, "wr", "weight rewinding"),
    (Retrain::LrRewind, "lrr", "learning-rate rewinding"),
    (Retrain::LowLrWeightRewind, "lowlr-wr", "low-LR weight rewinding"),
    (Retrain::Reinit, "reinit", "reinitialise and train"),
];

/// Retraining budgets, in percent of T.
pub const BUDGETS: [u64; 5] = [25, 50, 75, 90, 100];

/// One-shot compression levels: 0.8^level of the weights remain (1.95×, 4.77×, 9.31×).
pub const ONESHOT_LEVELS: [u32; 3] = [3, 7, 10];

/// The iterative runs the paper compares (§3.1, "our algorithm" and its baselines): LRR and FT
/// for the full T each round, WR at the largest budget ≤ 0.9·T.
pub const ITERATIVE: [(Retrain, u64); 3] = [(Retrain::LrRewind, 100), (Retrain::WeightRewind, 90), (Retrain::FineTune, 100)];

/// This paper's experiment type.
pub type Experiment = Setting;
/// Its results files read back.
pub type Loaded = harness::Loaded<Setting>;
pub type Results = harness::Results<Setting>;

/// One experiment: a network retrained by one method with one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub net: Net,
    pub method: Retrain,
    /// Budget t in percent of T.
    pub budget: u64,
}

impl Setting {
    pub fn short(self) -> &'static str {
        METHODS.iter().find(|m| m.0 == self.method).map(|m| m.1).expect("every method is listed")
    }

    pub fn name(self) -> String {
        format!("{}-{}-t{}", self.net.name(), self.short(), self.budget)
    }

    /// Whether its trunk (iterative pruning) is drawn at `scale` (not for ResNet-20 at `small`).
    pub fn iterative(self, scale: &str) -> bool {
        ITERATIVE.contains(&(self.method, self.budget)) && (self.net == Net::Lenet || scale == "paper")
    }

    /// Whether the experiment is part of `scale`: everything at `paper`; LeNet, and a reduced
    /// ResNet-20 grid on a shortened schedule, at `small`; LeNet at `smoke`.
    pub fn runs_at(self, scale: Scale) -> bool {
        match (scale, self.net) {
            (Scale::Paper, _) | (_, Net::Lenet) => true,
            (Scale::Small, Net::Resnet20) => RESNET_SMALL.0.contains(&self.method) && RESNET_SMALL.1.contains(&self.budget),
            _ => false,
        }
    }
}

fn grid() -> impl Iterator<Item = Setting> {
    Net::ALL.into_iter().flat_map(|net| METHODS.iter().flat_map(move |&(method, ..)| BUDGETS.iter().map(move |&budget| Setting { net, method, budget })))
}

/// Every experiment, in the paper's order.
pub static EXPERIMENTS: LazyLock<Vec<ExperimentSpec<Setting>>> = LazyLock::new(|| {
    grid()
        .map(|s| {
            let (dataset, fallback) = match s.net {
                Net::Lenet => (DatasetName::Mnist, None),
                _ => (DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
            };
            let leak = |x: String| -> &'static str { Box::leak(x.into_boxed_str()) };
            let label = METHODS.iter().find(|m| m.0 == s.method).map(|m| m.2).unwrap_or("");
            ExperimentSpec { id: s, name: leak(s.name()), label: leak(format!("{}, {label}, t = {} % of T", s.net.label(), s.budget)), dataset, fallback }
        })
        .collect()
});

/// Every experiment, in the paper's order (what each figure may draw from).
pub static ALL: LazyLock<Vec<Setting>> = LazyLock::new(|| EXPERIMENTS.iter().map(|e| e.id).collect());

/// Whether `scale` includes experiment `s`.
pub fn included(s: Setting, scale: Scale) -> bool {
    s.runs_at(scale)
}

/// The config of `s` at `scale` on `dataset` (seed 0).
pub fn preset(s: Setting, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let (model, train, prune) = match s.net {
        Net::Lenet => lenet(scale),
        Net::Resnet20 => resnet(scale, 20),
        Net::Resnet56 => resnet(scale, 56),
    };
    let t = (train.iterations * s.budget).div_ceil(100);
    let oneshot: Vec<u32> = match (scale, s.net) {
        (Scale::Smoke, _) => vec![1, 3],
        (Scale::Small, Net::Resnet20) => vec![7],
        _ => ONESHOT_LEVELS.to_vec(),
    };
    let levels = *oneshot.last().expect("levels");
    ExperimentConfig {
        rewind_iteration: train.iterations - t,
        retrain: s.method,
        // The authors' lottery.py restores the whole checkpoint it rewinds to — weights and
        // momentum — before it assigns the new mask (a no-op for LeNet's momentum-free SGD).
        optimizer_start: OptimizerStart::WithWeights,
        replicates: if scale == Scale::Smoke { 1 } else { 3 },
        branches: vec![BranchConfig::new(BranchKind::ONESHOT, oneshot, 1)],
        ..ExperimentConfig::new(format!("{}-{}", s.name(), dataset.as_str()), scale.as_str(), dataset, model, train, prune, levels)
    }
}

/// Drops ×0.1 at epochs 91 and 136 of 182: the same fractions of any T.
fn schedule(iterations: u64) -> Schedule {
    let at = |f: f64| (iterations as f64 * f).round() as u64;
    Schedule { milestones: vec![at(91.0 / 182.0), at(136.0 / 182.0)], gamma: 0.1, warmup: 0 }
}

fn lenet(scale: Scale) -> (ModelConfig, TrainConfig, PruneConfig) {
    let (iterations, eval_every) = match scale {
        Scale::Paper => (6_875, 500),
        Scale::Small => (4_000, 500),
        Scale::Smoke => (200, 50),
    };
    (
        ModelConfig { arch: Arch::Lenet { hidden: vec![300, 100] }, init: InitKind::KaimingNormal },
        TrainConfig {
            optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.0, nesterov: false, weight_decay: 0.0 },
            schedule: schedule(iterations),
            batch_size: 128,
            iterations,
            eval_every,
            augment: false,
            test_eval: TestEval::Always,
        },
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc, LayerRole::Output] },
    )
}

fn resnet(scale: Scale, depth: u32) -> (ModelConfig, TrainConfig, PruneConfig) {
    // (iterations, evaluation interval, width): `small` is ResNet-20 at width 8 for 600
    // iterations (~1.4 epochs), its drops at the same fractions of T.
    let (iterations, eval_every, width) = match scale {
        Scale::Paper => (71_108, 2_000, 16),
        Scale::Small => (600, 300, 8),
        Scale::Smoke => (60, 30, 4),
    };
    let arch = if depth == 20 { Arch::Resnet20 { width } } else { Arch::Resnet56 { width } };
    (
        ModelConfig { arch, init: InitKind::KaimingNormal },
        TrainConfig {
            optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 2e-4 },
            schedule: schedule(iterations),
            batch_size: 128,
            iterations,
            eval_every,
            augment: true,
            test_eval: TestEval::Always,
        },
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Shortcut, LayerRole::Fc, LayerRole::Output] },
    )
}
