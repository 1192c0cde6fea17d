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

use anyhow::Result;
use common::config::ExperimentConfig;
use common::data::DatasetName;
use common::imp::JobId;
use common::plot::Figure;
use harness::{Claim, ExperimentSpec, FigureSpec, Paper, Results, Scale};
use std::process::ExitCode;

struct Renda;

impl Paper for Renda {
    const ID: &'static str = "renda-2020";
    const ABOUT: &'static str =
        "Renda, Frankle & Carbin (ICLR 2020), Comparing Rewinding and Fine-tuning in Neural Network Pruning: one-shot and iterative comparisons end to end";
    const CITATION: &'static str = "Renda et al. 2020";

    fn experiments(&self) -> &'static [ExperimentSpec] {
        presets::EXPERIMENTS.as_slice()
    }

    fn figures(&self) -> &'static [FigureSpec] {
        figures::FIGURES.as_slice()
    }

    fn preset(&self, experiment: &str, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
        presets::experiment(presets::parse(experiment), scale, dataset)
    }

    fn runs_at(&self, experiment: &str, scale: Scale) -> bool {
        presets::parse(experiment).runs_at(scale)
    }

    fn needs(&self, figure: &str, experiment: &str, cfg: &ExperimentConfig, job: &JobId) -> bool {
        figures::needs(figure, experiment, cfg, job)
    }

    fn draw(&self, figure: &str, results: &Results) -> Result<Figure> {
        figures::draw(figure, results)
    }

    fn claims(&self, results: &Results) -> Result<Vec<Claim>> {
        claims::claims(results)
    }
}

fn main() -> ExitCode {
    harness::main(Renda)
}
