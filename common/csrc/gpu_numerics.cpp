// The few libtorch settings tch does not expose: how CUDA kernels may round and reorder.
// Called from common::device (Rust); each is a plain C function over ATen's global context.
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

extern "C" {

// deterministic != 0: cuDNN picks deterministic algorithms only, operations without a
// deterministic implementation warn (warn_only), and TF32 is off for cuBLAS and cuDNN, so a
// float32 run rounds as float32 everywhere. deterministic == 0: PyTorch's defaults for speed
// (cuDNN may pick nondeterministic algorithms; TF32 stays as PyTorch sets it).
void lt_set_gpu_determinism(int deterministic) {
  auto& ctx = at::globalContext();
  bool on = deterministic != 0;
  ctx.setDeterministicCuDNN(on);
  ctx.setDeterministicAlgorithms(on, /*warn_only=*/true);
  if (on) {
    ctx.setAllowTF32CuBLAS(false);
    ctx.setAllowTF32CuDNN(false);
  }
}

// Bit 0: cuDNN deterministic; bit 1: deterministic algorithms; bit 2: TF32 allowed in cuBLAS;
// bit 3: TF32 allowed in cuDNN.
int lt_gpu_numerics_state() {
  auto& ctx = at::globalContext();
  return (ctx.deterministicCuDNN() ? 1 : 0) | (ctx.deterministicAlgorithms() ? 2 : 0) | (ctx.allowTF32CuBLAS() ? 4 : 0) |
      (ctx.allowTF32CuDNN() ? 8 : 0);
}

// The CUDA runtime's and cuDNN's versions of the libtorch build (e.g. 13000 and 91900), known
// without a GPU; returns 0 and leaves both untouched for a CPU-only build.
int lt_cuda_versions(long* cudart, long* cudnn) {
  try {
    const auto& hooks = at::detail::getCUDAHooks();
    if (!hooks.hasCUDART()) {
      return 0;
    }
    *cudart = hooks.versionCUDART();
    *cudnn = at::globalContext().hasCuDNN() ? hooks.versionCuDNN() : 0;
    return 1;
  } catch (...) {
    return 0;
  }
}

}  // extern "C"
