//! `renda-2020` end to end at smoke scale on synthetic data: the harness's CLI suite, and what
//! is this paper's own — each (method, budget) is one experiment whose retraining starts at
//! T − t, one-shot stages need only the dense network, and the claims table.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_renda-2020"),
    id: "renda-2020",
    quick_figure: "figure-2",
    second_figure: "figure-1",
    experiment: "lenet-lrr-t100",
    // Figure 1 (one-shot) and figure 2 (iterative) together train every stage either draws.
    unrun_figure: None,
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

#[test]
fn one_shot_figure_trains_the_dense_network_and_one_shot_stages_only() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-1"]);
    let r = common::results::read(&s.results(&SUITE, "lenet-wr-t25")).unwrap();
    let stages: Vec<String> = r.records.iter().map(|x| format!("{}/{}", x.level, x.stage)).collect();
    assert_eq!(stages, ["0/main", "1/oneshot", "3/oneshot"], "no iterative trunk is trained for one-shot pruning");
    // t = 25 % of T = 200: retraining starts at iteration 150 and runs 50 iterations.
    let oneshot = r.records.iter().find(|x| x.level == 3).unwrap();
    assert_eq!(oneshot.outcome.log.iteration.first(), Some(&150));
    assert_eq!(oneshot.outcome.log.iteration.last(), Some(&200));
    let cfg = r.config().unwrap();
    assert_eq!((cfg.rewind_iteration, cfg.retrain), (150, common::config::Retrain::WeightRewind));
    for e in ["lenet-ft-t50", "lenet-lrr-t75", "lenet-lowlr-wr-t90", "lenet-reinit-t100"] {
        assert!(s.results(&SUITE, e).exists(), "{e}");
    }
    assert!(!s.results(&SUITE, "resnet-20-lrr-t100").exists(), "ResNet-20 is paper scale only");
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| Renda et al. 2020 | LeNet-300-100, one-shot 4.77×: WR collapses at t = T"), "{table}");
}

#[test]
fn iterative_figure_trains_the_three_iterative_methods() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-2"]);
    for (e, iterative) in [("lenet-lrr-t100", true), ("lenet-wr-t90", true), ("lenet-ft-t100", true), ("lenet-lrr-t50", false)] {
        assert_eq!(s.results(&SUITE, e).exists(), iterative, "{e}");
    }
    let r = common::results::read(&s.results(&SUITE, "lenet-ft-t100")).unwrap();
    assert_eq!(r.records.iter().filter(|x| x.stage.to_string() == "main").count(), 4, "levels 0..=3");
}
