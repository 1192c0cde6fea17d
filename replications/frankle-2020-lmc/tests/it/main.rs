//! `frankle-2020-lmc` end to end at smoke scale on synthetic data: the harness's CLI suite, and
//! what is this paper's own — which stages each figure trains, the stored interpolation paths
//! (their ends are the copies' own errors), and the claims table.

use harness::testkit::{self, Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_frankle-2020-lmc"),
    id: "frankle-2020-lmc",
    quick_figure: "figure-5",
    second_figure: "figure-3",
    experiment: "lenet-k0",
    // Figures 2 and 6 draw stages of Figures 3 and 5: every figure is covered by those two.
    unrun_figure: None,
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

/// `level/stage` of every stored stage, a branch named by its kind alone (`2/spawn_1`; the
/// smoke presets' interpolation parameters store it as `spawn-<8 hex digits>_1`).
fn stages(s: &Sandbox, experiment: &str) -> Vec<String> {
    let r = common::results::read(&s.results(&SUITE, experiment)).unwrap();
    r.records.iter().map(|x| format!("{}/{}", x.level, bare(x.stage))).collect()
}

fn bare(stage: common::imp::Stage) -> String {
    match stage {
        common::imp::Stage::Branch(kind, copy) => format!("{}_{copy}", kind.as_str()),
        main => main.to_string(),
    }
}

#[test]
fn dense_figures_train_only_level_zero_pairs_and_store_their_paths() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    // Smoke: one pair per k; ResNet-20 only at k = 0 and 100 (scaled to 0 and 2 iterations).
    assert_eq!(stages(&s, "lenet-k500"), ["0/main", "0/spawn_0", "0/spawn_1"]);
    assert!(s.results(&SUITE, "resnet-20-k100").exists());
    assert!(!s.results(&SUITE, "resnet-20-k250").exists(), "not part of smoke");
    let r = common::results::read(&s.results(&SUITE, "lenet-k500")).unwrap();
    let copy = |c: u32| r.records.iter().find(|x| bare(x.stage) == format!("spawn_{c}")).unwrap();
    assert!(copy(1).stage.to_string().starts_with("spawn-"), "the interpolation's parameters name the stage: {}", copy(1).stage);
    assert_eq!(copy(0).outcome.log.iteration[0], 10, "k = 500 is iteration 10 at smoke");
    let pair = copy(1).pair.as_ref().expect("the pair's path is in the results file");
    let own_error = |c: u32| 1.0 - copy(c).outcome.log.test_acc().last().unwrap();
    assert_eq!(pair.test.first().unwrap().error.to_bits(), own_error(0).to_bits());
    assert_eq!(pair.test.last().unwrap().error.to_bits(), own_error(1).to_bits());
    assert!(pair.distance > 0.0);
    // Figure 2 draws the same stages: it needs no training.
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    s.ok(&["plot", "figure-2"]);
}

#[test]
fn sparse_figures_train_imp_and_both_controls_at_the_last_level() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-5"]);
    let got = stages(&s, "lenet-k0");
    for want in ["2/main", "2/spawn_1", "2/spawn-reinit_1", "2/spawn-random-prune_1"] {
        assert!(got.contains(&want.to_string()), "{want} in {got:?}");
    }
    assert!(!got.contains(&"0/spawn_0".to_string()), "dense pairs belong to figures 2 and 3: {got:?}");
    // ResNet-20's IMP analysis runs only at paper scale: nothing of it is trained here.
    assert!(!s.results(&SUITE, "resnet-20-k0").exists());
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| Sparse subnetworks are matching only when stable |"), "{table}");
    assert!(table.contains("test-error barrier < the paper's 2 % threshold"), "{table}");
    assert!(table.contains("ResNet-20 IMP at 16.8 %, k = 0") && table.contains("not judged"), "{table}");
}

#[test]
fn config_files_match_their_own_rewind_point() {
    let s = Sandbox::new(&SUITE);
    let mut cfg = s.config("lenet-k100");
    assert_eq!(cfg["name"].as_str(), Some("lenet-k100-synthetic"));
    cfg.as_table_mut().unwrap().insert("seed".into(), 5.into());
    let file = s.write_config("k100.toml", &cfg);
    let printed = |e: &str| String::from_utf8_lossy(&s.ok(&["--config", &file, "config", e]).stdout).into_owned();
    assert!(printed("lenet-k100").contains("\nseed = 5\n"));
    assert!(printed("lenet-k0").contains("\nseed = 0\n"), "lenet-k100-… is not lenet-k0's (nor lenet-k10's) config");
    testkit::rejects(&s, &["--scale", "small", "config", "resnet-20-k2000"], "not part of scale small");
}
