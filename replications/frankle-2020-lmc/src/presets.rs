//! The paper's protocol as data: one experiment per network, recipe and spawn/rewind step k.
//!
//! Instability analysis from step k trains θ_0 → θ_k (the trunk's level 0, which also trains on
//! to T) and spawns copies θ_k → θ_T with independent data orders and augmentation, compared in
//! pairs along the straight line between them. IMP with rewinding to k (levels 1…) finds the
//! sparse subnetworks, analysed the same way at the level the paper reports, beside random
//! pruning and random reinitialisation of that level. k is the run's rewind iteration, so each
//! k is one experiment with its own trunk (`lenet-k500`, `vgg-16-warmup-k1000`).
//!
//! `paper` is Table 1 of the paper with open_lth's defaults (papers.md §6.3, where the recipes
//! are marked as remembered rather than confirmed): LeNet-300-100 on MNIST, Adam 1.2e-3, batch
//! 60, 24K iterations; ResNet-20 (width 16) and VGG-16 on CIFAR-10, SGD momentum 0.9, weight
//! decay 1e-4, batch 128, 63K iterations, ×0.1 at 32K and 48K, augmentation, at the standard
//! rate 0.1, the low rate 0.01, or with a 30K-iteration linear warmup (to 0.03 for ResNet-20,
//! 0.1 for VGG-16); Kaiming-normal init; global magnitude pruning of 20 % per level (LeNet's
//! hidden layers, the output layer left out as open_lth's `mnist_lenet` does; conv weights but
//! not the output layer for ResNet-20 and VGG-16); 3
//! trials × 3 data-order pairs; IMP analysed at the sparsity of Table 1 (LeNet 3.5 %, ResNet-20
//! 16.8 %, ResNet-20 low/warmup 8.6 %, VGG-16 1.5 %, VGG-16 low 5.5 %, VGG-16 warmup 1.5 %).
//!
//! `small` keeps every recipe value but lengths and counts, for LeNet and the standard
//! ResNet-20 only: 3 trials; LeNet 6K iterations, two pairs per k, IMP to level 15; ResNet-20
//! at width 8 for 1K iterations with its drops at the same fractions (k up to 500), one pair
//! per k, dense only — its IMP analysis needs `paper` on a GPU; the train-error path on the
//! first 10,000 training examples. `smoke` is tiny (k divided by 50).

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::interpolate::Interpolation;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::stage::to_params;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Lenet,
    Resnet20,
    Vgg16,
}

/// The CIFAR recipes of Table 1: standard, low learning rate, warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    Standard,
    Low,
    Warmup,
}

/// A network under one recipe: a row of the paper's Table 1 and one panel of each figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub net: Net,
    pub recipe: Recipe,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant { net: Net::Lenet, recipe: Recipe::Standard },
        Variant { net: Net::Resnet20, recipe: Recipe::Standard },
        Variant { net: Net::Resnet20, recipe: Recipe::Low },
        Variant { net: Net::Resnet20, recipe: Recipe::Warmup },
        Variant { net: Net::Vgg16, recipe: Recipe::Standard },
        Variant { net: Net::Vgg16, recipe: Recipe::Low },
        Variant { net: Net::Vgg16, recipe: Recipe::Warmup },
    ];
    pub const LENET: Variant = Variant { net: Net::Lenet, recipe: Recipe::Standard };
    pub const RESNET20: Variant = Variant { net: Net::Resnet20, recipe: Recipe::Standard };

    /// `lenet`, `resnet-20`, `resnet-20-low`, `vgg-16-warmup`, …
    pub fn name(self) -> String {
        let net = match self.net {
            Net::Lenet => "lenet",
            Net::Resnet20 => "resnet-20",
            Net::Vgg16 => "vgg-16",
        };
        match self.recipe {
            Recipe::Standard => net.into(),
            Recipe::Low => format!("{net}-low"),
            Recipe::Warmup => format!("{net}-warmup"),
        }
    }

    pub fn label(self) -> String {
        let net = match self.net {
            Net::Lenet => "LeNet-300-100",
            Net::Resnet20 => "ResNet-20",
            Net::Vgg16 => "VGG-16",
        };
        match self.recipe {
            Recipe::Standard => net.into(),
            Recipe::Low => format!("{net} (low lr)"),
            Recipe::Warmup => format!("{net} (warmup)"),
        }
    }

    /// The IMP level of Table 1's sparsity (0.8^level of the weights remain).
    pub fn sparse_level(self) -> u32 {
        match (self.net, self.recipe) {
            (Net::Lenet, _) => 15,                  // 3.5 %
            (Net::Resnet20, Recipe::Standard) => 8, // 16.8 %
            (Net::Resnet20, _) => 11,               // 8.6 %
            (Net::Vgg16, Recipe::Low) => 13,        // 5.5 %
            (Net::Vgg16, _) => 19,                  // 1.5 %
        }
    }

    /// The k of the grid (papers.md §6.5): LeNet 0, 100, 500, 2000; the CIFAR networks 0, 100,
    /// 250, 500, 1000, 2000 (the paper's dense ResNet-20 becomes stable near 2000, VGG-16 near
    /// 1000; their IMP subnetworks near 500 and 1000).
    pub fn ks(self) -> &'static [u64] {
        match self.net {
            Net::Lenet => &[0, 100, 500, 2000],
            _ => &[0, 100, 250, 500, 1000, 2000],
        }
    }

    /// Whether this variant at step `k` is part of `scale`: `small` and `smoke` run LeNet and the
    /// standard ResNet-20 only, ResNet-20's grid to k = 500 (`small`'s 1K iterations) or k = 100
    /// (`smoke`).
    pub fn runs_at(self, k: u64, scale: Scale) -> bool {
        match (scale, self.net, self.recipe) {
            (Scale::Paper, ..) | (_, Net::Lenet, _) => true,
            (Scale::Small, Net::Resnet20, Recipe::Standard) => k <= 500,
            (Scale::Smoke, Net::Resnet20, Recipe::Standard) => k <= 100,
            _ => false,
        }
    }

    /// Whether its IMP analysis runs at `scale` (every variant's at `paper`; LeNet's always).
    pub fn sparse_at(self, scale: &str) -> bool {
        self.net == Net::Lenet || scale == "paper"
    }
}

/// An experiment: one variant analysed from (and rewound to) step k.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Experiment {
    pub variant: Variant,
    pub k: u64,
}

/// Its results files read back.
pub type Loaded = harness::Loaded<Experiment>;
pub type Results = harness::Results<Experiment>;

impl Experiment {
    /// `lenet-k500`, `vgg-16-warmup-k1000`: the results file's and the command line's name.
    pub fn name(self) -> String {
        format!("{}-k{}", self.variant.name(), self.k)
    }

    /// Every (variant, k) in the paper's order.
    fn grid() -> impl Iterator<Item = Experiment> {
        Variant::ALL.into_iter().flat_map(|variant| variant.ks().iter().map(move |&k| Experiment { variant, k }))
    }
}

/// The experiment `<variant>-k<k>` for every variant and k of its grid.
pub static EXPERIMENTS: LazyLock<Vec<ExperimentSpec<Experiment>>> = LazyLock::new(|| {
    Experiment::grid()
        .map(|e| {
            let (dataset, fallback) = match e.variant.net {
                Net::Lenet => (DatasetName::Mnist, None),
                _ => (DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
            };
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            ExperimentSpec { id: e, name: leak(e.name()), label: leak(format!("{}, k = {}", e.variant.label(), e.k)), dataset, fallback }
        })
        .collect()
});

/// Every experiment, in the paper's order (what each figure may draw from).
pub static ALL: LazyLock<Vec<Experiment>> = LazyLock::new(|| EXPERIMENTS.iter().map(|e| e.id).collect());

/// Spawned pairs per k and trial: (dense and IMP pairs, control pairs).
fn pairs(v: Variant, scale: Scale) -> (u32, u32) {
    match (scale, v.net) {
        (Scale::Paper, _) => (3, 3),
        (Scale::Small, Net::Lenet) => (2, 1),
        _ => (1, 1),
    }
}

/// Whether `scale` includes experiment `e`.
pub fn included(e: Experiment, scale: Scale) -> bool {
    e.variant.runs_at(e.k, scale)
}

/// The config of experiment `e` at `scale` and `dataset` (seed 0).
pub fn preset(e: Experiment, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let Experiment { variant: v, k } = e;
    let (spawn_pairs, control_pairs) = pairs(v, scale);
    let sparse = if scale == Scale::Smoke { 2 } else { v.sparse_level() };
    let interpolation = match scale {
        Scale::Paper => Interpolation::PAPER,
        _ => Interpolation { train_examples: Some(10_000), ..Interpolation::PAPER },
    };
    let spawned = |kind, levels, copies| BranchConfig::new(kind, levels, copies).with_params(to_params(&interpolation)).expect("valid interpolation settings");
    let branches = vec![
        spawned(BranchKind::SPAWN, vec![0, sparse], 2 * spawn_pairs),
        spawned(BranchKind::SPAWN_REINIT, vec![sparse], 2 * control_pairs),
        spawned(BranchKind::SPAWN_RANDOM_PRUNE, vec![sparse], 2 * control_pairs),
    ];
    let (model, train, prune) = match v.net {
        Net::Lenet => lenet(scale),
        _ => cifar(v, scale),
    };
    ExperimentConfig {
        rewind_iteration: if scale == Scale::Smoke { k / 50 } else { k },
        replicates: if scale == Scale::Smoke { 1 } else { 3 },
        branches,
        ..ExperimentConfig::new(format!("{}-{}", e.name(), dataset.as_str()), scale.as_str(), dataset, model, train, prune, sparse)
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
        TrainConfig::lenet_adam(iterations, eval_every),
        // The output layer is never pruned: open_lth's `mnist_lenet` (the framework of the
        // paper's authors) lists `fc.weight` in `pruning_layers_to_ignore`; the paper's own text
        // does not say (papers.md §6.3). Densities still count it, at 100 %, as open_lth does.
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Fc] },
    )
}

fn cifar(v: Variant, scale: Scale) -> (ModelConfig, TrainConfig, PruneConfig) {
    // (ResNet width, iterations, evaluation interval, batch); drops at 32/63 and 48/63 of training.
    let (width, iterations, eval_every, batch_size) = match scale {
        Scale::Paper => (16, 63_000, 1_000, 128),
        Scale::Small => (8, 1_000, 500, 128),
        Scale::Smoke => (4, 60, 30, 32),
    };
    let at = |fraction: f64| (iterations as f64 * fraction).round() as u64;
    let (lr, warmup) = match (v.net, v.recipe) {
        (_, Recipe::Standard) => (0.1, 0),
        (_, Recipe::Low) => (0.01, 0),
        (Net::Resnet20, Recipe::Warmup) => (0.03, at(30.0 / 63.0)),
        (_, Recipe::Warmup) => (0.1, at(30.0 / 63.0)),
    };
    let arch = match v.net {
        Net::Vgg16 => Arch::Vgg { depth: 16, width: common::models::VGG_WIDTH },
        _ => Arch::Resnet20 { width },
    };
    (
        ModelConfig { arch, init: InitKind::KaimingNormal },
        TrainConfig {
            optimizer: OptimizerConfig::Sgd { lr, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
            schedule: Schedule { milestones: vec![at(32.0 / 63.0), at(48.0 / 63.0)], gamma: 0.1, warmup },
            batch_size,
            iterations,
            eval_every,
            augment: true,
            test_eval: TestEval::Always,
        },
        PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Shortcut] },
    )
}
