//! `frankle-carbin-2019` end to end at smoke scale on synthetic data: the harness's CLI suite
//! (bad inputs, SIGKILL and resume, corrupt files, the lock, results that only gain stages) and
//! what is this paper's own: which stages Figure 3 trains, and its claims table.

use harness::testkit::{self, Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_frankle-carbin-2019"),
    id: "frankle-carbin-2019",
    quick_figure: "figure-3",
    second_figure: "figure-4",
    experiment: "lenet",
    unrun_figure: Some("figure-1"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

mod slurm;

#[test]
fn figure_3_trains_only_its_stages_and_the_results_record_them() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    let r = common::results::read(&s.results(&SUITE, "lenet")).unwrap();
    // Smoke: main levels 0..=7, reinit copies at levels 3 and 7 only.
    let stages: Vec<String> = r.records.iter().map(|x| format!("{}/{}", x.level, x.stage)).collect();
    assert_eq!(stages.iter().filter(|x| x.ends_with("/main")).count(), 8, "{stages:?}");
    assert_eq!(stages.iter().filter(|x| x.contains("reinit")).cloned().collect::<Vec<_>>(), ["3/reinit_0", "7/reinit_0"]);
    for rec in &r.records {
        let (kept, total) = rec.layers.iter().fold((0, 0), |a, l| (a.0 + l.kept, a.1 + l.total));
        assert!((rec.density - kept as f64 / total as f64).abs() < 1e-12);
    }
    let prov = r.provenance().unwrap();
    assert_eq!(prov.dataset, "synthetic");
    // The claims table states each row's tolerance; rows that need other stages are not judged.
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| Frankle & Carbin 2019 | LeNet: ticket vs reinit at Pm 21.1 %, early-stop speed | 2.51× faster |"), "{table}");
    assert!(table.contains("same direction, ≥ half the paper's effect"), "{table}");
    assert!(table.contains("0.75×–1.25× dense"), "{table}");
}

#[test]
fn plot_names_what_an_incomplete_figure_lacks() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    testkit::rejects(&s, &["plot", "figure-4"], "figure-4 is incomplete: lenet.h5 lacks");
}

/// Figure 1's LeNet part alone (how it trains at `paper`, where the Conv networks would take
/// days): drawn from LeNet with a caption line naming the networks it lacks, and redrawn so by
/// `plot` from the results alone; a figure none of whose experiments are present is refused.
#[test]
fn figure_1_draws_its_lenet_part_alone_and_says_so() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["--experiments", "lenet", "run", "figure-1"]);
    let svg = s.path("figures/frankle-carbin-2019/smoke/figure-1.svg");
    let first = std::fs::read_to_string(&svg).unwrap();
    let line = "Partial figure: LeNet-300-100 only; Conv-2, Conv-4, Conv-6 are not in the results at scale `smoke`.";
    assert!(first.contains(line), "the caption says the figure is partial");
    std::fs::remove_file(&svg).unwrap();
    let o = s.ok(&["plot"]);
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), first, "plot redraws the partial figure from the results alone");
    assert!(testkit::stderr(&o).contains("skipping figure-5: figure-5 needs the conv-2, conv-4, conv-6 results"), "{}", testkit::stderr(&o));
    testkit::rejects(&s, &["plot", "figure-5"], "run `frankle-carbin-2019 --scale smoke run figure-5` to train them");
}

#[test]
fn make_claims_gathers_every_claim_row_from_the_results_files() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/claims.sh");
    let bin_dir = std::path::Path::new(SUITE.bin).parent().unwrap();
    let out = s.path("CLAIMS.md");
    let o = std::process::Command::new("sh").arg(&script).args([bin_dir, &s.path("results"), &out]).arg("frankle-carbin-2019").output().unwrap();
    assert!(o.status.success(), "{}", testkit::stderr(&o));
    let table = std::fs::read_to_string(&out).unwrap();
    assert_eq!(table.matches("| Paper | Claim |").count(), 1, "one header: {table}");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| Frankle & Carbin 2019 |")).collect();
    assert_eq!(rows.len(), 13, "the thirteen LeNet claims (Figures 1, 3 and 4) at smoke scale: {table}");
    assert!(rows.iter().all(|r| r.contains("smoke, 1 trial, 200 it, synthetic")), "{table}");
    // Without results the script fails and leaves no table behind.
    let empty = s.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = std::process::Command::new("sh").arg(&script).args([bin_dir, &empty, &empty.join("C.md")]).arg("frankle-carbin-2019").output().unwrap();
    assert!(!o.status.success() && !empty.join("C.md").exists());
}

/// The committed results hold Frankle & Carbin's LeNet claims at `paper` and at `small`: CLAIMS.md
/// sets each claim judged at both side by side, with the verdict at each scale.
#[test]
fn make_claims_sets_the_claims_judged_at_two_scales_side_by_side() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = std::path::Path::new(SUITE.bin).parent().unwrap();
    let sandbox = Sandbox::new(&SUITE);
    let out = sandbox.path("CLAIMS.md");
    let o = std::process::Command::new("sh")
        .arg(root.join("tools/claims.sh"))
        .arg(bin_dir)
        .arg(root.join("results"))
        .arg(&out)
        .arg("frankle-carbin-2019")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", testkit::stderr(&o));
    let table = std::fs::read_to_string(&out).unwrap();
    let (_, across) = table.split_once("## Claims judged at more than one scale").expect("the cross-scale section");
    assert!(across.contains("| Paper | Claim | Ours at `paper` | Ours at `small` | Verdicts |"), "{across}");
    let rows: Vec<&str> = across.lines().filter(|l| l.starts_with("| Frankle & Carbin 2019 | LeNet")).collect();
    // Every LeNet claim judged at `paper` (the figures committed so far; rows still waiting for
    // trials are not) is set beside `small`, where every LeNet row is judged.
    let paper = std::fs::read_to_string(root.join("results/frankle-carbin-2019/paper/headline.md")).unwrap();
    let judged = paper.lines().filter(|l| l.starts_with("| Frankle & Carbin 2019 | LeNet") && !l.contains("| not judged (")).count();
    assert!(judged >= 7, "Figure 3's seven rows at least: {paper}");
    assert_eq!(rows.len(), judged, "the LeNet claims judged at `paper`, judged at both scales: {across}");
    assert!(rows.iter().all(|r| r.contains(" at every scale judged |") || r.contains(" at `paper`; ")), "{across}");
}

/// The results file is what a session commits; the run folder is not. A trial added once the
/// run folder is gone trains that trial only, and keeps the recorded trial's numbers.
#[test]
fn a_trial_added_after_the_run_folder_is_gone_trains_only_itself() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    let h5 = s.results(&SUITE, "lenet");
    let first = testkit::numbers(&h5);
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    s.ok(&["--trials", "2", "run", "figure-3"]);
    let folders: Vec<String> = std::fs::read_dir(s.path("runs"))
        .unwrap()
        .flat_map(|run| std::fs::read_dir(run.unwrap().path()).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("replicate_"))
        .collect();
    assert_eq!(folders, ["replicate_1"], "only the new trial trained");
    let both = testkit::numbers(&h5);
    let kept: Vec<(String, Vec<f64>)> = both.iter().filter(|(stage, _)| stage.starts_with("0/")).cloned().collect();
    assert!(testkit::same_numbers(&first, &kept), "the first trial's numbers are kept");
    assert!(both.len() > first.len(), "the second trial was added");
}

/// A trunk retrained with other arithmetic (here `--kernels sparse` after `dense`; another CPU in
/// practice, once the run folder is gone) replaces the recorded trunk, and the recorded branches
/// that start from it are trained again from the new one: Figure 3's reinitialised tickets in
/// the file carry the masks of the trunk the file records.
#[test]
fn branches_recorded_from_a_trunk_retrained_with_other_numbers_are_trained_again() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["--kernels", "dense", "run", "figure-3"]);
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    let o = s.ok(&["--kernels", "sparse", "--experiments", "lenet", "run", "figure-1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("recorded stages of") && err.contains("training them again from the retrained ones"), "{err}");
    let r = common::results::read(&s.results(&SUITE, "lenet")).unwrap();
    let old: Vec<String> = r.records.iter().filter(|x| !x.outcome.sparse).map(|x| format!("{}/{}", x.level, x.stage)).collect();
    assert!(old.is_empty(), "every stage comes from the retrained trunk: {old:?} kept from the old one");
    assert!(r.records.iter().any(|x| x.stage.to_string() == "reinit_0"), "Figure 3's reinitialised tickets are still there");
}

/// Figure 4 trains trial by trial at `paper`: while some trials of the dense network lack their
/// one-shot stages, the one-shot rows show ours from the trials so far and are not judged.
#[test]
fn one_shot_rows_wait_until_every_trial_has_its_one_shot_stages() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["--trials", "2", "run", "figure-3"]);
    // A run of one trial where the results hold two trains it and names what the figure lacks.
    let o = s.ok(&["run", "figure-4"]);
    assert!(testkit::stderr(&o).contains("skipping figure-4: figure-4 is incomplete"), "{}", testkit::stderr(&o));
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    let oneshot: Vec<&str> = table.lines().filter(|l| l.contains("| LeNet: one-shot tickets")).collect();
    assert_eq!(oneshot.len(), 2, "{table}");
    assert!(oneshot.iter().all(|r| r.contains("not judged (one-shot stages in 1 of the 2 trials so far)") && !r.contains("| — |")), "{table}");
    s.ok(&["--trials", "2", "run", "figure-4"]);
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(!table.contains("trials so far"), "both trials in: judged: {table}");
}
