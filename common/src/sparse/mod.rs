//! Training time that falls with sparsity: pruned fully connected networks trained and evaluated
//! on the CPU by kernels that touch only the surviving weights.
//!
//! Every other path trains the dense network with a multiplicative mask, so a level at 1 % of
//! its weights costs what the dense one does. A LeNet stage whose prunable weights are sparse
//! enough ([`Kernels::sparse_for`]) instead runs [`SparseMlp`]: a hand-written forward and
//! backward step ([`kernels`]: the forward product and the input gradient over a compressed
//! [`Pattern`], the weight gradient at the survivors only) and an optimizer update of the
//! survivors and their state only ([`crate::train::optim::Optimizer::step_with`]).
//!
//! # Semantics
//! What is trained is unchanged: the weights stay in the model's dense tensors, pruned entries
//! exactly zero and never written; a survivor's update is the masked dense update's formula
//! and bits given the same gradient (the optimizer's element function is shared); only the
//! sums inside the products run in another order than MKL's, so a sparse stage matches the
//! dense one to rounding (tested per layer and per step), not bit for bit. Pruned entries of
//! the optimizer's state are left as they were (the masked dense update decays them; neither
//! ever reaches a weight). Stages with frozen pruned values (Zhou et al.), a loss term from a
//! hook, a GPU, or another network keep the dense path.
//!
//! # Which stages, and reproducibility
//! The choice is a fixed rule on the stage's density ([`SPARSE_BELOW`], measured by `make
//! bench`), never a timing taken at run time, so a rerun makes the same choice on any machine.
//! The kernels fix every summation order and round every operation separately, so a sparse
//! stage gives the same bits with AVX2 or the portable loops; the softmax's `exp` is the C
//! library's, in `f64`. The choice (`--kernels auto|dense|sparse`) is part of the run folder's
//! identity ([`Kernels::identity`]) and of every results file's run information.

pub mod kernels;
mod mlp;
pub mod pattern;

pub use mlp::{Blocks, SparseMlp};
pub use pattern::Pattern;

use crate::models::Arch;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::Device;

/// A stage runs on the sparse kernels under `auto` when the fraction of its prunable weights
/// kept is below this: the break-even of a whole LeNet-300-100 step (forward, both gradients,
/// update and evaluation) measured by `make bench` (README, "Speed").
pub const SPARSE_BELOW: f64 = 0.2;

/// Which arithmetic trains a stage's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kernels {
    /// Sparse kernels for a LeNet stage on the CPU below [`SPARSE_BELOW`], dense otherwise.
    #[default]
    Auto,
    /// Dense products with a mask, everywhere (libtorch).
    Dense,
    /// Sparse kernels for every LeNet stage on the CPU, whatever its density (for tests).
    Sparse,
}

impl Kernels {
    pub fn parse(s: &str) -> Result<Kernels> {
        Ok(match s {
            "auto" => Kernels::Auto,
            "dense" => Kernels::Dense,
            "sparse" => Kernels::Sparse,
            _ => bail!("unknown kernels `{s}`; choose auto, dense or sparse"),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kernels::Auto => "auto",
            Kernels::Dense => "dense",
            Kernels::Sparse => "sparse",
        }
    }

    /// Whether the sparse kernels can run `arch` (fully connected networks).
    pub fn runs(arch: &Arch) -> bool {
        matches!(arch, Arch::Lenet { .. })
    }

    /// The tag this choice adds to the run identity of an experiment on `arch`: none where it
    /// cannot change a number (dense, or a network the sparse kernels never run), so those run
    /// folders keep their names.
    pub fn identity(self, arch: &Arch) -> Option<&'static str> {
        (self != Kernels::Dense && Kernels::runs(arch)).then_some(self.as_str())
    }

    /// Whether a stage of `arch` on `device` whose prunable weights are kept at `density`
    /// trains on the sparse kernels.
    pub fn sparse_for(self, arch: &Arch, device: Device, density: f64) -> bool {
        let eligible = Kernels::runs(arch) && device == Device::Cpu;
        match self {
            Kernels::Dense => false,
            Kernels::Sparse => eligible,
            Kernels::Auto => eligible && density < SPARSE_BELOW,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_depends_on_density_network_and_device_only() {
        let lenet = Arch::parse("lenet-300-100").unwrap();
        let conv = Arch::parse("conv-2").unwrap();
        assert!(Kernels::Auto.sparse_for(&lenet, Device::Cpu, 0.1));
        assert!(!Kernels::Auto.sparse_for(&lenet, Device::Cpu, SPARSE_BELOW));
        assert!(!Kernels::Auto.sparse_for(&lenet, Device::Cuda(0), 0.01));
        assert!(!Kernels::Auto.sparse_for(&conv, Device::Cpu, 0.01));
        assert!(Kernels::Sparse.sparse_for(&lenet, Device::Cpu, 1.0));
        assert!(!Kernels::Dense.sparse_for(&lenet, Device::Cpu, 0.01));
        assert_eq!(Kernels::Auto.identity(&lenet), Some("auto"));
        assert_eq!(Kernels::Auto.identity(&conv), None);
        assert_eq!(Kernels::Dense.identity(&lenet), None);
        assert_eq!(Kernels::parse("sparse").unwrap(), Kernels::Sparse);
        assert!(Kernels::parse("fast").unwrap_err().to_string().contains("auto, dense or sparse"));
    }
}
