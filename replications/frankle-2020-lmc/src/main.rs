//! # frankle-2020-lmc
//!
//! Frankle, Dziugaite, Roy & Carbin, "Linear Mode Connectivity and the Lottery Ticket
//! Hypothesis", ICML 2020 (arXiv 1912.05671). Instability analysis: two copies of a network
//! trained from step k on different data orders (and augmentation), compared along the straight
//! line between them; the error barrier is the instability, < 2 % is stable. Reproduces Figures
//! 2, 3, 5 and 6 for LeNet-300-100 (MNIST), ResNet-20 and VGG-16 (CIFAR-10, each at the standard
//! rate, a low rate and with warmup; Fashion-MNIST where CIFAR-10 cannot be had, and the
//! figures say so): the dense networks vs k, and IMP subnetworks rewound to k beside random
//! pruning and random reinitialisation.
//!
//! ```text
//! frankle-2020-lmc run figure-3             # dense instability vs k: trains what it needs
//! frankle-2020-lmc plot                     # redraw every figure from results/ only
//! frankle-2020-lmc summary --headline       # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Spawned copies, interpolation and instability are `common`'s
//! (`BranchKind::SPAWN*`, `common::interpolate`); flags, runs and results are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    LinearModeConnectivity = "frankle-2020-lmc", "Frankle et al. 2020 (LMC)",
    "Frankle, Dziugaite, Roy & Carbin (ICML 2020), Linear Mode Connectivity and the Lottery Ticket Hypothesis",
    "Figures 2, 3, 5 and 6 end to end", included
}
