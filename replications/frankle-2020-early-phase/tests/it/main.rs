//! `frankle-2020-early-phase` end to end at smoke scale on synthetic data: the harness's CLI
//! suite, and what is this paper's own — which stages each figure trains, that every
//! perturbation restarts at the late k, and the claims table.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_frankle-2020-early-phase"),
    id: "frankle-2020-early-phase",
    quick_figure: "figure-1",
    second_figure: "figure-3",
    experiment: "lenet-k500",
    // The permutations are Figure 2's alone.
    unrun_figure: Some("figure-2"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

fn stages(s: &Sandbox, experiment: &str) -> Vec<(u32, String, u64)> {
    common::results::read(&s.results(&SUITE, experiment)).unwrap().records.iter().map(|r| (r.level, r.stage.to_string(), r.outcome.log.iteration[0])).collect()
}

#[test]
fn the_perturbations_restart_at_the_late_k_and_the_control_runs_at_k0() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-2"]);
    // Smoke: LeNet's late k is 20; levels 0–2, the arms at 1 and 2.
    let late = stages(&s, "lenet-k500");
    let permuted: Vec<_> = late.iter().filter(|(_, name, _)| name.starts_with("rewind-perturbed-")).collect();
    assert_eq!(permuted.len(), 6 * 2, "six permutations at two levels: {late:?}");
    for (level, name, first) in &late {
        assert_eq!(*first, if *level == 0 { 0 } else { 20 }, "{level}/{name} starts at k");
    }
    assert!(!late.iter().any(|(_, name, _)| name.starts_with("reinit")), "the control is k = 0's: {late:?}");
    assert!(!stages(&s, "lenet-k0").iter().any(|(_, name, _)| name.starts_with("reinit")), "the control is Figure 1's");
    s.ok(&["run", "figure-1"]);
    assert!(stages(&s, "lenet-k0").iter().any(|(level, name, _)| *level == 2 && name == "reinit_0"));
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("perturbed ≤ rewound to 0 + ½ the gain of rewinding"), "{table}");
    assert!(table.contains("small networks need only θ_k's signs"), "{table}");
}

/// `run all` limited to LeNet's k = 0 trains and draws its figures and leaves Figure 5, which
/// draws ResNet-20 alone, as it is.
#[test]
fn run_all_of_one_experiment_skips_the_figures_that_do_not_draw_it() {
    let s = Sandbox::new(&SUITE);
    let o = s.ok(&["--experiments", "lenet-k0", "run", "all"]);
    let note = String::from_utf8_lossy(&o.stderr);
    assert!(note.contains("skipping figure-5: it draws none of --experiments lenet-k0"), "{note}");
    assert!(s.path("figures/frankle-2020-early-phase/smoke/figure-4.png").exists(), "{note}");
    assert!(!s.path("figures/frankle-2020-early-phase/smoke/figure-5.png").exists(), "{note}");
    assert!(!s.results(&SUITE, "lenet-k500").exists(), "only lenet-k0 trained");
}

#[test]
fn the_statistics_replay_the_dense_networks_first_iterations_alone() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-4"]);
    // Figure 4 needs no IMP: the k = 0 experiment holds the statistics stage only.
    let k0 = common::results::read(&s.results(&SUITE, "lenet-k0")).unwrap();
    let names: Vec<String> = k0.records.iter().map(|r| format!("{}/{}", r.level, r.stage)).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("0/early-statistics-"), "{names:?}");
    let m = &k0.records[0].metrics;
    // Smoke: LeNet's first 100 iterations, every 10; three prunable layers.
    assert_eq!(m["statistics_iteration"], (0..10).map(|i| 10.0 * i as f64).collect::<Vec<_>>());
    assert_eq!(m["layer_distance"].len(), 10 * 3);
    assert_eq!((m["distance"][0], m["sign_flips"][0], m["gradient"][0]), (0.0, 0.0, 0.0), "θ_0 is where it starts");
    assert!(m["distance"][9] > m["distance"][1] && m["distance"][1] > 0.0, "{:?}", m["distance"]);
    assert!(m["sign_flips"][9] > 0.0 && m["sign_flips"][9] < 0.5, "{:?}", m["sign_flips"]);
    assert!(m["gradient"][1..].iter().all(|g| *g > 0.0));
    assert!(s.dir.path().join("figures/frankle-2020-early-phase/smoke/figure-4.png").exists());
}

#[test]
fn pretraining_arms_pretrain_from_theta_0_and_train_the_ticket_from_k() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-5"]);
    assert!(!s.results(&SUITE, "lenet-k500").exists(), "LeNet has no pretraining arms");
    let r = common::results::read(&s.results(&SUITE, "resnet-20-k100")).unwrap();
    let (pretrain, rewound): (Vec<_>, Vec<_>) = r.records.iter().filter(|x| x.stage.name().contains("pretrain")).partition(|x| x.level == 0);
    // Smoke: three tasks × P ∈ {4, 10}; the ticket at level 2, trained from k = 4.
    assert_eq!((pretrain.len(), rewound.len()), (6, 6));
    for p in &pretrain {
        let log = &p.outcome.log.iteration;
        assert_eq!(log[0], 0, "{}: pretraining starts at θ_0", p.stage);
        assert!([4, 10].contains(log.last().unwrap()), "{}: P iterations, {log:?}", p.stage);
        assert_eq!(p.density, 1.0);
    }
    for t in &rewound {
        assert_eq!((t.level, t.outcome.log.iteration[0], *t.outcome.log.iteration.last().unwrap()), (2, 4, 40), "{}", t.stage);
        assert!(t.density < 0.3, "{}: the level's mask", t.stage);
    }
    assert!(s.dir.path().join("figures/frankle-2020-early-phase/smoke/figure-5.png").exists());
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("pretraining on rotation (self-supervised) for 10 iterations approaches it"), "{table}");
}

/// Figure 3 draws random reinitialisation as a line at the claim level: `run figure-3` alone
/// trains it there and nowhere else, so a fresh machine draws every series the figure has.
#[test]
fn figure_3_alone_trains_its_random_reinit_line() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-3"]);
    let reinit: Vec<u32> = stages(&s, "lenet-k0").into_iter().filter(|(_, name, _)| name.starts_with("reinit")).map(|(level, _, _)| level).collect();
    assert!(!reinit.is_empty() && reinit.iter().all(|&l| l == 2), "smoke's claim level, 2, only: {reinit:?}");
    let svg = std::fs::read_to_string(s.path("figures/frankle-2020-early-phase/smoke/figure-3.svg")).unwrap();
    assert!(svg.contains("random reinit"), "the control line is drawn");
}
