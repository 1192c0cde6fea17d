//! `morcos-2019` end to end at smoke scale on synthetic data: the harness's CLI suite, and what is
//! this paper's own — transfers train their sources first and name them in their config, the
//! Slurm executor orders a transferred level after its source's level, a transfer cannot train
//! before its source, and the claims table.

use harness::testkit::{rejects, Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_morcos-2019"),
    id: "morcos-2019",
    // Figure 2 trains MNIST's trunk only as a source; figure 1 adds its random tickets.
    quick_figure: "figure-2",
    second_figure: "figure-1",
    experiment: "lenet-mnist",
    // The Adam experiments are figure 3's alone.
    unrun_figure: Some("figure-3"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

fn stages(s: &Sandbox, experiment: &str) -> Vec<String> {
    common::results::read(&s.results(&SUITE, experiment)).unwrap().records.iter().map(|x| format!("{}/{}", x.level, x.stage)).collect()
}

#[test]
fn a_transfer_trains_its_source_first_and_carries_the_sources_config() {
    let s = Sandbox::new(&SUITE);
    let toml = String::from_utf8_lossy(&s.ok(&["config", "lenet-fashion-mnist-from-mnist"]).stdout).into_owned();
    assert!(toml.contains("[transfer]\nexperiment = \"lenet-mnist\"\nreinit_output = true\n\n[transfer.source]\nname = \"lenet-mnist-synthetic\""), "{toml}");
    assert!(toml.starts_with("name = \"lenet-fashion-mnist-from-mnist-synthetic\"\nscale = \"smoke\"\ndataset = \"synthetic\"\npruner = \"magnitude\"\nlevels = 2\nrewind_iteration = 0\n"), "{toml}");
    assert!(toml.contains("replicates = 1\nbranches = []\n"), "a transfer has no random ticket of its own: {toml}");
    // --trials reaches the source too: a transfer's replicate r is the source's replicate r.
    s.ok(&["--trials", "2", "run", "figure-1"]);
    let mnist = stages(&s, "lenet-mnist");
    for want in ["0/main", "2/main", "1/random-prune_0", "2/random-prune_0"] {
        assert!(mnist.contains(&want.to_string()), "{want} in {mnist:?}");
    }
    let moved = common::results::read(&s.results(&SUITE, "lenet-fashion-mnist-from-mnist")).unwrap();
    assert_eq!(moved.records.len(), 2 * 3, "levels 0–2 of two replicates, no branches");
    let cfg = moved.config().unwrap();
    let source = common::results::read(&s.results(&SUITE, "lenet-mnist")).unwrap().config().unwrap();
    assert_eq!(cfg.transfer.as_ref().unwrap().source.hash(), source.hash(), "the stored source is the config the source ran with");
    assert_eq!(cfg.transfer.unwrap().source.replicates, 2);
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    for row in ["transferred tickets beat random tickets at high sparsity", "a MNIST ticket trained on Fashion-MNIST is close to its own ticket"] {
        assert!(table.contains(row), "{row}: {table}");
    }
}

#[test]
fn a_transferred_level_waits_for_its_sources_level() {
    let s = Sandbox::new(&SUITE);
    let o = s.ok(&["--executor", "slurm", "--dry-run", "run", "figure-1"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let job = |e: &str, l: u32| format!("<morcos-2019:{e}:r0l{l}:main>");
    let after =
        format!("# morcos-2019:lenet-fashion-mnist-from-mnist:r0l1:main, after jobs {}, {}", job("lenet-fashion-mnist-from-mnist", 0), job("lenet-mnist", 1));
    assert!(out.contains(&after), "{after} in {out}");
    // The sources are submitted before the transfers.
    assert!(out.find("# morcos-2019:lenet-mnist:r0l2:main").unwrap() < out.find("# morcos-2019:lenet-fashion-mnist-from-mnist:r0l0:main").unwrap());
    // A transfer's stage refuses to train before its source's level exists, and names it.
    rejects(
        &s,
        &["run-stage", "lenet-fashion-mnist-from-mnist", "0", "0", "main"],
        "needs replicate 0 level 0 main of its transfer source runs/lenet-mnist-synthetic-",
    );
}

/// `--experiments` naming a transfer's source, which no figure draws itself, is refused with
/// the transfers to name instead; one neither drawn nor a source, with the drawn ones (each
/// refusal one line, exit 2, nothing written).
#[test]
fn experiments_naming_a_source_are_pointed_at_its_transfers() {
    let s = Sandbox::new(&SUITE);
    rejects(
        &s,
        &["--experiments", "lenet-mnist-10pct", "run", "figure-2"],
        "which figure-2 does not draw itself: it trains as the source of lenet-fashion-mnist-from-mnist-10pct; name that one instead",
    );
    rejects(&s, &["--experiments", "lenet-fashion-mnist-adam", "run", "figure-1"], "which figure-1 does not draw; name one of lenet-fashion-mnist,");
}

/// Adding a trial with the run cache gone (a fresh clone) trains the new trial's source levels,
/// not again the first trial's, whose transfers the results files already hold.
#[test]
fn an_added_trial_trains_its_sources_trunk_only_for_the_pending_transfers() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-2"]);
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    s.ok(&["--trials", "2", "run", "figure-2"]);
    let folders: Vec<_> = std::fs::read_dir(s.path("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    let source = folders.iter().find(|p| p.file_name().unwrap().to_string_lossy().starts_with("lenet-mnist-10pct-")).expect("the source's run folder");
    assert!(source.join("replicate_1").is_dir(), "the second trial's source levels are trained");
    assert!(!source.join("replicate_0").exists(), "the first trial's source levels are not trained again");
    assert_eq!(stages(&s, "lenet-fashion-mnist-from-mnist-10pct").len(), 2 * 3, "levels 0–2 of both trials transferred");
}
