//! # zhou-2019
//!
//! Zhou, Lan, Liu & Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs, and the
//! Supermask" (NeurIPS 2019, arXiv 1905.01067). Which weights a ticket keeps (mask criteria of
//! the initial and trained weights), what the kept weights restart from (their sign matters
//! most), what the pruned weights hold (zero, frozen at their initial values, or zero only where
//! they moved toward zero), and supermasks: masks that classify on weights never trained.
//! LeNet-300-100 on MNIST and Conv-2/4/6 on CIFAR-10 (Fashion-MNIST where CIFAR-10 cannot be
//! had, and the figures say so).
//!
//! ```text
//! zhou-2019 run figure-2             # accuracy vs sparsity per mask criterion: trains what it needs
//! zhou-2019 plot                     # redraw every figure from results/ only
//! zhou-2019 summary --headline       # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Criteria, tickets and supermasks are `common`'s
//! (`common::criteria`, `common::ticket`, `common::supermask`); flags, runs and results are the
//! `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    Deconstructing = "zhou-2019", "Zhou et al. 2019",
    "Zhou, Lan, Liu & Yosinski (NeurIPS 2019), Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask",
    "mask criteria, signs, zeros and supermasks, end to end", included
}
