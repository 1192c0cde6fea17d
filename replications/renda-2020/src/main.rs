//! # renda-2020
//!
//! Renda, Frankle & Carbin, "Comparing Rewinding and Fine-tuning in Neural Network Pruning",
//! ICLR 2020 (arXiv 2003.02389). After training for T iterations and pruning, a network
//! retrains for a budget of t iterations by fine-tuning (FT), weight rewinding (WR) or
//! learning-rate rewinding (LRR), or by the authors' two ablations; one-shot pruning to 1.95×,
//! 4.77× and 9.31× compares them epoch for epoch over t, and iterative pruning at 20 % per round
//! compares the paper's iterative algorithm (LRR for the full T) with WR and FT.
//!
//! ```text
//! renda-2020 run figure-1              # one-shot: accuracy change vs t per method
//! renda-2020 plot                      # redraw every figure from results/ only
//! renda-2020 summary --headline        # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: [`presets`], [`figures`], [`claims`]. The retraining methods are
//! `common::config::Retrain`; flags, runs and results are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    Renda = "renda-2020", "Renda et al. 2020",
    "Renda, Frankle & Carbin (ICLR 2020), Comparing Rewinding and Fine-tuning in Neural Network Pruning",
    "one-shot and iterative comparisons end to end", included
}
