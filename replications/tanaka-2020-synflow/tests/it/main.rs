//! `tanaka-2020-synflow` end to end at smoke scale on synthetic data: the harness's CLI suite
//! (bad inputs, SIGKILL and resume, corrupt files, the lock, results that only gain stages) and
//! what is this paper's own.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_tanaka-2020-synflow"),
    id: "tanaka-2020-synflow",
    quick_figure: "figure-6",
    second_figure: "figure-2",
    experiment: "lenet",
    // Every figure draws stages of figure-2 or figure-6.
    unrun_figure: None,
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

#[test]
fn the_masks_figure_trains_nothing_and_records_every_pruners_layer_counts_and_score_sums() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-2"]);
    let r = common::results::read(&s.results(&SUITE, "lenet")).unwrap();
    assert!(r.records.iter().all(|x| x.stage.name().starts_with("mask-at-init")), "no trunk or trained stage is run for the masks");
    // Smoke: 5 pruners × levels 0, 4, 8, 12.
    assert_eq!(r.records.len(), 20);
    for x in &r.records {
        assert!(x.outcome.log.iteration.is_empty(), "{}: a mask is not trained", x.stage);
        assert_eq!(x.metrics["score_sum"].len(), x.layers.len());
        let total: i64 = x.layers.iter().map(|l| l.total).sum();
        let kept: i64 = x.layers.iter().map(|l| l.kept).sum();
        // Level L keeps at most N − ⌊(1 − 10^(−L/4))·N⌋ weights (ties at the threshold pruned).
        let most = total - ((1.0 - 10f64.powf(-f64::from(x.level) / 4.0)) * total as f64).floor() as i64;
        assert!(kept <= most && kept >= most - 5, "{} level {}: kept {kept}, at most {most}", x.stage, x.level);
    }
}
