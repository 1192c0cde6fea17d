//! The shared link step ([`torch_link`]), then the C++ shims `csrc/*.cpp` (CUDA numerics
//! switches, the multi-tensor optimizer update) compiled against the venv's libtorch headers
//! (the same `LIBTORCH` torch-sys builds against).
#[path = "../build/torch_link.rs"]
mod torch_link;

fn main() {
    torch_link::main();
    let libtorch = std::path::PathBuf::from(std::env::var("LIBTORCH").expect("LIBTORCH is set in .cargo/config.toml"));
    cc::Build::new()
        .cpp(true)
        .file("csrc/gpu_numerics.cpp")
        .file("csrc/foreach_update.cpp")
        .include(libtorch.join("include"))
        .include(libtorch.join("include/torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={}", std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into())))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("lt_shims");
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
}
