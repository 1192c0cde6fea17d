//! # frankle-2019-stabilizing
//!
//! Frankle, Dziugaite, Roy & Carbin, "Stabilizing the Lottery Ticket Hypothesis" (arXiv
//! 1903.01611; v1 "The Lottery Ticket Hypothesis at Scale"). IMP that rewinds the surviving
//! weights to θ_k, the weights after k iterations, instead of θ_0: for ResNet-20 and VGG-19 on
//! CIFAR-10 at the standard learning rate, k = 0 finds no matching subnetworks while a k of a few
//! hundred iterations does, and the subnetworks found that way end closer to the full network
//! (stability to pruning) and to each other under another data order (stability to data
//! order). Fashion-MNIST stands in where CIFAR-10 cannot be had, and the figures say so.
//!
//! ```text
//! frankle-2019-stabilizing run figure-1        # accuracy vs sparsity per k: trains what it needs
//! frankle-2019-stabilizing plot                # redraw every figure from results/ only
//! frankle-2019-stabilizing summary --headline  # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Rewinding, the controls, spawned pairs and the stability distances
//! are `common`'s (`rewind_iteration`, `BranchKind`, `common::stability`); flags, runs and
//! results are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    Stabilizing = "frankle-2019-stabilizing", "Frankle et al. 2019 (stabilizing)",
    "Frankle, Dziugaite, Roy & Carbin (arXiv 2019), Stabilizing the Lottery Ticket Hypothesis",
    "IMP rewound to iteration k, its accuracy and stability, end to end", included
}
