//! Integration tests of `common` (one binary: libtorch links once). Hermetic: synthetic data and
//! files generated in the test, a loopback HTTP server, no network.

mod actor_critic;
mod at_init;
mod channels;
mod data;
mod engine;
mod environments;
mod extensions;
mod generic_path;
mod hooks;
mod language_model;
mod locks;
mod migrations;
mod models;
mod new_pruner;
mod new_stage_kind;
mod prune;
mod rewinding;
mod schema;
mod sparse;
mod tickets;
mod transfer;

use std::sync::Once;

/// One intra-op thread: tests run in parallel threads on a 2-core machine.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tch::set_num_threads(1));
}
