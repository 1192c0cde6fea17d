//! `imp::FolderLock`: testing whether a folder is locked never takes the lock, so `status` (or
//! a Slurm resubmission asking for a stage's state) cannot make a stage that is starting fail.

use common::imp::FolderLock;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn testing_a_lock_never_makes_an_acquisition_fail() {
    let dir = tempfile::tempdir().unwrap();
    let stop = AtomicBool::new(false);
    let failures = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                FolderLock::is_held(dir.path());
            }
        });
        let mut failures = 0;
        for _ in 0..3_000 {
            match FolderLock::acquire(dir.path(), "stage") {
                Ok(lock) => {
                    assert!(FolderLock::is_held(dir.path()), "a held lock reads as free");
                    drop(lock);
                }
                Err(_) => failures += 1,
            }
        }
        stop.store(true, Ordering::Relaxed);
        failures
    });
    assert_eq!(failures, 0, "{failures} of 3000 acquisitions failed while another thread only tested the lock");
    assert!(!FolderLock::is_held(dir.path()), "a released lock reads as held");
}

#[test]
fn a_held_lock_refuses_a_second_holder_and_names_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = FolderLock::acquire(dir.path(), "experiment").unwrap();
    let e = FolderLock::acquire(dir.path(), "experiment").err().expect("a second acquisition fails");
    assert!(e.to_string().contains(&format!("pid {}", std::process::id())), "{e}");
    drop(first);
    FolderLock::acquire(dir.path(), "experiment").expect("free again once dropped");
}
