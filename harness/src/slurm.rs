//! Running a paper's stages on a Slurm cluster (`--executor slurm`): every stage that is not
//! done becomes one `sbatch` job that runs this same binary's `run-stage` on the shared run
//! folder, with `afterok` dependencies on its parents' jobs, plus one final job that writes the
//! results files and figures (a local `run`, which then finds every stage done). Slurm does the
//! distributing; the numbers are those of a local run, because a job trains exactly the stage a
//! local worker would, from the same files. Stage jobs are submitted with `--requeue` and
//! resume from their checkpoint when they run again; a stage holds its own lock while it trains.

use crate::cli::Opts;
use crate::paper::Paper;
use crate::runner::Prepared;
use anyhow::{bail, Context, Result};
use clap::Args;
use common::imp::{self, JobId, StageState};
use common::paths;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the cluster's `sbatch` gets besides the job itself.
#[derive(Args, Debug, Clone, Default)]
pub struct SlurmOpts {
    /// Slurm partition of every job (sbatch --partition) [default: the cluster's]
    #[arg(long = "slurm-partition", global = true)]
    pub partition: Option<String>,
    /// Slurm account (sbatch --account)
    #[arg(long = "slurm-account", global = true)]
    pub account: Option<String>,
    /// Time limit of each stage job, e.g. 4:00:00 (sbatch --time) [default: the partition's]
    #[arg(long = "slurm-time", global = true)]
    pub time: Option<String>,
    /// Generic resources of each job, e.g. gpu:1 (sbatch --gres)
    #[arg(long = "slurm-gres", global = true)]
    pub gres: Option<String>,
    /// Another sbatch option for every job, repeatable, e.g. --slurm-arg=--qos=long
    #[arg(long = "slurm-arg", global = true, allow_hyphen_values = true)]
    pub extra: Vec<String>,
    /// With --executor slurm: print the job scripts instead of submitting them
    #[arg(long, global = true)]
    pub dry_run: bool,
}

/// Single-quotes `s` for `sh`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot make {} absolute", p.display()))
}

/// The flags that reproduce this run in a job: every path absolute, the dataset the experiment
/// resolved to (a fallback included), the thread count explicit.
fn common_args<P: Paper>(o: &Opts, dataset: Option<&str>) -> Result<Vec<String>> {
    let mut a: Vec<String> = vec!["--scale".into(), o.scale.as_str().into(), "--device".into(), o.device.clone()];
    if let Some(d) = dataset {
        a.extend(["--dataset".into(), d.into()]);
    }
    if let Some(seed) = o.seed {
        a.extend(["--seed".into(), seed.to_string()]);
    }
    if let Some(t) = o.trials {
        a.extend(["--trials".into(), t.to_string()]);
    }
    for c in &o.config {
        a.extend(["--config".into(), absolute(c)?.display().to_string()]);
    }
    let base = |given: &Option<PathBuf>, kind: &str| given.clone().unwrap_or_else(|| PathBuf::from(kind).join(P::ID));
    a.extend(["--runs-dir".into(), absolute(&o.runs_dir)?.display().to_string()]);
    a.extend(["--results-dir".into(), absolute(&base(&o.results_dir, "results"))?.display().to_string()]);
    a.extend(["--figures-dir".into(), absolute(&base(&o.figures_dir, "figures"))?.display().to_string()]);
    a.extend(["--data-dir".into(), absolute(&o.data_dir)?.display().to_string()]);
    a.extend(["--threads".into(), o.threads.unwrap_or(1).to_string(), "--checkpoint-every".into(), o.checkpoint_every.to_string()]);
    a.extend(["--kernels".into(), o.kernels.kernels().as_str().into()]);
    a.extend(["--gpu-numerics".into(), o.gpu_numerics.get().as_str().into()]);
    Ok(a)
}

/// A batch script: `#SBATCH` lines, then `exec` of this binary with `args`.
fn script(o: &Opts, name: &str, log: &Path, args: &[String]) -> Result<String> {
    let exe = std::env::current_exe().context("cannot locate this binary for the job scripts")?;
    let mut s = String::from("#!/bin/sh\n");
    let mut opt = |line: String| s.push_str(&format!("#SBATCH {line}\n"));
    opt(format!("--job-name={name}"));
    opt(format!("--output={}", log.display()));
    opt("--requeue".into());
    // A requeued job appends to its log, so that both attempts stay readable.
    opt("--open-mode=append".into());
    opt(format!("--cpus-per-task={}", o.threads.unwrap_or(1)));
    let so = &o.slurm;
    for (flag, v) in [("partition", &so.partition), ("account", &so.account), ("time", &so.time), ("gres", &so.gres)] {
        if let Some(v) = v {
            opt(format!("--{flag}={v}"));
        }
    }
    for e in &so.extra {
        opt(e.clone());
    }
    let cmd: Vec<String> = std::iter::once(exe.display().to_string()).chain(args.iter().cloned()).map(|x| quote(&x)).collect();
    s.push_str(&format!("exec {}\n", cmd.join(" ")));
    Ok(s)
}

/// `sbatch --parsable [--dependency=afterok:…] script` → the job id.
fn sbatch(script: &Path, after: &[String]) -> Result<String> {
    let mut c = Command::new("sbatch");
    c.arg("--parsable");
    if !after.is_empty() {
        c.arg(format!("--dependency=afterok:{}", after.join(":")));
    }
    let out = c.arg(script).output().context("cannot run sbatch; is this a Slurm login node? (or use --executor local)")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("sbatch refused {}: {}", script.display(), err.lines().next().unwrap_or("").trim());
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("sbatch printed no job id for {}", script.display());
    }
    Ok(id)
}

/// Whether Slurm still has job `id` queued or running (so it need not be submitted again).
fn alive(id: &str) -> bool {
    let out = Command::new("squeue").args(["--noheader", "--format=%T", "--jobs", id]).output();
    out.is_ok_and(|o| {
        let state = String::from_utf8_lossy(&o.stdout).trim().to_string();
        o.status.success()
            && ["PENDING", "RUNNING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "COMPLETING"].contains(&state.as_str())
    })
}

/// Submits (or, with `--dry-run`, prints) one job per stage that is not done, then the final
/// job; prints the job ids. `plans` come transfer sources first: a transferred level waits for
/// its source's level.
pub fn submit<P: Paper>(o: &Opts, plans: &[Prepared<P::Experiment>], figures: &[&str]) -> Result<()> {
    let mut all_ids = Vec::new();
    let mut submitted = 0;
    // Every stage job of this submission, by its experiment's run folder.
    let mut ids: BTreeMap<(PathBuf, JobId), String> = BTreeMap::new();
    for plan in plans {
        let cfg = &plan.config;
        let exp_dir = absolute(&plan.dir)?;
        // A transfer target resolves its source's dataset itself (a --dataset would apply to both).
        let dataset = if plan.source.is_some() { o.dataset_override()?.map(|d| d.as_str()) } else { Some(cfg.dataset.as_str()) };
        let args = common_args::<P>(o, dataset)?;
        for &job in &plan.jobs {
            let dir = paths::stage_dir(&exp_dir, job.replicate, job.level, &job.stage.name());
            match imp::stage_state(&dir) {
                StageState::Done => continue,
                StageState::Running(Some(id)) | StageState::Submitted(id) if alive(&id) => {
                    ids.insert((exp_dir.clone(), job), id.clone());
                    all_ids.push(id);
                    continue;
                }
                _ => {}
            }
            let mut parents: Vec<(PathBuf, JobId)> = imp::dependencies(job, cfg).into_iter().map(|d| (exp_dir.clone(), d)).collect();
            if let (Some(source), imp::Stage::Main) = (&plan.source, job.stage) {
                parents.push((absolute(source)?, job));
            }
            let after: Vec<String> = parents.iter().filter_map(|d| ids.get(d).cloned()).collect();
            let mut stage_args = args.clone();
            stage_args.extend(["run-stage".into(), plan.spec.name.into(), job.replicate.to_string(), job.level.to_string(), job.stage.name()]);
            let name = format!("{}:{}:r{}l{}:{}", P::ID, plan.spec.name, job.replicate, job.level, job.stage);
            let text = script(o, &name, &dir.join("slurm-%j.out"), &stage_args)?;
            let id = if o.slurm.dry_run {
                print!("# {name}, after {}\n{text}\n", if after.is_empty() { "nothing".to_string() } else { format!("jobs {}", after.join(", ")) });
                format!("<{name}>")
            } else {
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                let _ = std::fs::remove_file(dir.join(paths::FAILED));
                let path = dir.join("slurm.sh");
                common::util::write_atomic(&path, text.as_bytes())?;
                let id = sbatch(&path, &after)?;
                common::util::write_atomic(&dir.join(paths::SLURM_JOB), id.as_bytes())?;
                id
            };
            submitted += 1;
            ids.insert((exp_dir.clone(), job), id.clone());
            all_ids.push(id);
        }
    }
    // The final job: a local `run` of the same figures, which finds every stage done and writes
    // the results files and figures.
    // Without --dataset each experiment resolves its own, as it did here.
    let mut args = common_args::<P>(o, o.dataset_override()?.map(|d| d.as_str()))?;
    args.extend(["--executor".into(), "local".into(), "run".into()]);
    args.extend(figures.iter().map(|f| f.to_string()));
    let finish_dir = absolute(&o.runs_dir)?.join("slurm");
    let name = format!("{}:{}:finish", P::ID, o.scale.as_str());
    let text = script(o, &name, &finish_dir.join(format!("{}-{}-finish-%j.out", P::ID, o.scale.as_str())), &args)?;
    if o.slurm.dry_run {
        print!("# {name}, after all {} stage jobs\n{text}", all_ids.len());
        return Ok(());
    }
    std::fs::create_dir_all(&finish_dir).with_context(|| format!("cannot create {}", finish_dir.display()))?;
    let path = finish_dir.join(format!("{}-{}-finish.sh", P::ID, o.scale.as_str()));
    common::util::write_atomic(&path, text.as_bytes())?;
    let finish = sbatch(&path, &all_ids)?;
    println!(
        "submitted {submitted} stage jobs{}; final job {finish} writes the results and figures",
        if all_ids.is_empty() { String::new() } else { format!(" (waiting on {})", all_ids.join(" ")) }
    );
    eprintln!("follow with `{} --scale {} status`; run the same command again to resubmit what failed", P::ID, o.scale.as_str());
    Ok(())
}
