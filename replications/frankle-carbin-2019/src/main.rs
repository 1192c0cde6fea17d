//! # frankle-carbin-2019
//!
//! Frankle & Carbin, "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
//! ICLR 2019 (arXiv 1803.03635 v5). Reproduces Figures 1, 3, 4 and 5: iterative magnitude
//! pruning with reset to initialisation (rewind iteration 0), random-reinitialisation and
//! random-sparsity controls, and one-shot pruning, for LeNet-300-100 (MNIST) and Conv-2/4/6
//! (CIFAR-10; Fashion-MNIST where CIFAR-10 cannot be had, and the figures say so).
//!
//! ```text
//! frankle-carbin-2019 run figure-3            # train what Figure 3 needs, write results + figure
//! frankle-carbin-2019 plot                    # redraw every figure from results/ only
//! frankle-carbin-2019 summary --headline      # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Flags, runs, results and tests are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    FrankleCarbin = "frankle-carbin-2019", "Frankle & Carbin 2019",
    "Frankle & Carbin (ICLR 2019), The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
    "Figures 1, 3, 4 and 5 end to end"
}
