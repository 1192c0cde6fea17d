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

use anyhow::Result;
use common::config::ExperimentConfig;
use common::data::DatasetName;
use common::imp::JobId;
use common::plot::Figure;
use harness::{Claim, ExperimentSpec, FigureSpec, Paper, Results, Scale};
use std::process::ExitCode;

struct FrankleCarbin;

impl Paper for FrankleCarbin {
    const ID: &'static str = "frankle-carbin-2019";
    const ABOUT: &'static str = "Frankle & Carbin (ICLR 2019), The Lottery Ticket Hypothesis: Figures 1, 3, 4 and 5 end to end";
    const CITATION: &'static str = "Frankle & Carbin 2019";

    fn experiments(&self) -> &'static [ExperimentSpec] {
        &presets::EXPERIMENTS
    }

    fn figures(&self) -> &'static [FigureSpec] {
        &figures::FIGURES
    }

    fn preset(&self, experiment: &str, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
        presets::experiment(presets::Net::from_name(experiment), scale, dataset)
    }

    fn needs(&self, figure: &str, _experiment: &str, cfg: &ExperimentConfig, job: &JobId) -> bool {
        figures::needs(figure, cfg, job)
    }

    fn draw(&self, figure: &str, results: &Results) -> Result<Figure> {
        figures::draw(figure, results)
    }

    fn claims(&self, results: &Results) -> Result<Vec<Claim>> {
        claims::claims(results)
    }
}

fn main() -> ExitCode {
    harness::main(FrankleCarbin)
}
