//! The paper's protocol as data: one experiment per network, each a grid of compressions ×
//! pruners on the replicate's θ_0.
//!
//! Level `L` is compression ρ = 10^(L/4) (density 10^(−L/4)): the global rule's fraction is
//! `1 − 10^−0.25`, and every prunable layer (conv, linear, output, shortcut weights; no biases or
//! batch norm) is pooled, as Tanaka et al. prune. Each pruner is one branch of kind
//! `prune-at-init` (trained after pruning) or `mask-at-init` (the mask alone: layer collapse and
//! score conservation need no training): random, magnitude, SNIP and GraSP single-shot, SynFlow
//! iterated 100 times on the exponential schedule — their benchmark's rule. The trunk's dense
//! level 0 is ρ = 1, trained from the same θ_0 with the same data order.
//!
//! `paper` is §3.2 of papers-round3.md: VGG-11 (ρ = 10^0 … 10^3 by 10^0.25) and VGG-16 (to
//! 10^6, Fig. 1's range) with batch norm and one linear layer, on CIFAR-10 (`--dataset
//! cifar-100` for the CIFAR-100 panels and Fig. 1), 3 seeds; SGD with Nesterov momentum 0.9, lr
//! 0.1 ×0.1 at epochs 60 and 120 of 160, batch 128, weight decay 1e-4, augmentation (pad 4,
//! crop, flip); Kaiming-normal init. Layer collapse at initialisation (their Fig. 2, VGG-19;
//! Fig. 1's arrows, VGG-16): VGG-16, VGG-19 and ResNet-20 masks up to ρ = 10^6 (ResNet-20:
//! 10^4, past its ρ_max), 3 seeds. ResNet-18 (four stages of two basic blocks from width 64,
//! the authors' `tinyimagenet` class for 32×32 inputs) to 10^3 on the VGG recipe (the ResNet
//! panels' own hyperparameters are in the paper's appendix, not read here). Not built:
//! WideResNet-18 and Tiny ImageNet (no such model or data here).
//!
//! `small` (this CPU, under two hours): the layer-collapse and conservation masks at the
//! networks' real widths, 3 seeds — LeNet-300-100 on MNIST to 10^4.75 (ρ_max = 10^4.95), the
//! others on Fashion-MNIST (CIFAR cannot be had here: one input channel, so the first conv has
//! 576 weights instead of 1,728, and 10 classes) — VGG-16 on the paper's grid
//! to 10^6, VGG-19 on every other point of it, ResNet-20 to 10^4; accuracy vs compression for
//! LeNet-300-100 on MNIST (ρ = 10^0 … 10^4 by 10^0.5, 3 seeds, 3 epochs) and for VGG-11 at
//! width 8 on Fashion-MNIST (ρ = 10, 10^2, 10^2.5, 10^3, 3 seeds, 2 epochs), with the paper's
//! optimizer and its drops at the same fractions of training. `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::pruners::PrunerName;
use common::stage::at_init::AtInitParams;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};

/// The experiments: LeNet's masks and trained grid, VGG-11's (and at `paper` VGG-16's) trained
/// grid, the masks of VGG-16, VGG-19 and ResNet-20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Net {
    Lenet,
    Vgg11,
    Vgg16,
    Vgg19,
    Resnet20,
    /// VGG-16 trained after pruning: `paper` scale only (Fig. 6 and, to 10^6, Fig. 1).
    Vgg16Trained,
    /// ResNet-18 trained after pruning: `paper` scale only (Fig. 6).
    Resnet18,
}

impl Net {
    /// The networks whose masks are studied at initialisation (layer collapse, conservation).
    pub const MASKED: [Net; 4] = [Net::Lenet, Net::Vgg16, Net::Vgg19, Net::Resnet20];
    /// The networks trained after pruning (accuracy vs compression).
    pub const TRAINED: [Net; 4] = [Net::Lenet, Net::Vgg11, Net::Vgg16Trained, Net::Resnet18];

    pub const fn name(self) -> &'static str {
        match self {
            Net::Lenet => "lenet",
            Net::Vgg11 => "vgg-11",
            Net::Vgg16 => "vgg-16-init",
            Net::Vgg19 => "vgg-19-init",
            Net::Resnet20 => "resnet-20-init",
            Net::Vgg16Trained => "vgg-16",
            Net::Resnet18 => "resnet-18",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Net::Lenet => "LeNet-300-100",
            Net::Vgg11 => "VGG-11",
            Net::Vgg16 | Net::Vgg16Trained => "VGG-16",
            Net::Vgg19 => "VGG-19",
            Net::Resnet20 => "ResNet-20",
            Net::Resnet18 => "ResNet-18",
        }
    }

    /// LeNet on MNIST; VGG-16 and VGG-19's masks on CIFAR-100; the others on CIFAR-10 (the
    /// CIFAR networks on Fashion-MNIST when CIFAR cannot be had).
    const fn spec(self) -> ExperimentSpec<Net> {
        let dataset = match self {
            Net::Lenet => DatasetName::Mnist,
            Net::Vgg16 | Net::Vgg19 => DatasetName::Cifar100,
            _ => DatasetName::Cifar10,
        };
        let fallback = if matches!(self, Net::Lenet) { None } else { Some(DatasetName::FashionMnist) };
        ExperimentSpec { id: self, name: self.name(), label: self.label(), dataset, fallback }
    }
}

/// This paper's experiment type: a network.
pub type Experiment = Net;
/// Its results files read back.
pub type Loaded = harness::Loaded<Net>;
pub type Results = harness::Results<Net>;

pub static EXPERIMENTS: [ExperimentSpec<Net>; 7] =
    [Net::Lenet.spec(), Net::Vgg11.spec(), Net::Vgg16.spec(), Net::Vgg19.spec(), Net::Resnet20.spec(), Net::Vgg16Trained.spec(), Net::Resnet18.spec()];

/// The five pruners of the benchmark in the paper's legend order, each with its rounds.
pub const PRUNERS: [(PrunerName, u32); 5] =
    [(PrunerName::RANDOM, 1), (PrunerName::MAGNITUDE, 1), (PrunerName::SNIP, 1), (PrunerName::GRASP, 1), (PrunerName::SYNFLOW, SYNFLOW_ROUNDS)];

/// SynFlow's scoring rounds (their `prune_epochs`).
pub const SYNFLOW_ROUNDS: u32 = 100;

/// Compression per level: ρ = 10^(level / LEVELS_PER_DECADE).
pub const LEVELS_PER_DECADE: u32 = 4;

/// log10 of the compression at `level`.
pub fn log10_compression(level: u32) -> f64 {
    f64::from(level) / f64::from(LEVELS_PER_DECADE)
}

/// One copy of `pruner` in `rounds` at `levels`, trained after pruning or not.
fn branch(pruner: PrunerName, rounds: u32, trained: bool, levels: Vec<u32>) -> BranchConfig {
    let kind = if trained { BranchKind::PRUNE_AT_INIT } else { BranchKind::MASK_AT_INIT };
    BranchConfig::new(kind, levels, 1).with_params(AtInitParams::params(pruner, rounds)).expect("valid params")
}

/// The branch kind (with its parameters) of `pruner` in `rounds`, trained or not.
pub fn branch_kind(pruner: PrunerName, rounds: u32, trained: bool) -> BranchKind {
    branch(pruner, rounds, trained, vec![]).kind
}

/// Whether `net` is part of `scale`: the trained VGG-16 and ResNet-18 grids (160 epochs × 12 or
/// 24 compressions × 5 pruners × 3 seeds) only at `paper`.
pub fn included(net: Net, scale: Scale) -> bool {
    !matches!(net, Net::Vgg16Trained | Net::Resnet18) || scale == Scale::Paper
}

/// The config of `net` at `scale` on `dataset` (seed 0).
pub fn preset(net: Net, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let arch = match (net, scale) {
        (Net::Lenet, Scale::Smoke) => Arch::Lenet { hidden: vec![64, 32] },
        (Net::Lenet, _) => Arch::Lenet { hidden: vec![300, 100] },
        (Net::Vgg11, Scale::Paper) => Arch::Vgg { depth: 11, width: 64 },
        (Net::Vgg11, Scale::Small) => Arch::Vgg { depth: 11, width: 8 },
        (Net::Vgg11, Scale::Smoke) => Arch::Vgg { depth: 11, width: 4 },
        (Net::Vgg16 | Net::Vgg16Trained | Net::Vgg19, Scale::Smoke) => Arch::Vgg { depth: if net == Net::Vgg19 { 19 } else { 16 }, width: 4 },
        (Net::Vgg16 | Net::Vgg16Trained, _) => Arch::Vgg { depth: 16, width: 64 },
        (Net::Vgg19, _) => Arch::Vgg { depth: 19, width: 64 },
        (Net::Resnet20, Scale::Smoke) => Arch::Resnet20 { width: 4 },
        (Net::Resnet20, _) => Arch::Resnet20 { width: 16 },
        (Net::Resnet18, Scale::Smoke) => Arch::Resnet18 { width: 4 },
        (Net::Resnet18, _) => Arch::Resnet18 { width: 64 },
    };
    // (replicates, levels of the trained grid, levels of the masks, epochs)
    let grid = |step: usize, top: u32| -> Vec<u32> { (0..=top).step_by(step).collect() };
    let (replicates, trained_levels, mask_levels, epochs): (u32, Vec<u32>, Vec<u32>, u32) = match (scale, net) {
        (Scale::Paper, Net::Lenet) => (3, (1..=12).collect(), grid(1, 19), 160),
        (Scale::Paper, Net::Vgg11) => (3, (1..=12).collect(), vec![], 160),
        // Fig. 6's grid to 10^3 and Fig. 1's to 10^6 (`--dataset cifar-100` for its panel).
        (_, Net::Vgg16Trained) => (3, (1..=24).collect(), vec![], 160),
        // The ResNet panels' recipe is in the paper's appendix, not read: the VGG one is used.
        (_, Net::Resnet18) => (3, (1..=12).collect(), vec![], 160),
        (Scale::Paper, Net::Vgg16 | Net::Vgg19) => (3, vec![], grid(1, 24), 0),
        (Scale::Paper, Net::Resnet20) => (3, vec![], grid(1, 16), 0),
        (Scale::Small, Net::Lenet) => (3, (2..=16).step_by(2).collect(), grid(1, 19), 3),
        (Scale::Small, Net::Vgg11) => (3, vec![4, 8, 10, 12], vec![], 2),
        (Scale::Small, Net::Vgg16) => (3, vec![], grid(1, 24), 0),
        // VGG-19 on the 10^0.5 grid: its masks cost ~1 min per compression on one core.
        (Scale::Small, Net::Vgg19) => (3, vec![], grid(2, 24), 0),
        (Scale::Small, Net::Resnet20) => (3, vec![], grid(1, 16), 0),
        (Scale::Smoke, Net::Lenet) => (1, vec![4, 8], vec![0, 4, 8, 12], 1),
        (Scale::Smoke, Net::Vgg11) => (1, vec![4, 8], vec![], 1),
        (Scale::Smoke, _) => (1, vec![], vec![0, 4, 8, 12], 0),
    };
    let trained = !trained_levels.is_empty();
    let mut branches: Vec<BranchConfig> = Vec::new();
    for (levels, trains) in [(&trained_levels, true), (&mask_levels, false)] {
        if !levels.is_empty() {
            branches.extend(PRUNERS.iter().map(|&(pruner, rounds)| branch(pruner, rounds, trains, levels.clone())));
        }
    }
    // The paper trains 160 epochs of batch 128, ×0.1 at epochs 60 and 120; shorter runs drop at
    // the same fractions. Masks-only experiments train nothing: their trunk is never run.
    let batch_size = 128;
    // Training examples after the 5,000-example validation split.
    let train_examples: u64 = match dataset {
        DatasetName::Cifar10 | DatasetName::Cifar100 => 45_000,
        _ => 55_000,
    };
    let per_epoch = train_examples.div_ceil(batch_size as u64);
    let iterations = match (trained, scale) {
        (false, _) => 1,
        (true, Scale::Smoke) => 40,
        (true, _) => u64::from(epochs) * per_epoch,
    };
    let at = |epoch: f64| (iterations as f64 * epoch / 160.0).round() as u64;
    let train = TrainConfig {
        optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-4 },
        schedule: if trained { Schedule { milestones: vec![at(60.0), at(120.0)], gamma: 0.1, warmup: 0 } } else { Schedule::constant() },
        batch_size,
        iterations,
        eval_every: per_epoch.min(iterations),
        augment: scale == Scale::Paper && matches!(dataset, DatasetName::Cifar10 | DatasetName::Cifar100),
        test_eval: TestEval::Always,
    };
    let prune = PruneConfig::Global { fraction: 1.0 - 10f64.powf(-1.0 / f64::from(LEVELS_PER_DECADE)), roles: ROLES.to_vec() };
    let model = ModelConfig { arch, init: InitKind::KaimingNormal };
    let top = trained_levels.iter().chain(&mask_levels).copied().max().unwrap_or(0);
    ExperimentConfig {
        replicates,
        branches,
        ..ExperimentConfig::new(format!("{}-{}", net.name(), dataset.as_str()), scale.as_str(), dataset, model, train, prune, top)
    }
}

/// Every prunable layer is pooled: conv, linear, output and shortcut weights.
const ROLES: [LayerRole; 4] = [LayerRole::Conv, LayerRole::Fc, LayerRole::Output, LayerRole::Shortcut];
