//! # yu-2020-rl-nlp
//!
//! Yu, Edunov, Tian & Morcos, "Playing the lottery with rewards and multiple languages: lottery
//! tickets in RL and NLP" (ICLR 2020, arXiv 1906.02768). Winning tickets — found by iterative
//! global pruning over every weight and bias with late rewinding — beat random tickets of the
//! same size on classic-control games (Figure 4); late rewinding and iterative pruning both
//! help (Figure 6). This binary runs the classic-control part: CartPole-v0 and Acrobot-v1,
//! written in Rust from Gym's dynamics, trained by FLARE's advantage actor–critic. The language
//! model, the Transformer, LunarLander and Atari are not built yet (see the README).
//!
//! ```text
//! yu-2020-rl-nlp run figure-4            # winning vs random tickets on both games
//! yu-2020-rl-nlp plot                    # redraw every figure from results/ only
//! yu-2020-rl-nlp summary --headline      # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). The games and the actor–critic are `common::rl` behind the
//! `actor-critic` task (`common::task`); flags, runs and results are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    YuRlNlp = "yu-2020-rl-nlp", "Yu et al. 2020 (RL and NLP tickets)",
    "Yu, Edunov, Tian & Morcos (ICLR 2020), Playing the Lottery with Rewards and Multiple Languages: Lottery Tickets in RL and NLP",
    "winning vs random tickets on CartPole and Acrobot and an LSTM language model, end to end", included
}
