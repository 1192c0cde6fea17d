//! The paper's protocol as data: one experiment, a VGG with batch norm whose trunk is the
//! unpruned network (level 0 only, trained without the penalty), one `early-bird-search`
//! branch (the same θ_0 and data order, trained with network slimming's L1 penalty on the
//! batch-norm scales, recording every epoch start's channel masks and detecting early birds at
//! each pruning ratio) and `channel-ticket` branches drawn from it (`common::stage::early_bird`).
//!
//! Per pruning ratio p, three tickets make You et al.'s Table 2 comparison: the early bird
//! continued on the rest of the schedule ("EB Train"), the early bird's architecture from new
//! weights ("EB Train (re-init)"), and the last epoch's ticket fine-tuned on the whole schedule
//! again (train → prune → retrain, network slimming's pipeline). At the middle ratio, tickets
//! drawn at several epochs and fine-tuned alike make their Figure 1 (retrain accuracy vs the
//! epoch a ticket is drawn at).
//!
//! `paper` is papers.md §8 and papers-round3.md §4: VGG-16 on CIFAR-100 (`--dataset cifar-10`
//! for the CIFAR-10 panels) with the authors' initialiser (convolutions N(0, √(2/(9·out))), γ =
//! 0.5, linear N(0, 0.01)); SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 256, 160 epochs
//! with ×0.1 at epochs 80 and 120, pad-4 crop and flip; s = 1e-4; detectors at p ∈ {0.1, 0.3,
//! 0.5, 0.7} (Table 2's 10/30/50 % and the 70 %), FIFO 5, ε = 0.1; Figure 1's tickets
//! at epochs 10, 20, 40, 80 and 160. PreResNet-101 (experiment `preresnet-101`, network
//! slimming's `preresnet.py` at depth 101: `common::models::preresnet`) runs the same protocol
//! and branches. Not built: the low-precision variants (LF, LL) and ImageNet; energy is not
//! measured, FLOPs are counted.
//!
//! `small` (this CPU, about 50 min a trial, 3 trials): VGG-11 at width 8 (8–64 channels) on
//! Fashion-MNIST padded to 32×32 (CIFAR cannot be had here: one input channel, 10 classes), the
//! schedule compressed proportionally to [`SMALL_EPOCHS`] epochs (drops at ½ and ¾), no
//! augmentation, the paper's optimizer, penalty and detectors at p ∈ {0.3, 0.5, 0.7}; Figure
//! 1's tickets at epochs 1, 2, 4, the early bird and the last, at p = 0.5. `smoke` is tiny (a
//! detector window of 2 and ε = 1, so a ticket is found at once), its PreResNet a PreResNet-11
//! of width 2.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::DatasetName;
use common::models::{Arch, InitKind, ModelConfig};
use common::prune::PruneConfig;
use common::stage::early_bird::{Detected, Draw, Retraining, SearchParams, TicketParams};
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use harness::{ExperimentSpec, Scale};

/// An experiment: one of the paper's two networks on CIFAR-100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Vgg,
    Preresnet101,
}

/// This paper's experiment type: a network.
pub type Experiment = Net;
/// Its results files read back.
pub type Loaded = harness::Loaded<Net>;
pub type Results = harness::Results<Net>;

impl Net {
    /// `vgg`, `preresnet-101`: the results file's and the command line's name.
    pub const fn name(self) -> &'static str {
        match self {
            Net::Vgg => "vgg",
            Net::Preresnet101 => "preresnet-101",
        }
    }

    const fn spec(self, label: &'static str) -> ExperimentSpec<Net> {
        ExperimentSpec { id: self, name: self.name(), label, dataset: DatasetName::Cifar100, fallback: Some(DatasetName::FashionMnist) }
    }
}

pub static EXPERIMENTS: [ExperimentSpec<Net>; 2] = [Net::Vgg.spec("VGG"), Net::Preresnet101.spec("PreResNet-101")];

/// Whether `scale` includes `net`: PreResNet-101 is the paper's second network, run at `paper`
/// (and, tiny, at `smoke`); `small` is VGG only (papers-round3.md §4.5).
pub fn included(net: Net, scale: Scale) -> bool {
    net == Net::Vgg || scale != Scale::Small
}

/// Epochs of the `small` schedule (the paper's 160, compressed).
pub const SMALL_EPOCHS: u64 = 20;

/// The pruning ratios with a detector (and EB Train tickets) at `scale`.
pub fn ratios(scale: Scale) -> Vec<f64> {
    match scale {
        Scale::Paper => vec![0.1, 0.3, 0.5, 0.7],
        _ => vec![0.3, 0.5, 0.7],
    }
}

/// The ratio of Figure 1's curve of tickets drawn at several epochs.
pub const CURVE_RATIO: f64 = 0.5;

/// The epochs Figure 1's tickets are drawn at (besides the early bird), the last included.
pub fn curve_epochs(scale: Scale) -> Vec<u64> {
    match scale {
        Scale::Paper => vec![10, 20, 40, 80, 160],
        Scale::Small => vec![1, 2, 4, SMALL_EPOCHS],
        Scale::Smoke => vec![1, SMOKE_EPOCHS],
    }
}

const SMOKE_EPOCHS: u64 = 3;

/// Training epochs at `scale`.
pub fn epochs(scale: Scale) -> u64 {
    match scale {
        Scale::Paper => 160,
        Scale::Small => SMALL_EPOCHS,
        Scale::Smoke => SMOKE_EPOCHS,
    }
}

/// The search branch (all its parameters the authors' but at `smoke`).
fn search(scale: Scale) -> BranchConfig {
    let mut p = SearchParams { ratios: ratios(scale), ..SearchParams::default() };
    if scale == Scale::Smoke {
        p.window = 2;
        p.epsilon = 1.0;
    }
    BranchConfig::new(BranchKind::EARLY_BIRD_SEARCH, vec![0], 1).with_params(p.params()).expect("valid search params")
}

/// A ticket branch.
pub fn ticket(ratio: f64, epoch: Draw, retrain: Retraining) -> BranchConfig {
    BranchConfig::new(BranchKind::CHANNEL_TICKET, vec![0], 1).with_params(TicketParams::params(ratio, epoch, retrain)).expect("valid ticket params")
}

/// The early bird at `ratio`.
pub const EARLY_BIRD: Draw = Draw::Named(Detected::EarlyBird);

/// The config of `net` at `scale` on `dataset` (seed 0).
pub fn preset(net: Net, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let arch = match (net, scale) {
        (Net::Preresnet101, Scale::Smoke) => Arch::Preresnet { depth: 11, width: 2 },
        (Net::Preresnet101, _) => Arch::Preresnet { depth: 101, width: 16 },
        (Net::Vgg, Scale::Paper) => Arch::Vgg { depth: 16, width: 64 },
        (Net::Vgg, Scale::Small) => Arch::Vgg { depth: 11, width: 8 },
        (Net::Vgg, Scale::Smoke) => Arch::Vgg { depth: 11, width: 4 },
    };
    let cifar = matches!(dataset, DatasetName::Cifar10 | DatasetName::Cifar100);
    // Training examples after the 5,000-example validation split (synthetic: 1,100).
    let train_examples: u64 = match dataset {
        DatasetName::Cifar10 | DatasetName::Cifar100 => 45_000,
        DatasetName::Synthetic => 1_100,
        _ => 55_000,
    };
    let batch_size: i64 = if scale == Scale::Smoke { 64 } else { 256 };
    let per_epoch = train_examples / batch_size as u64;
    let epochs = epochs(scale);
    let iterations = epochs * per_epoch;
    let train = TrainConfig {
        optimizer: OptimizerConfig::Sgd { lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
        schedule: Schedule { milestones: vec![iterations / 2, iterations * 3 / 4], gamma: 0.1, warmup: 0 },
        batch_size,
        iterations,
        eval_every: per_epoch,
        augment: cifar && scale == Scale::Paper,
        test_eval: TestEval::Always,
    };
    let mut branches = vec![search(scale)];
    for &p in &ratios(scale) {
        branches.push(ticket(p, EARLY_BIRD, Retraining::Continue));
        branches.push(ticket(p, EARLY_BIRD, Retraining::Scratch));
        branches.push(ticket(p, Draw::Epoch(epochs), Retraining::FineTune));
    }
    branches.push(ticket(CURVE_RATIO, EARLY_BIRD, Retraining::FineTune));
    for e in curve_epochs(scale).into_iter().filter(|&e| e != epochs) {
        branches.push(ticket(CURVE_RATIO, Draw::Epoch(e), Retraining::FineTune));
    }
    let model = ModelConfig { arch, init: InitKind::NetworkSlimming };
    let replicates = if scale == Scale::Small { 3 } else { 1 };
    ExperimentConfig {
        replicates,
        branches,
        input_padding: if dataset == DatasetName::FashionMnist || dataset == DatasetName::Mnist { 2 } else { 0 },
        // The trunk is the unpruned network, level 0 only: its weight-pruning rule (which a
        // config must state) is never applied; tickets remove channels by their own rule.
        ..ExperimentConfig::new(
            format!("{}-{}", net.name(), dataset.as_str()),
            scale.as_str(),
            dataset,
            model,
            train,
            PruneConfig::layer_wise(0.2, 0.2, 0.1),
            0,
        )
    }
}
