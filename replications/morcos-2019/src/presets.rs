//! The paper's protocol as data: one experiment per network and setting.
//!
//! A *setting* is where a ticket is found or trained: a dataset, an optimizer, and a part of the
//! training split. `<net>-<setting>` finds the setting's own tickets by IMP with late resetting
//! (global magnitude pruning, 20 % per level, the output layer never pruned) and trains a random
//! ticket beside each level (`random-prune`: a random mask with the level's per-layer counts and
//! fresh weights). `<net>-<target>-from-<source>` trains the source setting's tickets — its mask
//! and late-reset weights θ_k at every level, the output layer re-initialised — in the target
//! setting (`common::transfer`). Setting names: the dataset, then `-adam` for Adam (SGD
//! otherwise), then `-a` / `-b` for the two disjoint halves of the training split (the paper's
//! CIFAR-10a / 10b) or `-10pct` for a tenth of it.
//!
//! Each scale has a primary dataset A (the target of every control) and a second dataset B:
//! own tickets on A, B, A with Adam, A's halves and a tenth of B; transfers B → A, A → B, a
//! tenth of B → A (dataset size), A-half-a → A-half-b (same distribution), SGD → Adam and Adam
//! → SGD on A. Every network and dataset trains the same number of iterations (a half or a tenth
//! of the data is seen more often, not less).
//!
//! `paper` is the ReScience reproduction's recipe as papers.md §5.2 records it (mostly
//! remembered, not confirmed): VGG-19 (batch norm, global average pooling, one linear layer) on
//! A = CIFAR-10 and B = Fashion-MNIST, SGD 0.1, momentum 0.9, weight decay 1e-4, batch 512, 160
//! epochs of CIFAR-10's 45,000 training images (14,080 iterations), ×0.1 at epochs 80 and 120;
//! Adam 3e-4 (constant: our choice), late resetting to k = 1 epoch (88 iterations), 30 levels
//! (0.8^30 = 0.12 % remaining), 3 trials, CIFAR augmentation on CIFAR-10 and -100; and a third
//! source for CIFAR-10, CIFAR-100 (more classes; tickets both ways). Fashion-MNIST keeps
//! its 28×28×1 images: VGG's global pooling takes any size, but its first convolution then has
//! one input channel, so that layer is re-initialised (dense) when a ticket crosses between
//! Fashion-MNIST and CIFAR-10 (`common::transfer` keeps the target's layer when shapes differ).
//! SVHN, ImageNet and Places365 are not readable here.
//!
//! `small` fits an hour on 2 CPU cores: A = Fashion-MNIST and B = MNIST (both 28×28×1, so only
//! the data changes), LeNet-300-100 (not in the paper: SGD 0.05, momentum 0.9, weight decay
//! 1e-4, ×0.1 at 50 % and 75 %; Adam 1.2e-3, Frankle & Carbin's rate; batch 60, 2,000
//! iterations, k = 13, 16 levels to 2.8 %, random tickets at every level) and VGG-11 at width 8
//! (channels 8 … 64; the paper's SGD recipe at batch 128, 800 iterations, k = 5, 10 levels to
//! 10.7 %, random tickets at levels 5 and 10; Adam 3e-4); 3 trials of each. k is the paper's 1
//! of 160 epochs as a fraction of training (rounded). A VGG step costs ~0.04 s here, a LeNet step
//! ~2 ms: about 35 minutes per VGG trial on 2 cores (trials 2 and 3 took 69 min, cores partly
//! shared), 17 min for LeNet's 3 trials on the sparse kernels. `smoke` is tiny.

use common::config::{BranchConfig, BranchKind, ExperimentConfig};
use common::data::{DatasetName, TrainSubset};
use common::models::{Arch, InitKind, LayerRole, ModelConfig};
use common::prune::PruneConfig;
use common::train::optim::OptimizerConfig;
use common::train::schedule::Schedule;
use common::train::{TestEval, TrainConfig};
use common::transfer::TransferConfig;
use harness::{ExperimentSpec, Scale};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Lenet,
    Vgg,
}

impl Net {
    pub fn name(self) -> &'static str {
        match self {
            Net::Lenet => "lenet",
            Net::Vgg => "vgg",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Net::Lenet => "LeNet-300-100",
            Net::Vgg => "VGG (GAP)",
        }
    }
}

/// Where a ticket is found or trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    pub dataset: DatasetName,
    pub adam: bool,
    pub subset: TrainSubset,
}

impl Setting {
    pub const fn on(dataset: DatasetName) -> Setting {
        Setting { dataset, adam: false, subset: TrainSubset::All }
    }

    /// The same setting trained with Adam.
    pub const fn adam(self) -> Setting {
        Setting { adam: true, ..self }
    }

    /// The same setting on part of its training split.
    pub const fn part(self, subset: TrainSubset) -> Setting {
        Setting { subset, ..self }
    }

    /// `fashion-mnist`, `fashion-mnist-adam`, `cifar-10-a`, `mnist-10pct`.
    pub fn name(self) -> String {
        let part = match self.subset {
            TrainSubset::All => String::new(),
            TrainSubset::HalfA => "-a".into(),
            TrainSubset::HalfB => "-b".into(),
            TrainSubset::Fraction(f) => format!("-{}pct", (100.0 * f).round()),
        };
        format!("{}{}{part}", self.dataset.as_str(), if self.adam { "-adam" } else { "" })
    }

    /// `Fashion-MNIST, Adam`, `CIFAR-10 half b`, `MNIST 10 %` (SGD unless named).
    pub fn label(self) -> String {
        let data = match self.dataset {
            DatasetName::Mnist => "MNIST",
            DatasetName::FashionMnist => "Fashion-MNIST",
            DatasetName::Cifar10 => "CIFAR-10",
            DatasetName::Cifar100 => "CIFAR-100",
            DatasetName::Synthetic => "synthetic",
            other => other.as_str(),
        };
        let part = match self.subset {
            TrainSubset::All => String::new(),
            TrainSubset::HalfA => " half a".into(),
            TrainSubset::HalfB => " half b".into(),
            TrainSubset::Fraction(f) => format!(" {} %", (100.0 * f).round()),
        };
        format!("{data}{part}{}", if self.adam { ", Adam" } else { "" })
    }
}

/// An experiment: a setting's own tickets, or another setting's tickets trained in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    Own(Setting),
    Transfer { target: Setting, source: Setting },
}

impl Role {
    /// The setting the experiment trains in.
    pub fn target(self) -> Setting {
        match self {
            Role::Own(s) | Role::Transfer { target: s, .. } => s,
        }
    }
}

/// An experiment: a network finding its own tickets in a setting, or training a transferred one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exp {
    pub net: Net,
    pub role: Role,
}

/// This paper's experiment type.
pub type Experiment = Exp;
/// Its results files read back.
pub type Loaded = harness::Loaded<Exp>;
pub type Results = harness::Results<Exp>;

impl Exp {
    pub fn name(self) -> String {
        match self.role {
            Role::Own(s) => format!("{}-{}", self.net.name(), s.name()),
            Role::Transfer { target, source } => format!("{}-{}-from-{}", self.net.name(), target.name(), source.name()),
        }
    }

    pub fn label(self) -> String {
        match self.role {
            Role::Own(s) => format!("{}, {} ticket", self.net.label(), s.label()),
            Role::Transfer { target, source } => format!("{}, {} ticket trained on {}", self.net.label(), source.label(), target.label()),
        }
    }

    /// The experiment that finds a transfer's tickets.
    pub fn source(self) -> Option<Exp> {
        match self.role {
            Role::Own(_) => None,
            Role::Transfer { source, .. } => Some(Exp { net: self.net, role: Role::Own(source) }),
        }
    }
}

/// The tenth of the training split of the dataset-size control.
pub const FRACTION: TrainSubset = TrainSubset::Fraction(0.1);

/// A scale's networks, its datasets A (primary) and B, and a third source C for A (`paper`:
/// CIFAR-100, more classes).
pub fn datasets(scale: Scale) -> (&'static [Net], Setting, Setting, Option<Setting>) {
    match scale {
        Scale::Paper => (&[Net::Vgg], Setting::on(DatasetName::Cifar10), Setting::on(DatasetName::FashionMnist), Some(Setting::on(DatasetName::Cifar100))),
        Scale::Small | Scale::Smoke => (&[Net::Lenet, Net::Vgg], Setting::on(DatasetName::FashionMnist), Setting::on(DatasetName::Mnist), None),
    }
}

/// The experiments of `scale`, own tickets first.
pub fn grid(scale: Scale) -> Vec<Exp> {
    let (nets, a, b, c) = datasets(scale);
    let own = [a, b, a.adam(), a.part(TrainSubset::HalfA), a.part(TrainSubset::HalfB), b.part(FRACTION)].into_iter().chain(c);
    let transfers = [(a, b), (b, a), (a, b.part(FRACTION)), (a.part(TrainSubset::HalfB), a.part(TrainSubset::HalfA)), (a.adam(), a), (a, a.adam())]
        .into_iter()
        .chain(c.into_iter().flat_map(|c| [(a, c), (c, a)]));
    let roles: Vec<Role> = own.map(Role::Own).chain(transfers.map(|(target, source)| Role::Transfer { target, source })).collect();
    nets.iter().flat_map(|&net| roles.iter().map(move |&role| Exp { net, role })).collect()
}

/// Every scale's experiments once, in order.
fn all() -> Vec<Exp> {
    let mut out: Vec<Exp> = Vec::new();
    for scale in [Scale::Small, Scale::Paper] {
        for e in grid(scale) {
            if !out.iter().any(|x| x.name() == e.name()) {
                out.push(e);
            }
        }
    }
    out
}

pub static EXPERIMENTS: LazyLock<Vec<ExperimentSpec<Exp>>> = LazyLock::new(|| {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    all()
        .into_iter()
        .map(|e| ExperimentSpec { id: e, name: leak(e.name()), label: leak(e.label()), dataset: e.role.target().dataset, fallback: None })
        .collect()
});

/// Every experiment, in the paper's order (what each figure may draw from).
pub static ALL: LazyLock<Vec<Exp>> = LazyLock::new(|| EXPERIMENTS.iter().map(|e| e.id).collect());

/// Whether `scale` includes experiment `e`.
pub fn included(e: Exp, scale: Scale) -> bool {
    grid(scale).contains(&e)
}

/// The config of `e` at `scale`, its target on `dataset` (the setting's, unless overridden).
/// A transfer's source config is filled in by the harness (`transfer.experiment` names it).
pub fn preset(e: Exp, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
    let target = e.role.target();
    let (model, train, levels, rewind) = network(e.net, target, scale, dataset);
    // The random ticket at every level (at the middle and last one for small's VGG).
    let branches = match e.role {
        Role::Own(_) => {
            let levels = if scale == Scale::Small && e.net == Net::Vgg { vec![levels / 2, levels] } else { (1..=levels).collect() };
            vec![BranchConfig::new(BranchKind::RANDOM_PRUNE, levels, 1)]
        }
        Role::Transfer { .. } => vec![],
    };
    let transfer = e.source().map(|s| TransferConfig {
        experiment: s.name(),
        // The harness replaces it by the source as this run resolves it.
        source: Box::new(preset(s, scale, s.role.target().dataset)),
        reinit_output: true,
    });
    let prune = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Conv, LayerRole::Fc] };
    ExperimentConfig {
        rewind_iteration: if transfer.is_some() { 0 } else { rewind },
        replicates: if scale == Scale::Smoke { 1 } else { 3 },
        branches,
        train_subset: target.subset,
        transfer,
        ..ExperimentConfig::new(format!("{}-{}", e.name(), dataset.as_str()), scale.as_str(), dataset, model, train, prune, levels)
    }
}

/// Model, training, levels and late-reset iteration of `net` in setting `s`.
fn network(net: Net, s: Setting, scale: Scale, dataset: DatasetName) -> (ModelConfig, TrainConfig, u32, u64) {
    // (iterations, evaluation interval, batch, levels)
    let (iterations, eval_every, batch_size, levels) = match (scale, net) {
        (Scale::Paper, _) => (14_080, 352, 512, 30),
        (Scale::Small, Net::Lenet) => (2_000, 250, 60, 16),
        (Scale::Small, Net::Vgg) => (800, 400, 128, 10),
        (Scale::Smoke, _) => (30, 15, 32, 2),
    };
    // Late resetting to 1 of the paper's 160 epochs, as a fraction of training.
    let rewind = (iterations as f64 / 160.0).round() as u64;
    let at = |f: f64| (iterations as f64 * f).round() as u64;
    let (arch, sgd_lr, adam_lr) = match (net, scale) {
        (Net::Lenet, _) => (Arch::Lenet { hidden: vec![300, 100] }, 0.05, 1.2e-3),
        (Net::Vgg, Scale::Paper) => (Arch::Vgg { depth: 19, width: common::models::VGG_WIDTH }, 0.1, 3e-4),
        (Net::Vgg, Scale::Small) => (Arch::Vgg { depth: 11, width: 8 }, 0.1, 3e-4),
        (Net::Vgg, Scale::Smoke) => (Arch::Vgg { depth: 11, width: 4 }, 0.1, 3e-4),
    };
    let (optimizer, schedule) = if s.adam {
        (OptimizerConfig::adam(adam_lr), Schedule::constant())
    } else {
        (
            OptimizerConfig::Sgd { lr: sgd_lr, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
            Schedule { milestones: vec![at(0.5), at(0.75)], gamma: 0.1, warmup: 0 },
        )
    };
    let init = if net == Net::Lenet { InitKind::GlorotNormal } else { InitKind::KaimingNormal };
    let train = TrainConfig {
        optimizer,
        schedule,
        batch_size,
        iterations,
        eval_every,
        augment: matches!(dataset, DatasetName::Cifar10 | DatasetName::Cifar100),
        test_eval: TestEval::Always,
    };
    (ModelConfig { arch, init }, train, levels, rewind)
}
