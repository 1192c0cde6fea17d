//! Shared build script for every crate whose targets link libtorch (rust-notes B1.3).
//!
//! `rustc-link-arg` from tch's own build script does not reach downstream binaries, so each
//! crate that produces a binary or a test links libtorch itself: an rpath to the venv's
//! `torch/lib` (binaries start without `LD_LIBRARY_PATH`) and `--no-as-needed -ltorch`, so that
//! `libtorch_cuda` is loaded and a GPU is found where one exists. It also records the libtorch
//! version built against (`LIBTORCH_VERSION`) for the results' provenance.
pub fn main() {
    if let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.to_string_lossy());
    }
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    let version = std::env::var("LIBTORCH")
        .ok()
        .and_then(|dir| std::fs::read_to_string(std::path::Path::new(&dir).join("version.py")).ok())
        .and_then(|text| text.lines().find_map(|l| l.strip_prefix("__version__ = ").map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LIBTORCH_VERSION={version}");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=../build/torch_link.rs");
}
