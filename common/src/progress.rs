//! Progress reporting: an indicatif bar with ETA on a terminal; plain periodic lines (every 30 s)
//! when stderr is not a terminal (CI logs, `nohup`). The engine's notes ([`note`]: a stage
//! resumed, a damaged file set aside) go to stderr unless the binary was asked to be quiet
//! ([`set_quiet`], from `--quiet`); its warnings ([`warn`]: a dataset replaced by another) always.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences [`note`] for the rest of the process (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A note about what the engine did, on stderr unless quiet.
pub fn note(msg: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("note: {msg}");
    }
}

/// A warning that changes what a run means (other data than asked for), on stderr always.
pub fn warn(msg: &str) {
    eprintln!("warning: {msg}");
}

pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    done: AtomicU64,
    total: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
    quiet: bool,
}

impl Progress {
    /// A progress reporter for `label`; `quiet` prints nothing but warnings.
    pub fn new(label: &str, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(ProgressStyle::with_template("{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} it ({per_sec}, ETA {eta})").expect("valid template"));
            b.set_prefix(label.to_string());
            b
        });
        Progress {
            label: label.into(),
            bar,
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            quiet,
        }
    }

    /// Adds `more` iterations to the total (a run that trains a second set of stages after the
    /// first adds them to the same bar).
    pub fn add_total(&self, more: u64) {
        let total = self.total.fetch_add(more, Ordering::Relaxed) + more;
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.inc(n);
            return;
        }
        // Called every training step: touch the clock and the lock only every 256 steps.
        if self.quiet || done % 256 >= n {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= Duration::from_secs(30) {
            *last = Instant::now();
            let total = self.total.load(Ordering::Relaxed).max(1);
            let secs = self.started.elapsed().as_secs_f64();
            let eta = secs / done as f64 * (total.saturating_sub(done)) as f64;
            eprintln!("{}: {done}/{total} iterations ({:.0}%), {:.0} s elapsed, ETA {:.0} s", self.label, 100.0 * done as f64 / total as f64, secs, eta);
        }
    }

    /// Prints a line without breaking the bar.
    pub fn println(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
