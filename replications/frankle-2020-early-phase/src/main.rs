//! # frankle-2020-early-phase
//!
//! Frankle, Schwab & Morcos, "The Early Phase of Neural Network Training" (ICLR 2020, arXiv
//! 2002.10365). A ticket rewound to θ_k, the weights after k iterations, trains to matching
//! accuracy where one rewound to θ_0 does not; what of θ_k does it need? Keeping θ_k's signs
//! but redrawing the magnitudes fails for ResNet-20 (signs suffice only for small networks);
//! permuting the surviving weights — globally, within a layer, within a filter, even among
//! same-sign weights — loses the benefit of rewinding; Gaussian noise is tolerated only at
//! small scales of each layer's initial standard deviation; and the dense network changes
//! fastest in its first iterations (Figure 4's statistics). Fashion-MNIST stands in where
//! CIFAR-10 cannot be had, and the figures say so.
//!
//! ```text
//! frankle-2020-early-phase run figure-1        # signs kept vs rewinding: trains what it needs
//! frankle-2020-early-phase plot                # redraw every figure from results/ only
//! frankle-2020-early-phase summary --headline  # the paper's claims beside ours
//! ```
//!
//! This crate is the paper: its protocol as data ([`presets`]), its figures ([`figures`]) and
//! its claims ([`claims`]). Rewinding and the controls are `common`'s (`rewind_iteration`,
//! `BranchKind::REINIT`); the perturbations are the `rewind-perturbed` stage kind
//! (`common::stage::perturbed`); flags, runs and results are the `harness`'s.

mod claims;
mod figures;
mod presets;

harness::paper! {
    EarlyPhase = "frankle-2020-early-phase", "Frankle et al. 2020 (early phase)",
    "Frankle, Schwab & Morcos (ICLR 2020), The Early Phase of Neural Network Training",
    "θ_k's signs, permutations and noise against rewinding, end to end", included
}
