use crate::{numbers, same_numbers, snapshot, stderr, Sandbox};
use std::time::{Duration, Instant};

const H5: &str = "results/frankle-carbin-2019/smoke/lenet.h5";

#[test]
fn killed_at_random_points_and_resumed_equals_uninterrupted() {
    let reference = Sandbox::new();
    let o = reference.run(&["--checkpoint-every", "1", "run", "figure-3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = numbers(&reference.path(H5));

    let s = Sandbox::new();
    // Fixed pseudo-random delays (ms): early (data/setup), mid-level, and late (results writes).
    let delays = [40u64, 170, 90, 330, 60, 520, 230, 800, 120, 1400];
    let mut kills = 0;
    for d in delays {
        let mut child = s.cmd(&["--checkpoint-every", "1", "run", "figure-3"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(d));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills >= 3, "the run finished too fast to be interrupted ({kills} kills)");
    let o = s.run(&["--checkpoint-every", "1", "run", "figure-3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = numbers(&s.path(H5));
    assert!(same_numbers(&got, &want), "resumed results differ from the uninterrupted run");
}

#[test]
fn corrupt_results_and_stage_files_are_named_and_never_used() {
    let s = Sandbox::new();
    assert!(s.run(&["run", "figure-3"]).status.success());
    let want = numbers(&s.path(H5));
    // A truncated results file: `plot` names it and changes nothing.
    let bytes = std::fs::read(s.path(H5)).unwrap();
    std::fs::write(s.path(H5), &bytes[..bytes.len() / 2]).unwrap();
    let before = snapshot(s.dir.path());
    let o = s.run(&["plot", "figure-3"]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("lenet.h5 is truncated, corrupt or not ours"), "{err}");
    assert_eq!(snapshot(s.dir.path()), before);
    // A damaged stage record is set aside (kept) and recomputed; results come out identical.
    let exp = std::fs::read_dir(s.path("runs")).unwrap().next().unwrap().unwrap().path();
    let outcome = exp.join("replicate_0/level_5/main/outcome.json");
    std::fs::write(&outcome, b"{\"replicate\": 0, \"lev").unwrap();
    let o = s.cmd(&["run", "figure-3"]).env_remove("RUST_LOG").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let aside: Vec<_> = std::fs::read_dir(outcome.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged record is kept aside, not deleted");
    assert!(same_numbers(&numbers(&s.path(H5)), &want));
}

#[test]
fn a_second_process_on_the_same_experiment_exits_with_a_clear_message() {
    let s = Sandbox::new();
    let o = s.run(&["config", "lenet"]);
    let long = String::from_utf8(o.stdout).unwrap().replace("iterations = 200", "iterations = 20000");
    std::fs::write(s.path("long.toml"), long).unwrap();
    let mut first = s.cmd(&["--config", "long.toml", "run", "figure-3"]).spawn().unwrap();
    let t0 = Instant::now();
    let lock = loop {
        let found = std::fs::read_dir(s.path("runs")).ok().and_then(|mut rd| rd.next()).and_then(|e| e.ok()).map(|e| e.path().join("lock"));
        if let Some(l) = found.filter(|l| std::fs::read_to_string(l).is_ok_and(|t| !t.is_empty())) {
            break l;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "first process never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = s.run(&["--config", "long.toml", "run", "figure-3"]);
    let err = stderr(&o);
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!o.status.success());
    assert!(err.contains("another process (pid") && err.contains("is running this experiment"), "{err}");
    assert!(lock.exists());
}
