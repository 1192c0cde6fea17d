//! Where everything lives. Run caches: `<runs>/<experiment>-<hash>/replicate_R/level_L/<stage>/`
//! where `<stage>` is `main` or a branch name (`reinit_0`, `random-prune_0`, `oneshot`, …).

use std::path::{Path, PathBuf};

pub fn experiment_dir(runs: &Path, name: &str, hash: &str) -> PathBuf {
    runs.join(format!("{name}-{hash}"))
}

pub fn stage_dir(exp: &Path, replicate: u32, level: u32, stage: &str) -> PathBuf {
    exp.join(format!("replicate_{replicate}")).join(format!("level_{level}")).join(stage)
}

/// Written last: its presence marks a finished stage.
pub const OUTCOME: &str = "outcome.json";
pub const MASK: &str = "mask.safetensors";
/// Weights the stage started training from (θ_0 or θ_k, masked).
pub const START: &str = "start.safetensors";
pub const FINAL: &str = "final.safetensors";
/// A learned supermask's logits, one per prunable weight.
pub const LOGITS: &str = "logits.safetensors";
/// θ_k saved during level 0 (`rewind_iteration` = k).
pub const REWIND: &str = "rewind.safetensors";
/// The optimizer state beside θ_k and beside a trunk stage's final weights, saved when the
/// config restores it on retraining (`OptimizerStart::WithWeights`).
pub const REWIND_OPTIMIZER: &str = "rewind-optimizer.safetensors";
pub const FINAL_OPTIMIZER: &str = "final-optimizer.safetensors";
pub const CONFIG: &str = "config.json";
/// Held (an open-file-description lock, `imp::FolderLock`) by the process running the experiment or training the stage.
pub const LOCK: &str = "lock";
/// A stage's last failure, one line (removed when it succeeds).
pub const FAILED: &str = "failed";
/// The Slurm job id a stage was submitted as.
pub const SLURM_JOB: &str = "slurm-job";
