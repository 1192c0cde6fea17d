//! Choosing the compute device and the thread settings.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::Device;

/// `--device`: `auto` takes a GPU when libtorch sees one, else the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda,
}

impl DeviceChoice {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            _ => bail!("unknown device `{s}`; choose auto, cpu or cuda"),
        }
    }

    /// The device, or an error when CUDA is asked for and absent.
    pub fn resolve(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Auto => Ok(Device::cuda_if_available()),
            Self::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
            Self::Cuda => bail!(
                "--device cuda was requested but libtorch sees no CUDA GPU; run with --device cpu (or auto), or check the driver and that libtorch_cuda is loadable"
            ),
        }
    }
}

/// A readable device description for provenance.
pub fn describe(d: Device) -> String {
    match d {
        Device::Cpu => format!("cpu ({} logical cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}

/// The libtorch version this binary was built against.
pub const LIBTORCH_VERSION: &str = env!("LIBTORCH_VERSION");
