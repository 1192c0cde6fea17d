//! The paper's protocol as data: one experiment per network and spawn/rewind iteration k.
//!
//! Instability analysis from step k trains θ_0 → θ_k (the trunk's level 0, which also trains on
//! to T) and spawns copies θ_k → θ_T with independent data orders and augmentation, compared in
//! pairs along the straight line between them. IMP with rewinding to k (levels 1…) finds the
//! sparse subnetworks, analysed the same way at the level the paper reports, beside random
//! pruning and random reinitialisation of that level. k is the run's rewind iteration, so each
//! k is one experiment with its own trunk (`lenet-k500`).
//!
//! `paper` is Table 1 of the paper and open_lth's defaults (papers.md §6.3, partly from memory
//! there): LeNet-300-100 on MNIST, Adam 1.2e-3, batch 60, 24K iterations; ResNet-20 (width 16)
//! on CIFAR-10, SGD 0.1, momentum 0.9, weight decay 1e-4, batch 128, 63K iterations, ×0.1 at
//! 32K and 48K, augmentation; Kaiming-normal init; global magnitude pruning of 20 % per level
//! (every LeNet layer; ResNet conv weights, not the output layer, as open_lth); 3 trials × 3
//! data-order pairs; IMP analysed at 3.5 % (LeNet, level 15) and 16.8 % (ResNet-20, level 8).
//!
//! `small` keeps every recipe value but lengths and counts (one trial; LeNet 6K iterations, two
//! pairs per k, IMP to level 15; ResNet-20 at width 8 on 1K iterations with its drops at the
//! same fractions, one pair per k, dense only — its IMP analysis needs `paper` on a GPU; the
//! train-error path on the first 10,000 training examples). `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig, Interpolation};
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};

/// The networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Lenet,
    Resnet20,
}

impl Net {
    pub const ALL: [Net; 2] = [Net::Lenet, Net::Resnet20];

    pub fn name(self) -> &'static str {
        match self {
            Net::Lenet => "lenet",
            Net::Resnet20 => "resnet-20",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Net::Lenet => "LeNet-300-100",
            Net::Resnet20 => "ResNet-20",
        }
    }

    /// The IMP level the paper analyses: 3.5 % of weights remaining for LeNet (0.8^15), 16.8 %
    /// for ResNet-20 (0.8^8).
    pub fn sparse_level(self) -> u32 {
        match self {
            Net::Lenet => 15,
            Net::Resnet20 => 8,
        }
    }

}

/// The experiment `<net>-k<k>` for every k of the grid: the coarse grid of papers.md §6.5 (LeNet
/// 0, 100, 500, 2000; ResNet-20 0, 100, 250, 500, 1000, 2000 — the paper's dense ResNet-20
/// becomes stable near 2000, its IMP subnetworks near 500).
pub const EXPERIMENTS: [ExperimentSpec; 10] = [
    spec("lenet-k0", "LeNet-300-100, k = 0", DatasetName::Mnist, None),
    spec("lenet-k100", "LeNet-300-100, k = 100", DatasetName::Mnist, None),
    spec("lenet-k500", "LeNet-300-100, k = 500", DatasetName::Mnist, None),
    spec("lenet-k2000", "LeNet-300-100, k = 2000", DatasetName::Mnist, None),
    spec("resnet-20-k0", "ResNet-20, k = 0", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
    spec("resnet-20-k100", "ResNet-20, k = 100", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
    spec("resnet-20-k250", "ResNet-20, k = 250", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
    spec("resnet-20-k500", "ResNet-20, k = 500", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
    spec("resnet-20-k1000", "ResNet-20, k = 1000", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
    spec("resnet-20-k2000", "ResNet-20, k = 2000", DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
];

/// Whether experiment `<net>-k<k>` runs at `scale`: `small` trains ResNet-20 for 1,000
/// iterations, so its grid stops at k = 500; `smoke` keeps ResNet-20 to k = 0 and 100.
pub fn runs_at(net: Net, k: u64, scale: Scale) -> bool {
    match (scale, net) {
        (Scale::Small, Net::Resnet20) => k <= 500,
        (Scale::Smoke, Net::Resnet20) => k <= 100,
        _ => true,
    }
}

const fn spec(name: &'static str, label: &'static str, dataset: DatasetName, fallback: Option<DatasetName>) -> ExperimentSpec {
    ExperimentSpec { name, label, dataset, fallback }
}

/// The network and k of an experiment name (the harness only passes names it listed).
pub fn parse(experiment: &str) -> (Net, u64) {
    let (net, k) = experiment.rsplit_once("-k").unwrap_or_else(|| panic!("no experiment `{experiment}`"));
    let net = Net::ALL.into_iter().find(|n| n.name() == net).unwrap_or_else(|| panic!("no network `{net}`"));
    (net, k.parse().unwrap_or_else(|_| panic!("no k in `{experiment}`")))
}

/// The experiment name of `net` at `k`.
pub fn name(net: Net, k: u64) -> String {
    format!("{}-k{k}", net.name())
}

/// Spawned pairs per k and trial at each scale: (dense and IMP pairs, control pairs).
fn pairs(net: Net, scale: Scale) -> (u32, u32) {
    match (scale, net) {
        (Scale::Paper, _) => (3, 3),
        (Scale::Small, Net::Lenet) => (2, 1),
        (Scale::Small, Net::Resnet20) => (1, 1),
        (Scale::Smoke, _) => (1, 1),
    }
}

/// The config of `net` at rewind/spawn iteration `k`, `scale` and `dataset` (seed 0).
pub fn experiment(net: Net, k: u64, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let (spawn_pairs, control_pairs) = pairs(net, scale);
    let sparse = match scale {
        Scale::Smoke => 2,
        _ => net.sparse_level(),
    };
    let branches = vec![
        BranchConfig { kind: BranchKind::Spawn, levels: vec![0, sparse], copies: 2 * spawn_pairs },
        BranchConfig { kind: BranchKind::SpawnReinit, levels: vec![sparse], copies: 2 * control_pairs },
        BranchConfig { kind: BranchKind::SpawnRandomPrune, levels: vec![sparse], copies: 2 * control_pairs },
    ];
    let (model, train, prune) = match net {
        Net::Lenet => lenet(scale),
        Net::Resnet20 => resnet20(scale),
    };
    let name = format!("{}-{}", name(net, k), dataset.as_str());
    // Smoke trains 200 (LeNet) or 60 (ResNet-20) iterations: its k are divided by 50 to fit.
    let k = if scale == Scale::Smoke { k / 50 } else { k };
    ExperimentConfig {
        name,
        scale: scale.as_str().into(),
        dataset,
        model,
        train,
        prune,
        levels: sparse,
        rewind_iteration: k,
        retrain: Default::default(),
        replicates: if scale == Scale::Paper { 3 } else { 1 },
        branches,
        interpolation: match scale {
            Scale::Paper => Interpolation::PAPER,
            _ => Interpolation { points: Interpolation::PAPER.points, train_examples: Some(10_000) },
        },
        seed: 0,
    }
}

fn lenet(scale: Scale) -> (ModelConfig, TrainConfig, PruneConfig) {
    let (iterations, eval_every) = match scale {
        Scale::Paper => (24_000, 1_000),
        Scale::Small => (6_000, 1_000),
        Scale::Smoke => (200, 100),
    };
    (
        ModelConfig { arch: Arch::Lenet { hidden: vec![300, 100] }, init: InitKind::KaimingNormal },
        TrainConfig {
            optimizer: OptimizerConfig::adam(1.2e-3),
            schedule: Schedule::constant(),
            batch_size: 60,
            iterations,
            eval_every,
            augment: false,
            test_eval: TestEval::Always,
        },
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc, LayerRole::Output] },
    )
}

fn resnet20(scale: Scale) -> (ModelConfig, TrainConfig, PruneConfig) {
    // (width, iterations, evaluation interval, batch); drops at 32/63 and 48/63 of training.
    let (width, iterations, eval_every, batch_size) = match scale {
        Scale::Paper => (16, 63_000, 1_000, 128),
        Scale::Small => (8, 1_000, 500, 128),
        Scale::Smoke => (4, 60, 30, 32),
    };
    let at = |fraction: f64| (iterations as f64 * fraction).round() as u64;
    (
        ModelConfig { arch: Arch::Resnet20 { width }, init: InitKind::KaimingNormal },
        TrainConfig {
            optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
            schedule: Schedule { milestones: vec![at(32.0 / 63.0), at(48.0 / 63.0)], gamma: 0.1, warmup: 0 },
            batch_size,
            iterations,
            eval_every,
            augment: true,
            test_eval: TestEval::Always,
        },
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Shortcut] },
    )
}
