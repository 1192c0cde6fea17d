//! `frankle-2019-stabilizing` end to end at smoke scale on synthetic data: the harness's CLI
//! suite, and what is this paper's own — which stages each figure trains, that every k's
//! pruned levels restart at k, the stability records in the results files, and the claims table.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_frankle-2019-stabilizing"),
    id: "frankle-2019-stabilizing",
    quick_figure: "figure-2",
    second_figure: "figure-3",
    experiment: "resnet-20-k0",
    // The controls (random reinit and pruning) are Figure 1's alone.
    unrun_figure: Some("figure-1"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

fn records(s: &Sandbox, experiment: &str) -> Vec<common::imp::StageRecord> {
    common::results::read(&s.results(&SUITE, experiment)).unwrap().records
}

/// `level/stage` of every stored stage, a branch named by its kind alone (`2/spawn_1`; the
/// smoke presets' interpolation parameters store it as `spawn-<8 hex digits>_1`).
fn stages(s: &Sandbox, experiment: &str) -> Vec<String> {
    let bare = |stage| match stage {
        common::imp::Stage::Branch(kind, copy) => format!("{}_{copy}", kind.as_str()),
        main => format!("{main}"),
    };
    records(s, experiment).iter().map(|x| format!("{}/{}", x.level, bare(x.stage))).collect()
}

#[test]
fn stability_figure_trains_the_trunk_and_one_data_order_pair_per_k() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    // Smoke: k = 0, 25, 100 of small's grid run at 0, 1 and 4 iterations; levels 0–2, the pair at 2.
    for (experiment, k) in [("resnet-20-k0", 0), ("resnet-20-k25", 1), ("resnet-20-k100", 4)] {
        assert_eq!(stages(&s, experiment), ["0/main", "1/main", "2/main", "2/spawn_0", "2/spawn_1"], "{experiment}");
        for r in records(&s, experiment) {
            let first = r.outcome.log.iteration[0];
            assert_eq!(first, if r.level == 0 { 0 } else { k }, "{experiment} {}/{} starts at k", r.level, r.stage);
            // Every stage but the dense trunk is compared with the full network.
            assert_eq!(r.pruning.is_some(), r.level > 0, "{experiment} {}/{}", r.level, r.stage);
        }
        let pair = records(&s, experiment).into_iter().find(|r| r.stage.kind().is(common::config::BranchKind::SPAWN) && r.stage.copy() == 1).unwrap();
        assert!(pair.pair.as_ref().unwrap().distance > 0.0, "two data orders end apart");
    }
    assert!(!s.results(&SUITE, "resnet-20-k500").exists(), "paper's ks are not part of smoke");
    assert!(!s.results(&SUITE, "vgg-19-k0").exists(), "VGG-19 runs at paper scale only");
    // The stability attributes are in the HDF5 file for Python readers.
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("rewinding to k = 4 makes IMP stabler to pruning"), "{table}");
    assert!(table.contains("0×–0.9× k = 0's L2 distance, where the late k raises accuracy"), "{table}");
    assert!(table.contains("VGG-19 at") && table.contains("not judged"), "{table}");
}

#[test]
fn the_controls_run_once_per_variant_in_its_k0_experiment() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-1"]);
    let k0 = stages(&s, "resnet-20-k0");
    for want in ["1/reinit_0", "2/reinit_0", "1/random-prune_0", "2/random-prune_0"] {
        assert!(k0.contains(&want.to_string()), "{want} in {k0:?}");
    }
    assert!(!k0.iter().any(|x| x.contains("spawn")), "pairs belong to figure 3: {k0:?}");
    assert!(!stages(&s, "resnet-20-k25").iter().any(|x| x.contains("reinit") || x.contains("random")));
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("k = 0: IMP no better than random reinitialisation") && table.contains("IMP ≤ reinit + 1 pp"), "{table}");
}
