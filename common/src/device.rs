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
            Self::Auto => {
                let device = Device::cuda_if_available();
                if let Some(line) = cpu_fallback_note(device, nvidia_driver().as_deref()) {
                    crate::progress::warn(&line);
                }
                Ok(device)
            }
            Self::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
            Self::Cuda => bail!(
                "--device cuda was requested but libtorch sees no CUDA GPU; run with --device cpu (or auto), or check the driver and that libtorch_cuda is loadable"
            ),
        }
    }
}

/// The NVIDIA kernel driver's version line (`/proc/driver/nvidia/version`), present on a
/// machine with an NVIDIA GPU whether or not libtorch can use it.
fn nvidia_driver() -> Option<String> {
    let text = std::fs::read_to_string("/proc/driver/nvidia/version").ok()?;
    Some(text.lines().next().unwrap_or_default().trim().to_string())
}

/// What `--device auto` says when it settles on the CPU although the machine has an NVIDIA
/// driver (`driver`: its version line): most often a wheel built for a newer driver than the
/// machine's (PyPI's `torch==2.11.0` is CUDA 13.0, which needs driver 580 or newer). `None`
/// when `auto` got a GPU or the machine has no NVIDIA driver.
pub fn cpu_fallback_note(device: Device, driver: Option<&str>) -> Option<String> {
    if device != Device::Cpu {
        return None;
    }
    let driver = driver?;
    Some(format!(
        "an NVIDIA driver is loaded ({driver}) but libtorch sees no usable CUDA GPU, so --device auto trains on the CPU; PyPI's torch 2.11 needs driver 580+ (CUDA 13.0): rebuild with `make build TORCH_CUDA=cu128` or `cu126` for an older driver (README, \"GPU builds\"), or pass --device cpu to silence this"
    ))
}

extern "C" {
    fn lt_set_gpu_determinism(deterministic: libc::c_int);
    fn lt_gpu_numerics_state() -> libc::c_int;
    fn lt_cuda_versions(cudart: *mut libc::c_long, cudnn: *mut libc::c_long) -> libc::c_int;
}

/// The CUDA runtime's and cuDNN's versions of the libtorch build (e.g. 13000, 91900; cuDNN 0
/// where it has none), or `None` for a CPU-only build. Known without a GPU.
pub fn cuda_versions() -> Option<(i64, i64)> {
    let (mut cudart, mut cudnn): (libc::c_long, libc::c_long) = (0, 0);
    // SAFETY: the shim writes two longs through pointers to these locals and catches every C++
    // exception before returning.
    let found = unsafe { lt_cuda_versions(&mut cudart, &mut cudnn) };
    (found != 0).then_some((cudart, cudnn))
}

/// How CUDA kernels may compute (`--gpu-numerics`): `deterministic` (the default) makes a GPU
/// run repeat itself bit for bit, as a CPU run does; `fast` lets libtorch choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuNumerics {
    /// cuDNN's deterministic algorithms only, libtorch's deterministic implementations
    /// (warning where an operation has none), TF32 off for cuBLAS and cuDNN, and cuBLAS's fixed
    /// workspace (`CUBLAS_WORKSPACE_CONFIG=:4096:8`, the setting cuBLAS documents for
    /// reproducibility).
    Deterministic,
    /// libtorch's defaults: cuDNN may pick nondeterministic algorithms, so two runs can differ
    /// in the last bits and drift apart over training.
    Fast,
}

impl GpuNumerics {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deterministic => "deterministic",
            Self::Fast => "fast",
        }
    }

    /// Sets libtorch's global switches for this process when it trains on `device` and that is a
    /// GPU, before its first CUDA work (cuBLAS reads its workspace setting when it starts). On
    /// the CPU nothing changes: libtorch's deterministic mode would fill every new tensor
    /// (`empty`) for nothing.
    pub fn apply(self, device: Device) {
        if !device.is_cuda() {
            return;
        }
        if self == Self::Deterministic && std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
            std::env::set_var("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
        }
        // SAFETY: plain setters on libtorch's global context, no pointers cross.
        unsafe { lt_set_gpu_determinism(libc::c_int::from(self == Self::Deterministic)) }
    }
}

/// libtorch's switches as [`GpuNumerics::apply`] left them: (cuDNN deterministic, deterministic
/// algorithms, TF32 allowed in cuBLAS, TF32 allowed in cuDNN).
pub fn gpu_numerics_state() -> (bool, bool, bool, bool) {
    // SAFETY: a plain getter on libtorch's global context.
    let bits = unsafe { lt_gpu_numerics_state() };
    (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0)
}

/// CUDA devices a run on `base` spreads its stages over: every visible one on a GPU, 1 on the CPU.
pub fn visible_gpus(base: Device) -> usize {
    match base {
        Device::Cuda(_) => usize::try_from(tch::Cuda::device_count()).unwrap_or(1).max(1),
        _ => 1,
    }
}

/// The device training slot `slot` trains on in a run on `base` with `gpus` visible GPUs:
/// cuda:(slot mod gpus), so the stages of one machine spread over all of its GPUs; `base` itself
/// on the CPU or with one GPU.
pub fn placement(base: Device, slot: usize, gpus: usize) -> Device {
    match base {
        Device::Cuda(_) if gpus > 1 => Device::Cuda(slot % gpus),
        other => other,
    }
}

/// A stage's device as its record stores it: `cpu` or `cuda:N`.
pub fn name(d: Device) -> String {
    match d {
        Device::Cpu => cpu_name(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `cpu`, what records written before devices were recorded mean.
pub fn cpu_name() -> String {
    "cpu".into()
}

pub fn is_cpu_name(name: &str) -> bool {
    name == "cpu"
}

/// The kind of arithmetic a device name stands for (`cpu`, `cuda`): stages of different kinds
/// never mix in one run folder or results file.
pub fn class(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

/// A readable device description for provenance: `cpu (Intel(R) Xeon(R) Processor, AVX-512,
/// 2 logical cores)` — the CPU's model and widest vector extension where `/proc/cpuinfo` says
/// them, since libtorch's CPU kernels differ by instruction set and a stage trained again on
/// another CPU repeats its numbers only to rounding — or `cuda:0 of 1 (CUDA runtime …)`.
pub fn describe(d: Device) -> String {
    match d {
        Device::Cpu => {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            let model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| cpu_model(&info));
            format!("cpu ({}{cores} logical cores)", model.map(|m| m + ", ").unwrap_or_default())
        }
        Device::Cuda(i) => match cuda_versions() {
            Some((cudart, cudnn)) => format!("cuda:{i} of {} (CUDA runtime {cudart}, cuDNN {cudnn})", tch::Cuda::device_count()),
            None => format!("cuda:{i}"),
        },
        other => format!("{other:?}"),
    }
}

/// "Intel(R) Xeon(R) Processor, AVX-512" from `/proc/cpuinfo`'s first processor: its model name
/// and the widest of AVX-512 (`avx512f`), AVX2 and AVX among its flags.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |key: &str| cpuinfo.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string()));
    let flags = field("flags").unwrap_or_default();
    let has = |flag: &str| flags.split_whitespace().any(|f| f == flag);
    let isa = [("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")].into_iter().find(|(flag, _)| has(flag)).map(|(_, name)| name);
    match (field("model name"), isa) {
        (Some(model), Some(isa)) => Some(format!("{model}, {isa}")),
        (model, isa) => model.or(isa.map(String::from)),
    }
}

thread_local! {
    static GENERIC_PATH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the device-generic code path on this thread, as a GPU runs it: optimizer
/// updates as tensor ops (no fused CPU loop), convolution weights in the standard layout (not
/// channels-last), no sparse kernels. For tests of the path no CPU run takes otherwise; the
/// numbers equal the CPU path's to rounding. Only code on the calling thread sees it.
pub fn with_generic_path<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            GENERIC_PATH.with(|g| g.set(self.0));
        }
    }
    let _reset = Reset(GENERIC_PATH.with(|g| g.replace(true)));
    f()
}

/// Whether this thread runs the device-generic path ([`with_generic_path`]).
pub fn generic_path() -> bool {
    GENERIC_PATH.with(|g| g.get())
}

/// The libtorch version this binary was built against.
pub const LIBTORCH_VERSION: &str = env!("LIBTORCH_VERSION");

/// Makes glibc keep freed memory in the process. By default it hands blocks of more than
/// 128 KiB (dynamically up to 32 MiB) back to the kernel when freed, and trims the heap top, so
/// every training step faults the activation buffers of the convolutional nets back in as fresh
/// zeroed pages (≈ 20 % of a ResNet-20 step on CPU here). With a fixed 32 MiB mmap threshold
/// and no trimming they are reused instead; numbers are unchanged. Call once, early in `main`.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before worker threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_named_by_its_model_and_widest_vector_extension() {
        let xeon = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse2 avx avx2 avx512f avx512bw\n\nprocessor\t: 1\n";
        assert_eq!(cpu_model(xeon).as_deref(), Some("Intel(R) Xeon(R) Processor, AVX-512"));
        let epyc = "model name\t: AMD EPYC 7B13\nflags\t\t: sse2 avx avx2 fma\n";
        assert_eq!(cpu_model(epyc).as_deref(), Some("AMD EPYC 7B13, AVX2"));
        assert_eq!(cpu_model("processor\t: 0\n"), None, "nothing known: the description keeps only the cores");
        assert!(describe(Device::Cpu).starts_with("cpu (") && describe(Device::Cpu).ends_with("logical cores)"));
    }

    #[test]
    fn auto_on_the_cpu_explains_itself_only_where_an_nvidia_driver_is_loaded() {
        let driver = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15";
        let line = cpu_fallback_note(Device::Cpu, Some(driver)).expect("a driver without a usable GPU is explained");
        assert!(line.contains("550.54.15") && line.contains("TORCH_CUDA=cu128") && !line.contains('\n'), "{line}");
        assert_eq!(cpu_fallback_note(Device::Cpu, None), None, "no NVIDIA driver: the CPU is expected");
        assert_eq!(cpu_fallback_note(Device::Cuda(0), Some(driver)), None, "auto got the GPU");
    }

    /// The shim reaches libtorch's context: deterministic turns cuDNN's and libtorch's
    /// determinism on and TF32 off; fast turns determinism off again.
    #[test]
    fn gpu_numerics_set_libtorchs_switches() {
        GpuNumerics::Deterministic.apply(Device::Cpu);
        assert!(!gpu_numerics_state().0, "nothing changes on the CPU");
        GpuNumerics::Deterministic.apply(Device::Cuda(0));
        assert_eq!(gpu_numerics_state(), (true, true, false, false));
        assert_eq!(std::env::var("CUBLAS_WORKSPACE_CONFIG").as_deref(), Ok(":4096:8"));
        GpuNumerics::Fast.apply(Device::Cuda(0));
        let (cudnn, algorithms, _, _) = gpu_numerics_state();
        assert!(!cudnn && !algorithms);
    }

    #[test]
    fn slots_spread_over_every_visible_gpu_and_the_cpu_stays_the_cpu() {
        let on_three: Vec<Device> = (0..7).map(|slot| placement(Device::Cuda(0), slot, 3)).collect();
        let expected: Vec<Device> = [0, 1, 2, 0, 1, 2, 0].into_iter().map(Device::Cuda).collect();
        assert_eq!(on_three, expected);
        assert!((0..4).all(|slot| placement(Device::Cuda(0), slot, 1) == Device::Cuda(0)), "one GPU: every slot on it");
        assert!((0..4).all(|slot| placement(Device::Cpu, slot, 1) == Device::Cpu));
        assert_eq!(visible_gpus(Device::Cpu), 1);
    }

    /// The shim answers without throwing through C, GPU or not: a CUDA build of libtorch (PyPI's
    /// is one) names its CUDA runtime, 12.6 or newer for PyTorch 2.11; a CPU-only build none.
    #[test]
    fn cuda_versions_are_read_without_a_gpu() {
        match cuda_versions() {
            Some((cudart, cudnn)) => assert!(cudart >= 12_060 && cudnn >= 0, "{cudart} {cudnn}"),
            None => assert!(!tch::Cuda::is_available()),
        }
    }
}
