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

harness::paper! {
    OneTicket = "morcos-2019", "Morcos et al. 2019",
    "Morcos, Yu, Paganini & Tian (NeurIPS 2019), One ticket to win them all: generalizing lottery ticket initializations across datasets and optimizers",
    "lottery tickets transferred across datasets and optimizers, end to end", included
}
