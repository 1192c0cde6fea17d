//! Resumable checkpoints of a training run and weight snapshots.
//!
//! A checkpoint is two files in the run folder: `checkpoint-<iteration>.safetensors` (weights
//! `w/<name>` and optimizer state `o/<name>`) and `checkpoint.json` (the tensor file's name and
//! SHA-256, iteration, optimizer step count, the evaluation log so far, the config hash). Both
//! are written atomically, tensors first, each checkpoint's tensors under a new name; the JSON
//! is the commit point, and the previous tensor file is removed only after it. A process killed
//! at any instant (a preempted or requeued Slurm job) leaves a JSON whose tensor file exists and
//! matches. On load, a JSON whose hash or config does not match is reported and ignored (the run
//! restarts that stage from its start — never from a wrong state). The data order needs no saved RNG state: it is a pure function of the
//! seed and the iteration (see the batch gather in [`super::train`]).

use super::optim::Optimizer;
use super::EvalLog;
use crate::models::Model;
use crate::util::{sha256_file, write_atomic, write_tensors};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Device, Tensor};

#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    /// The tensor file, in the same folder (checkpoints written before this field named their
    /// tensors `checkpoint.safetensors`).
    #[serde(default = "legacy_tensors")]
    pub tensors_file: String,
    pub config_hash: String,
    pub iteration: u64,
    pub optimizer_steps: u64,
    pub log: EvalLog,
    pub tensors_sha256: String,
}

fn legacy_tensors() -> String {
    "checkpoint.safetensors".into()
}

pub struct Loaded {
    pub meta: Meta,
    pub weights: BTreeMap<String, Tensor>,
    pub optimizer: BTreeMap<String, Tensor>,
}

/// Where one run keeps its checkpoint, and how often (every `every` evaluations).
pub struct Slot {
    pub dir: PathBuf,
    pub config_hash: String,
    pub every: usize,
}

impl Slot {
    fn json(&self) -> PathBuf {
        self.dir.join("checkpoint.json")
    }
    /// Every checkpoint tensor file in the folder (at most two: the committed one and one being
    /// written).
    fn tensor_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return vec![] };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("checkpoint") && n.to_string_lossy().ends_with(".safetensors")))
            .collect()
    }

    pub fn due(&self, evaluations: usize) -> bool {
        self.every > 0 && evaluations.is_multiple_of(self.every)
    }

    pub fn save(&self, model: &Model, opt: &Optimizer, iteration: u64, log: &EvalLog) -> Result<()> {
        let mut named: Vec<(String, Tensor)> = model.parameters().into_iter().map(|(k, v)| (format!("w/{k}"), v)).collect();
        named.extend(opt.state().into_iter().map(|(k, v)| (format!("o/{k}"), v)));
        let tensors_file = format!("checkpoint-{iteration}.safetensors");
        let tensors = self.dir.join(&tensors_file);
        write_tensors(&tensors, &named)?;
        let meta = Meta {
            tensors_sha256: sha256_file(&tensors)?,
            tensors_file,
            config_hash: self.config_hash.clone(),
            iteration,
            optimizer_steps: opt.steps,
            log: log.clone(),
        };
        write_atomic(&self.json(), serde_json::to_string(&meta)?.as_bytes())?;
        // Committed: the older tensor files are no longer referenced.
        for old in self.tensor_files().into_iter().filter(|p| *p != tensors) {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }

    /// The checkpoint if one exists and verifies; `None` (with a message) otherwise.
    pub fn load(&self, device: Device) -> Option<Result<Loaded>> {
        let json = self.json();
        if !json.exists() {
            return None;
        }
        let attempt = || -> Result<Loaded> {
            let meta: Meta = serde_json::from_slice(&std::fs::read(&json)?).context("unreadable JSON")?;
            if meta.config_hash != self.config_hash {
                anyhow::bail!("it belongs to config {}, not {}", meta.config_hash, self.config_hash);
            }
            let tensors = self.dir.join(&meta.tensors_file);
            if sha256_file(&tensors)? != meta.tensors_sha256 {
                anyhow::bail!("its tensor file fails the SHA-256 check");
            }
            let mut weights = BTreeMap::new();
            let mut optimizer = BTreeMap::new();
            for (k, v) in Tensor::read_safetensors(&tensors)? {
                let v = v.to_device(device);
                if let Some(n) = k.strip_prefix("w/") {
                    weights.insert(n.to_string(), v);
                } else if let Some(n) = k.strip_prefix("o/") {
                    optimizer.insert(n.to_string(), v);
                }
            }
            Ok(Loaded { meta, weights, optimizer })
        };
        match attempt() {
            Ok(l) => Some(Ok(l)),
            Err(e) => {
                crate::progress::note(&format!("ignoring checkpoint {} ({e:#}); this stage restarts from its beginning", json.display()));
                None
            }
        }
    }

    /// Removes the checkpoint once the run's final outputs are written.
    pub fn clear(&self) {
        let _ = std::fs::remove_file(self.json());
        for t in self.tensor_files() {
            let _ = std::fs::remove_file(t);
        }
    }
}

/// Writes weights as safetensors, atomically.
pub fn save_weights(path: &Path, w: &BTreeMap<String, Tensor>) -> Result<()> {
    let named: Vec<(String, Tensor)> = w.iter().map(|(k, v)| (k.clone(), v.shallow_clone())).collect();
    write_tensors(path, &named)
}

/// Reads weights written by [`save_weights`].
pub fn load_weights(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    Ok(Tensor::read_safetensors(path)
        .map_err(|e| anyhow::format_err!("cannot read weights {} ({e}); delete it to recompute", path.display()))?
        .into_iter()
        .collect())
}
