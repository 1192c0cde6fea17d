//! The paper's protocol as data: one experiment per network and rewind iteration k, the
//! perturbations of θ_k as branches of the late-k experiment.
//!
//! IMP with rewinding (papers-round3.md §1.2): train θ_0 → θ_k → θ_T, prune globally by
//! magnitude, reset the survivors to θ_k and retrain from step k; each k is one experiment with
//! its own trunk (`resnet-20-k500`). k = 0 is Frankle & Carbin's lottery ticket and carries the
//! random-reinitialisation control; the late k carries the perturbations of θ_k
//! (`common::stage::perturbed`, one `rewind-perturbed` branch each, at the analysed levels):
//! signs kept with magnitudes redrawn, or with θ_0's magnitudes, and θ_0's signs on θ_k's
//! magnitudes; the surviving values permuted globally, within each
//! layer and within each output unit, each also restricted to same-sign positions; Gaussian
//! noise at α × each layer's initial standard deviation for α ∈ {0.25, 0.5, 1, 2} (the grid is
//! ours: the paper's could not be read). The k = 0 experiment also records the dense network's
//! first iterations (`early-statistics`: distance from θ_0, sign flips, gradient size), and the
//! late-k ResNet-20 experiment the pretraining arms: the dense network pretrained from θ_0 for P
//! iterations on random labels, on rotation prediction or on blurred inputs (`pretrain`), then
//! the claim level's mask on those weights in place of θ_k (`rewind-pretrained`).
//!
//! `paper` is the paper's main-text recipe: ResNet-20 (width 16) on CIFAR-10, SGD 0.1 momentum
//! 0.9 weight decay 1e-4, batch 128, 160 epochs of 391 iterations (62,560), ×0.1 at epochs 80
//! and 120, augmentation, Kaiming-normal init; open_lth's `sparse_global` pruning of 20 % per
//! level over every conv and shortcut weight and the output layer (papers-round3.md §1.2); IMP
//! to 0.8^10 = 10.7 %, every second level analysed; k ∈ {0, 500}; 3 trials. LeNet-300-100 on
//! MNIST is the small-network control (Zhou et al.: for small networks the signs suffice), with
//! Frankle & Carbin's recipe (Adam 1.2e-3, batch 60, 50K iterations), 20 % per level over the
//! hidden layers and 10 % of the output layer, k ∈ {0, 500}.
//!
//! `small` must first pass a gate the paper takes for granted: rewinding to k beats rewinding
//! to 0 by at least 1 pp at the working sparsity (at the stabilizing replication's `small` — 1,000
//! iterations, 20 % per level — IMP at k = 0 gains 2.15 pp over dense, so there is nothing for a
//! perturbation to lose). The setting used: ResNet-20 at width 8 on Fashion-MNIST (CIFAR-10
//! where present), 2,000 iterations with the drops at 50 % and 75 %, pruned 70 % per level for
//! two levels (30 % then 9 % remaining: a coarse IMP, as the reduced-scale plan's one-shot
//! proxy), k ∈ {0, 100} (5 % of training), the perturbations at the deepest level, one trial.
//! LeNet keeps Frankle & Carbin's `small` recipe (10K iterations), IMP to 0.8^10 = 10.7 %
//! (levels 5 and 10 analysed), k ∈ {0, 500}, 3 trials. `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::pretext::Pretext;
use common::data::DatasetName;
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::stage::perturbed::{Perturbation, Scope};
use common::stage::pretrained::PretrainParams;
use common::stage::statistics::StatisticsParams;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// ResNet-20: the paper's network.
    Resnet20,
    /// LeNet-300-100: the small-network control.
    Lenet,
}

impl Net {
    pub const ALL: [Net; 2] = [Net::Resnet20, Net::Lenet];

    pub fn name(self) -> &'static str {
        match self {
            Net::Resnet20 => "resnet-20",
            Net::Lenet => "lenet",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Net::Resnet20 => "ResNet-20",
            Net::Lenet => "LeNet-300-100",
        }
    }

    /// The rewind iterations: 0 and the late k the perturbations start from.
    pub fn ks(self, scale: Scale) -> [u64; 2] {
        [0, self.late_k(scale)]
    }

    /// The late rewind point, in iterations as run: ResNet-20's 500 (LMC's matching k, the
    /// paper's standard) at `paper`, 100 of 2,000 at `small`; LeNet's 500 at both.
    pub fn late_k(self, scale: Scale) -> u64 {
        match (self, scale) {
            (Net::Resnet20, Scale::Paper) | (Net::Lenet, Scale::Paper | Scale::Small) => 500,
            (Net::Resnet20, Scale::Small) => 100,
            (Net::Resnet20, Scale::Smoke) => 4,
            (Net::Lenet, Scale::Smoke) => 20,
        }
    }

    /// IMP levels of the trunk.
    pub fn levels(self, scale: Scale) -> u32 {
        match (self, scale) {
            (_, Scale::Paper) | (Net::Lenet, Scale::Small) => 10,
            (Net::Resnet20, Scale::Small) | (_, Scale::Smoke) => 2,
        }
    }

    /// The levels the perturbations and controls run at (the claims judge the deepest).
    pub fn analysed_levels(self, scale: Scale) -> Vec<u32> {
        match (self, scale) {
            (_, Scale::Paper) => vec![2, 4, 6, 8, 10],
            (Net::Lenet, Scale::Small) => vec![5, 10],
            (Net::Resnet20, Scale::Small) => vec![2],
            (_, Scale::Smoke) => vec![1, 2],
        }
    }

    /// The level the claims judge: the deepest analysed.
    pub fn claim_level(self, scale: Scale) -> u32 {
        *self.analysed_levels(scale).last().expect("every network analyses a level")
    }
}

/// One perturbation of θ_k's surviving weights, with how figures and claims name it.
#[derive(Debug, Clone, Copy)]
pub struct Arm {
    pub perturbation: Perturbation,
    pub label: &'static str,
}

const fn permute(scope: Scope, same_sign: bool, label: &'static str) -> Arm {
    Arm { perturbation: Perturbation::Permute { scope, same_sign }, label }
}

const fn noise(scale: f64, label: &'static str) -> Arm {
    Arm { perturbation: Perturbation::Noise { scale }, label }
}

/// Signs kept, magnitudes redrawn (Figure 1).
pub const SIGN_KEPT: Arm = Arm { perturbation: Perturbation::SignKeptReinit, label: "signs of θ_k, new magnitudes" };

/// Figure 1's arms: signs kept with new magnitudes, and θ_0's magnitudes or signs with θ_k's
/// others.
pub const SIGNS: [Arm; 3] = [
    SIGN_KEPT,
    Arm { perturbation: Perturbation::InitMagnitudes, label: "signs of θ_k, magnitudes of θ_0" },
    Arm { perturbation: Perturbation::InitSigns, label: "signs of θ_0, magnitudes of θ_k" },
];

/// The permutations (Figure 2), coarsest scope first.
pub const PERMUTATIONS: [Arm; 6] = [
    permute(Scope::Global, false, "permuted globally"),
    permute(Scope::Layer, false, "permuted within layers"),
    permute(Scope::Filter, false, "permuted within filters"),
    permute(Scope::Global, true, "permuted globally, same sign"),
    permute(Scope::Layer, true, "permuted within layers, same sign"),
    permute(Scope::Filter, true, "permuted within filters, same sign"),
];

/// Gaussian noise at α × each layer's initial standard deviation (Figure 3), smallest first.
pub const NOISE: [Arm; 4] = [noise(0.25, "noise α = 0.25"), noise(0.5, "noise α = 0.5"), noise(1.0, "noise α = 1"), noise(2.0, "noise α = 2")];

/// Every arm, in branch order.
pub fn arms() -> impl Iterator<Item = Arm> {
    SIGNS.into_iter().chain(PERMUTATIONS).chain(NOISE)
}

impl Arm {
    /// The branch running this arm at `levels` (one copy per trial).
    pub fn branch(self, levels: Vec<u32>) -> BranchConfig {
        BranchConfig::new(BranchKind::REWIND_PERTURBED, levels, 1).with_params(self.perturbation.params()).expect("the project's perturbations are valid")
    }

    /// The branch kind (with its parameters' identity) the results files name this arm by.
    pub fn kind(self) -> BranchKind {
        self.branch(Vec::new()).kind
    }

    /// α of a noise arm.
    pub fn noise_scale(self) -> Option<f64> {
        match self.perturbation {
            Perturbation::Noise { scale } => Some(scale),
            _ => None,
        }
    }
}

/// The dense network's first iterations recorded (Figure 4): ResNet-20's first 4,000 of 62,560
/// (the paper's window of a few thousand) every 40 at `paper`, its first 500 of 2,000 every 10
/// at `small`; LeNet's first 2,000 every 20 at `paper`, 1,000 every 10 at `small`.
fn statistics(net: Net, scale: Scale) -> BranchConfig {
    let (iterations, every) = match (net, scale) {
        (Net::Resnet20, Scale::Paper) => (4_000, 40),
        (Net::Resnet20, Scale::Small) => (500, 10),
        (Net::Lenet, Scale::Paper) => (2_000, 20),
        (Net::Lenet, Scale::Small) => (1_000, 10),
        (Net::Resnet20, Scale::Smoke) => (20, 5),
        (Net::Lenet, Scale::Smoke) => (100, 10),
    };
    BranchConfig::new(BranchKind::EARLY_STATISTICS, vec![0], 1).with_params(StatisticsParams { iterations, every }.params()).expect("valid statistics settings")
}

/// The pretraining tasks (Figure 5), each at every length of [`pretraining_lengths`].
pub const PRETEXTS: [Pretext; 3] = [Pretext::RandomLabels, Pretext::Rotation, Pretext::Blur];

/// The pretraining lengths P of ResNet-20 (LeNet has no pretraining arms: the paper's claim is
/// about the deeper network): at `paper` 500 (the supervised k), 2,000 and 8,000; at `small`
/// 100 (the supervised k) and 1,000, ten times as long.
pub fn pretraining_lengths(net: Net, scale: Scale) -> &'static [u64] {
    match (net, scale) {
        (Net::Lenet, _) => &[],
        (Net::Resnet20, Scale::Paper) => &[500, 2_000, 8_000],
        (Net::Resnet20, Scale::Small) => &[100, 1_000],
        (Net::Resnet20, Scale::Smoke) => &[4, 10],
    }
}

/// Every pretraining task of `net` at `scale`, task by task, shortest first.
pub fn pretraining(net: Net, scale: Scale) -> Vec<PretrainParams> {
    PRETEXTS.iter().flat_map(|&pretext| pretraining_lengths(net, scale).iter().map(move |&iterations| PretrainParams { pretext, iterations })).collect()
}

/// An experiment: one network rewound to step k (a k of `small`'s or `paper`'s grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Experiment {
    pub net: Net,
    pub k: u64,
}

/// Its results files read back.
pub type Loaded = harness::Loaded<Experiment>;
pub type Results = harness::Results<Experiment>;

impl Experiment {
    /// `resnet-20-k100`: the results file's and the command line's name.
    pub fn name(self) -> String {
        format!("{}-k{}", self.net.name(), self.k)
    }

    /// Every (network, k) of either grid, in the paper's order.
    fn grid() -> Vec<Experiment> {
        let mut out: Vec<Experiment> = Vec::new();
        for net in Net::ALL {
            for scale in [Scale::Paper, Scale::Small] {
                for k in net.ks(scale) {
                    if !out.contains(&Experiment { net, k }) {
                        out.push(Experiment { net, k });
                    }
                }
            }
        }
        out
    }
}

/// The experiment `<net>-k<k>` for every network and k of either grid.
pub static EXPERIMENTS: LazyLock<Vec<ExperimentSpec<Experiment>>> = LazyLock::new(|| {
    Experiment::grid()
        .into_iter()
        .map(|e| {
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            let (dataset, fallback) = match e.net {
                Net::Resnet20 => (DatasetName::Cifar10, Some(DatasetName::FashionMnist)),
                Net::Lenet => (DatasetName::Mnist, None),
            };
            ExperimentSpec { id: e, name: leak(e.name()), label: leak(format!("{}, k = {}", e.net.label(), e.k)), dataset, fallback }
        })
        .collect()
});

/// Every experiment, in the paper's order (what each figure may draw from).
pub static ALL: LazyLock<Vec<Experiment>> = LazyLock::new(|| EXPERIMENTS.iter().map(|e| e.id).collect());

/// Whether `scale` includes experiment `e` (smoke runs small's grid).
pub fn included(e: Experiment, scale: Scale) -> bool {
    let grid_scale = if scale == Scale::Paper { Scale::Paper } else { Scale::Small };
    e.net.ks(grid_scale).contains(&e.k)
}

/// The config of experiment `e` (`net` rewound to its name's k) at `scale` on `dataset` (seed 0).
pub fn preset(e: Experiment, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let Experiment { net, k } = e;
    let grid_scale = if scale == Scale::Paper { Scale::Paper } else { Scale::Small };
    let late = k != 0;
    let analysed = net.analysed_levels(scale);
    let branches = if late {
        let mut b: Vec<BranchConfig> = arms().map(|a| a.branch(analysed.clone())).collect();
        for task in pretraining(net, scale) {
            b.push(BranchConfig::new(BranchKind::PRETRAIN, vec![0], 1).with_params(task.params()).expect("valid pretraining"));
            b.push(BranchConfig::new(BranchKind::REWIND_PRETRAINED, vec![net.claim_level(scale)], 1).with_params(task.params()).expect("valid pretraining"));
        }
        b
    } else {
        vec![BranchConfig::new(BranchKind::REINIT, analysed, 1), statistics(net, scale)]
    };
    let (model, train, prune) = network(net, scale);
    ExperimentConfig {
        rewind_iteration: if late { net.late_k(scale) } else { 0 },
        replicates: match (net, scale) {
            (_, Scale::Paper) | (Net::Lenet, Scale::Small) => 3,
            _ => 1,
        },
        branches,
        ..ExperimentConfig::new(
            format!("{}-{}", Experiment { net, k: if late { net.late_k(grid_scale) } else { 0 } }.name(), dataset.as_str()),
            scale.as_str(),
            dataset,
            model,
            train,
            prune,
            net.levels(scale),
        )
    }
}

fn network(net: Net, scale: Scale) -> (ModelConfig, TrainConfig, PruneConfig) {
    match net {
        Net::Resnet20 => {
            // (width, iterations, evaluation interval, batch, fraction pruned per level)
            let (width, iterations, eval_every, batch_size, fraction) = match scale {
                Scale::Paper => (16, 62_560, 3_128, 128, 0.2),
                Scale::Small => (8, 2_000, 500, 128, 0.7),
                Scale::Smoke => (4, 40, 20, 32, 0.5),
            };
            let at = |f: f64| (iterations as f64 * f).round() as u64;
            (
                ModelConfig { arch: Arch::Resnet20 { width }, init: InitKind::KaimingNormal },
                TrainConfig {
                    optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
                    schedule: Schedule { milestones: vec![at(0.5), at(0.75)], gamma: 0.1, warmup: 0 },
                    batch_size,
                    iterations,
                    eval_every,
                    augment: true,
                    test_eval: TestEval::Always,
                },
                PruneConfig::Global { fraction, roles: vec![LayerRole::Conv, LayerRole::Shortcut, LayerRole::Output] },
            )
        }
        Net::Lenet => {
            let (iterations, eval_every) = match scale {
                Scale::Paper => (50_000, 500),
                Scale::Small => (10_000, 500),
                Scale::Smoke => (200, 50),
            };
            (
                ModelConfig { arch: Arch::Lenet { hidden: vec![300, 100] }, init: InitKind::GlorotNormal },
                TrainConfig::lenet_adam(iterations, eval_every),
                PruneConfig::layer_wise(0.0, 0.2, 0.1),
            )
        }
    }
}
