//! The Slurm executor: job scripts and the per-stage subcommand without a cluster, then a
//! one-node cluster started by the test (skipped, saying why, where Slurm or root is missing;
//! `.ci/run` installs Slurm so CI runs it every time).

use super::SUITE;
use harness::testcluster::SlurmCluster;
use harness::testkit::{self, numbers, same_numbers, Sandbox};
use std::time::{Duration, Instant};

#[test]
fn a_dry_run_prints_one_script_per_stage_with_its_dependencies_and_creates_nothing() {
    let s = Sandbox::new(&SUITE);
    let o = s.ok(&["--executor", "slurm", "--slurm-partition", "gpu", "--slurm-gres", "gpu:1", "--slurm-arg=--qos=long", "--dry-run", "run", "figure-3"]);
    let out = String::from_utf8_lossy(&o.stdout);
    // Smoke figure 3: levels 0..=7 and reinit copies at levels 3 and 7, then the final job.
    assert_eq!(out.matches("#!/bin/sh").count(), 11, "{out}");
    assert_eq!(out.matches("' 'run-stage' 'lenet' '0' '").count(), 10, "{out}");
    assert!(out.contains("# frankle-carbin-2019:lenet:r0l1:main, after jobs <frankle-carbin-2019:lenet:r0l0:main>"), "{out}");
    assert!(out.contains("# frankle-carbin-2019:lenet:r0l3:reinit_0, after jobs <frankle-carbin-2019:lenet:r0l3:main>"), "{out}");
    for line in ["#SBATCH --requeue", "#SBATCH --partition=gpu", "#SBATCH --gres=gpu:1", "#SBATCH --qos=long", "'--executor' 'local' 'run' 'figure-3'"] {
        assert!(out.contains(line), "{line}: {out}");
    }
    assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), 0, "a dry run writes nothing");
}

#[test]
fn a_dry_run_for_gpu_nodes_works_on_a_login_node_without_a_gpu() {
    let s = Sandbox::new(&SUITE);
    let o = s.ok(&["--device", "cuda", "--executor", "slurm", "--dry-run", "run", "figure-3"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("'--device' 'cuda'"), "the compute nodes are asked for the GPU: {out}");
    assert_eq!(std::fs::read_dir(s.dir.path()).unwrap().count(), 0, "a dry run writes nothing");
    if !tch::Cuda::is_available() {
        // Training here still needs the GPU it was asked for, and says so.
        testkit::rejects(&s, &["--device", "cuda", "run", "figure-3"], "libtorch sees no CUDA GPU");
    }
}

#[test]
fn run_stage_trains_one_stage_once_its_parents_are_done_and_status_counts_them() {
    let s = Sandbox::new(&SUITE);
    testkit::rejects(&s, &["run-stage", "lenet", "0", "1", "main"], "needs replicate 0 level 0 main, which is not done");
    testkit::rejects(&s, &["run-stage", "lenet", "0", "99", "main"], "lenet has no stage replicate 0 level 99 main");
    s.ok(&["run-stage", "lenet", "0", "0", "main"]);
    s.ok(&["run-stage", "lenet", "0", "1", "main"]);
    let o = s.ok(&["status", "figure-3"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("lenet: 10 stages: 2 done, 8 not started"), "{text}");
    // The local run reuses both stages and gives the numbers of a run that trained them itself.
    s.ok(&["run", "figure-3"]);
    let fresh = Sandbox::new(&SUITE);
    fresh.ok(&["run", "figure-3"]);
    assert!(same_numbers(&numbers(&s.results(&SUITE, "lenet")), &numbers(&fresh.results(&SUITE, "lenet"))));
    assert!(String::from_utf8_lossy(&s.ok(&["status", "figure-3"]).stdout).starts_with("lenet: 10 stages: 10 done"));
}

/// The stage folder of `stage` at `level` in the sandbox's only run folder.
fn stage_dir(s: &Sandbox, level: u32, stage: &str) -> std::path::PathBuf {
    let exp = std::fs::read_dir(s.path("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("lenet-")))
        .expect("a run folder");
    exp.join(format!("replicate_0/level_{level}/{stage}"))
}

#[test]
fn slurm_jobs_give_the_numbers_of_a_local_run_and_a_requeued_job_resumes_from_its_checkpoint() {
    let cluster = match SlurmCluster::start() {
        Ok(c) => c,
        Err(why) => {
            eprintln!("skipped the Slurm cluster test: {why}");
            return;
        }
    };
    let slurm = |s: &Sandbox, args: &[&str]| {
        let mut all = vec!["--executor", "slurm"];
        all.extend_from_slice(args);
        let o = s.cmd(&all).env("SLURM_CONF", cluster.conf()).output().unwrap();
        assert!(o.status.success(), "{}", testkit::stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    // End to end: ten stage jobs and the final job; the results equal a local run's bit for bit.
    let local = Sandbox::new(&SUITE);
    local.ok(&["run", "figure-3"]);
    let s = Sandbox::new(&SUITE);
    let out = slurm(&s, &["run", "figure-3"]);
    assert!(out.starts_with("submitted 10 stage jobs"), "{out}");
    cluster.wait_until_empty(Duration::from_secs(600));
    assert!(same_numbers(&numbers(&s.results(&SUITE, "lenet")), &numbers(&local.results(&SUITE, "lenet"))), "Slurm and local numbers differ");
    assert!(s.path("figures/frankle-carbin-2019/smoke/figure-3.png").exists(), "the final job drew the figure");
    let status = String::from_utf8_lossy(&s.ok(&["status", "figure-3"]).stdout).into_owned();
    assert!(status.starts_with("lenet: 10 stages: 10 done"), "{status}");
    // Nothing left to do: only the final job is submitted.
    assert!(slurm(&s, &["run", "figure-3"]).starts_with("submitted 0 stage jobs"));
    cluster.wait_until_empty(Duration::from_secs(120));

    // Requeue: a longer level-0 stage is killed mid-training after a checkpoint, runs again from
    // it, and ends with the numbers of an uninterrupted local run.
    let r = Sandbox::new(&SUITE);
    let mut cfg = r.config("lenet");
    cfg["train"].as_table_mut().unwrap().insert("iterations".into(), 3000.into());
    cfg["train"].as_table_mut().unwrap().insert("eval_every".into(), 20.into());
    let file = r.write_config("long.toml", &cfg);
    let out = slurm(&r, &["--config", &file, "--checkpoint-every", "1", "run", "figure-3"]);
    assert!(out.starts_with("submitted 10 stage jobs"), "{out}");
    let t0 = Instant::now();
    while !stage_dir(&r, 0, "main").join("checkpoint.json").exists() {
        assert!(t0.elapsed() < Duration::from_secs(300), "no checkpoint of level 0");
        std::thread::sleep(Duration::from_millis(100));
    }
    let id = std::fs::read_to_string(stage_dir(&r, 0, "main").join("slurm-job")).unwrap();
    cluster.output("scontrol", &["requeue", id.trim()]);
    // Slurm holds a requeued job for two minutes; start it now.
    let t0 = Instant::now();
    while !cluster.output("squeue", &["--noheader", "--format=%r", "--jobs", id.trim()]).contains("BeginTime") {
        assert!(t0.elapsed() < Duration::from_secs(60), "job {id} was not requeued");
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster.output("scontrol", &["update", &format!("jobid={}", id.trim()), "StartTime=now"]);
    cluster.wait_until_empty(Duration::from_secs(600));
    let log = std::fs::read_to_string(stage_dir(&r, 0, "main").join(format!("slurm-{}.out", id.trim()))).unwrap();
    assert!(log.contains("DUE TO JOB REQUEUE") && log.contains("note: resuming"), "{log}");
    assert!(cluster.output("scontrol", &["show", "job", id.trim()]).contains("Restarts=1"));
    let reference = Sandbox::new(&SUITE);
    let file = reference.write_config("long.toml", &cfg);
    reference.ok(&["--config", &file, "--checkpoint-every", "1", "run", "figure-3"]);
    assert!(same_numbers(&numbers(&r.results(&SUITE, "lenet")), &numbers(&reference.results(&SUITE, "lenet"))), "the resumed stage's numbers differ");
}
