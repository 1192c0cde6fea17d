//! `yu-2020-rl-nlp` end to end at smoke scale on CartPole: the harness's CLI suite (bad inputs,
//! SIGKILL and resume, corrupt files, the lock, results that only gain stages) and what is this
//! paper's own.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_yu-2020-rl-nlp"),
    id: "yu-2020-rl-nlp",
    quick_figure: "figure-4",
    second_figure: "figure-6",
    experiment: "cartpole",
    unrun_figure: None,
    dataset: "cartpole-v0",
};

harness::cli_suite!(SUITE);

#[test]
fn every_ticket_records_its_games_and_the_dense_network_does_not_depend_on_the_rewind_point() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-4", "figure-6"]);
    let late = common::results::read(&s.results(&SUITE, "cartpole")).unwrap();
    let k0 = common::results::read(&s.results(&SUITE, "cartpole-k0")).unwrap();
    let cfg = late.config().unwrap();
    for r in &late.records {
        let log = &r.outcome.log;
        let games = *log.iteration.last().unwrap();
        assert!(games >= cfg.train.iterations, "{}: trained to the last game", r.stage);
        assert!(log.last("reward").is_some_and(|x| x.is_finite() && x > 0.0), "{}: a CartPole reward is positive", r.stage);
        // Late rewinding: pruned tickets start at game k (one epoch).
        let first = if r.level == 0 && r.stage == common::imp::Stage::Main { 0 } else { cfg.rewind_iteration };
        assert_eq!(log.iteration[0], first, "{}", r.stage);
    }
    // Global pruning over weights and biases: 20 % of the survivors per level.
    let density = |l: u32| late.records.iter().find(|r| r.level == l && r.stage == common::imp::Stage::Main).unwrap().density;
    assert!((density(1) - 0.8).abs() < 1e-3 && (density(3) - 0.512).abs() < 1e-3);
    assert!(late.records.iter().any(|r| r.layers.iter().any(|l| l.name.ends_with(".bias") && l.kept < l.total)), "biases are pruned");
    let dense =
        |x: &common::results::ExperimentResults| x.records.iter().find(|r| r.level == 0 && r.stage == common::imp::Stage::Main).unwrap().outcome.log.clone();
    assert_eq!(dense(&late), dense(&k0), "the same dense run whatever the rewind point");
    // The results file holds one reward per epoch and the start (its `curves/` group).
    let reinit = late.records.iter().find(|r| r.level == 2 && r.stage.name() == "reinit_0").unwrap();
    let epochs = (cfg.train.iterations - cfg.rewind_iteration) / cfg.train.eval_every;
    assert_eq!(reinit.outcome.log.curve("reward").len() as u64, epochs + 1);
    assert!(reinit.outcome.log.val_acc().is_empty(), "no accuracies for a game");
}

/// Figure 6 sets the ablations beside the random tickets: `run figure-6` alone trains them.
#[test]
fn figure_6_alone_trains_the_random_tickets_it_draws() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-6"]);
    let late = common::results::read(&s.results(&SUITE, "cartpole")).unwrap();
    assert!(late.records.iter().any(|r| r.stage.name() == "reinit_0"), "the random tickets are trained");
    let svg = std::fs::read_to_string(s.path("figures/yu-2020-rl-nlp/smoke/figure-6.svg")).unwrap();
    assert!(svg.contains("random tickets"), "and drawn");
}

#[test]
fn an_image_dataset_is_refused_in_one_line() {
    let s = Sandbox::new(&SUITE);
    let o = s.run(&["--dataset", "synthetic", "run", "figure-4"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("plays a game") && err.contains("cartpole-v0"), "{err}");
    assert!(
        !s.path("results").exists() || std::fs::read_dir(s.path("results/yu-2020-rl-nlp/smoke")).map_or(true, |mut d| d.next().is_none()),
        "nothing written"
    );
}
