//! # morcos-2019
//!
//! Morcos, Yu, Paganini & Tian, "One ticket to win them all: generalizing lottery ticket
//! initializations across datasets and optimizers" (NeurIPS 2019, arXiv 1906.02773). A ticket —
//! the mask and late-reset weights IMP finds in one setting — trained in another: another
//! dataset (the output layer re-initialised), another optimizer; beside the target's own ticket
//! and a random ticket, with a same-distribution control (two disjoint halves of one training
//! set) and a dataset-size control (a ticket from a tenth of the source's data).
//!
//! ```text
//! morcos-2019 run figure-1           # tickets across datasets: trains the sources first, then the transfers
//! morcos-2019 plot                   # redraw every figure from results/ only
//! morcos-2019 summary --headline     # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Transfer is `common::transfer`'s; training a transfer's source first
//! is the `harness`'s.

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

struct OneTicket;

impl Paper for OneTicket {
    const ID: &'static str = "morcos-2019";
    const ABOUT: &'static str =
        "Morcos, Yu, Paganini & Tian (NeurIPS 2019), One ticket to win them all: lottery tickets transferred across datasets and optimizers, end to end";
    const CITATION: &'static str = "Morcos et al. 2019";

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
        presets::runs_at(presets::parse(experiment), scale)
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
    harness::main(OneTicket)
}
