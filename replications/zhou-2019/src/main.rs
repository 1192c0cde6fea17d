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

use anyhow::Result;
use common::config::ExperimentConfig;
use common::data::DatasetName;
use common::imp::JobId;
use common::plot::Figure;
use harness::{Claim, ExperimentSpec, FigureSpec, Paper, Results, Scale};
use std::process::ExitCode;

struct Deconstructing;

impl Paper for Deconstructing {
    const ID: &'static str = "zhou-2019";
    const ABOUT: &'static str =
        "Zhou, Lan, Liu & Yosinski (NeurIPS 2019), Deconstructing Lottery Tickets: mask criteria, signs, zeros and supermasks, end to end";
    const CITATION: &'static str = "Zhou et al. 2019";

    fn experiments(&self) -> &'static [ExperimentSpec] {
        presets::EXPERIMENTS.as_slice()
    }

    fn figures(&self) -> &'static [FigureSpec] {
        figures::FIGURES.as_slice()
    }

    fn preset(&self, experiment: &str, scale: Scale, dataset: DatasetName) -> ExperimentConfig {
        let (net, ablation) = presets::parse(experiment);
        presets::experiment(net, ablation, scale, dataset)
    }

    fn runs_at(&self, experiment: &str, scale: Scale) -> bool {
        let (net, ablation) = presets::parse(experiment);
        presets::runs_at(net, ablation, scale)
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
    harness::main(Deconstructing)
}
