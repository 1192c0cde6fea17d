//! `harness`: everything a paper binary shares, so that a paper binary is only its presets, its
//! figures and its claims (the [`Paper`] trait).
//!
//! - [`cli`]: the flags (`--scale --device --seed --trials --dataset --config --runs-dir
//!   --results-dir --figures-dir --data-dir --jobs --threads --checkpoint-every --quiet
//!   --executor` and the `--slurm-*` options), the subcommands (`run [figure…|all]`, `plot`,
//!   `summary [--json|--headline]`, `config NAME`, `status`, the hidden `run-stage`),
//!   one-line errors and exit codes, and [`main`].
//! - [`runner`]: data choice, the run-folder lock, the stages each figure needs (closed under
//!   dependencies), progress and resume, results files that only ever gain stages, drawing.
//! - [`slurm`]: `--executor slurm`, one `sbatch` job per stage, and the final job.
//! - [`report`]: `summary`; [`claims`]: the claims table with tolerances and verdicts.
//! - [`testkit`]: the CLI test suite every paper binary instantiates with [`cli_suite!`];
//!   [`testcluster`]: a one-node Slurm cluster for the executor's tests.
//!
//! A new paper: see "Adding a paper binary" in ARCHITECTURE.md.

pub mod claims;
pub mod cli;
pub mod paper;
pub mod report;
pub mod runner;
pub mod slurm;
pub mod testcluster;
pub mod testkit;

pub use claims::{Claim, ScaleData, Spread, Tolerance, Verdict};
pub use cli::main;
pub use paper::{dense_accuracies, figure_label, provenance_clause, trials, ExperimentId, ExperimentSpec, FigureSpec, Loaded, Paper, Readout, Results, Scale};
