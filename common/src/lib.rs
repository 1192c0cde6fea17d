//! `common`: the engine shared by every lottery-ticket replication binary.
//!
//! Pipeline, from a resolved [`config::ExperimentConfig`] to a figure:
//! [`data`] (datasets, seeded validation split, provenance) → [`models`] (explicitly initialised
//! networks with PyTorch-style parameter names) → [`train`] (optimizers, schedules, the training
//! loop with periodic evaluation and early-stop bookkeeping) → [`prune`] (masks, magnitude and
//! random pruning) → [`imp`] (iterative magnitude pruning with rewinding, branches, caching,
//! parallel jobs) → [`results`] (one HDF5 file per experiment) → [`aggregate`] and [`plot`].
//!
//! `common` never parses command lines; binaries turn flags into configs and call in here.

pub mod aggregate;
pub mod channels;
pub mod config;
pub mod criteria;
pub mod data;
pub mod device;
pub mod imp;
pub mod interpolate;
pub mod models;
pub mod paths;
pub mod plot;
pub mod progress;
pub mod prune;
pub mod pruners;
pub mod registry;
pub mod results;
pub mod rl;
pub mod rng;
pub mod sparse;
pub mod stability;
pub mod stage;
pub mod supermask;
pub mod task;
pub mod ticket;
pub mod train;
pub mod transfer;
pub mod util;
