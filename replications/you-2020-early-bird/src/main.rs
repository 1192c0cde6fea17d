//! # you-2020-early-bird
//!
//! You, Li, Xu, Fu, Wang, Chen, Baraniuk, Wang & Lin, "Drawing Early-Bird Tickets: Towards More
//! Efficient Training of Deep Networks" (ICLR 2020, arXiv 1909.11957). Network slimming's L1
//! penalty on batch-norm scales makes the channels worth keeping visible early: the global
//! channel mask at a pruning ratio stops changing within the first tenth or fifth of training
//! (a mask distance below ε over five epoch starts), and that early-bird ticket, its channels
//! physically removed, trains on to the accuracy of train → prune → retrain at a fraction of
//! its cost.
//!
//! ```text
//! you-2020-early-bird run figure-mask-distance   # the search alone: masks of every epoch start
//! you-2020-early-bird run all                    # every ticket retrained, Figure 1 and the cost figure
//! you-2020-early-bird plot                       # redraw every figure from results/ only
//! you-2020-early-bird summary --headline         # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Channel masks, the detector, physical removal and FLOP counts are
//! `common::channels`; the search and the tickets are the stage kinds of
//! `common::stage::early_bird`.

mod claims;
mod figures;
mod presets;

harness::paper! {
    EarlyBird = "you-2020-early-bird", "You et al. 2020",
    "You et al. (ICLR 2020), Drawing Early-Bird Tickets: Towards More Efficient Training of Deep Networks",
    "channel pruning by batch-norm scale during training, the mask distance and EB Train, end to end",
    included
}
