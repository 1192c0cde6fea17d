//! End-to-end tests of the `frankle-carbin-2019` binary at smoke scale on synthetic data:
//! Figure 3 from training to PNG/SVG and back from the results alone, the summary, every bad
//! input, interruption at random points, corrupt results and concurrent runs.

mod cli;
mod reliability;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_frankle-carbin-2019");

/// A scratch project folder with `runs/`, `results/`, `figures/`, `data/` inside.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The binary with smoke scale, synthetic data, CPU, one thread per job and two jobs, in the
    /// sandbox; a flag given in `args` replaces its default.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path());
        for (flag, value) in [("--scale", "smoke"), ("--dataset", "synthetic"), ("--device", "cpu"), ("--threads", "1"), ("--jobs", "2")] {
            if !args.contains(&flag) {
                c.args([flag, value]);
            }
        }
        c.arg("--quiet").args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every regular file under `dir` with its bytes (for "nothing changed" checks).
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(snapshot(&p));
            } else if p.file_name().is_some_and(|n| n != "lock") {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The numeric content of a results file: every stage's curves and attributes, wall time excluded.
pub fn numbers(path: &Path) -> Vec<(String, Vec<f64>)> {
    let f = hdf5::File::open(path).unwrap();
    let mut out = Vec::new();
    for rep in f.member_names().unwrap() {
        let rg = f.group(&rep).unwrap();
        for lev in rg.member_names().unwrap() {
            let lg = rg.group(&lev).unwrap();
            for st in lg.member_names().unwrap() {
                let g = lg.group(&st).unwrap();
                for ds in ["train_loss", "val_loss", "val_acc", "test_loss", "test_acc"] {
                    out.push((format!("{rep}/{lev}/{st}/{ds}"), g.dataset(ds).unwrap().read_raw::<f64>().unwrap()));
                }
                let es: i64 = g.attr("early_stop_iteration").unwrap().read_scalar().unwrap();
                let d: f64 = g.attr("density").unwrap().read_scalar().unwrap();
                out.push((format!("{rep}/{lev}/{st}/attrs"), vec![es as f64, d]));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Bitwise comparison of two `numbers` outputs (NaN equals NaN).
pub fn same_numbers(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1.len() == y.1.len() && x.1.iter().zip(&y.1).all(|(p, q)| p.to_bits() == q.to_bits()))
}
