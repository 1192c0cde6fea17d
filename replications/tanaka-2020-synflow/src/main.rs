//! # tanaka-2020-synflow
//!
//! Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively
//! conserving synaptic flow" (NeurIPS 2020, arXiv 2006.05467). Pruning before training: random,
//! magnitude, SNIP, GraSP and SynFlow score θ_0 and keep the weights above one global
//! threshold; gradient-based scores obey a conservation law that empties the largest layers
//! first (layer collapse), which SynFlow, iterated 100 times on a data-free objective, avoids
//! up to the maximal compression.
//!
//! ```text
//! tanaka-2020-synflow run figure-2          # layer collapse at initialisation (no training)
//! tanaka-2020-synflow run figure-6          # accuracy vs compression: trains every pruned network
//! tanaka-2020-synflow plot                  # redraw every figure from results/ only
//! tanaka-2020-synflow summary --headline    # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). The pruners are `common::pruners`'; pruning at initialisation is the
//! stage kinds of `common::stage::at_init`.

mod claims;
mod figures;
mod presets;

harness::paper! {
    SynFlow = "tanaka-2020-synflow", "Tanaka et al. 2020",
    "Tanaka, Kunin, Yamins & Ganguli (NeurIPS 2020), Pruning neural networks without any data by iteratively conserving synaptic flow",
    "SynFlow: pruning at initialisation without data, layer collapse and conservation, end to end", included
}
