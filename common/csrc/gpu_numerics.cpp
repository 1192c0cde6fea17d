// The few libtorch settings tch does not expose: how CUDA kernels may round and reorder.
// Called from common::device (Rust); each is a plain C function over ATen's global context.
#include <ATen/Context.h>

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

}  // extern "C"
