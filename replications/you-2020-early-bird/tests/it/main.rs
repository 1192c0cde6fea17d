//! `you-2020-early-bird` end to end at smoke scale on synthetic data: the harness's CLI suite
//! (bad inputs, SIGKILL and resume, corrupt files, the lock, results that only gain stages) and
//! what is this paper's own.

use harness::testkit::{Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_you-2020-early-bird"),
    id: "you-2020-early-bird",
    quick_figure: "figure-mask-distance",
    second_figure: "figure-1",
    experiment: "vgg",
    unrun_figure: Some("figure-cost"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

#[test]
fn the_search_records_every_epoch_start_and_its_tickets_train_smaller_networks() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "all"]);
    // The VGG and the PreResNet (PreResNet-11 at smoke), channels removed alike.
    for experiment in ["vgg", "preresnet-101"] {
        let r = common::results::read(&s.results(&SUITE, experiment)).unwrap();
        let search = r.records.iter().find(|x| x.stage.name().starts_with("early-bird-search")).expect("the search ran");
        let layers = search.metrics["bn_channels"].len() as f64;
        let channels: f64 = search.metrics["bn_channels"].iter().sum();
        // Smoke: 3 epochs, so 4 epoch starts (the end included) of every channel's |γ|.
        assert_eq!(search.metrics["bn_scale"].len() as f64, 4.0 * channels);
        // At initialisation every γ is 0.5 (network slimming's initialiser).
        assert!(search.metrics["bn_scale"][..channels as usize].iter().all(|&g| g == 0.5));
        // A window of 2 with ε = 1 fires at the second epoch start.
        assert!(search.metrics["early_bird_epoch"].iter().all(|&e| e == 1.0), "{:?}", search.metrics["early_bird_epoch"]);
        let dense = search.metrics["flops"][0];
        let tickets: Vec<_> = r.records.iter().filter(|x| x.stage.name().starts_with("channel-ticket")).collect();
        assert!(tickets.len() >= 9, "three tickets per ratio at least");
        for t in &tickets {
            let ratio = t.metrics["ratio"][0];
            assert!(t.metrics["flops"][0] < dense, "{experiment} {}: a channel-pruned network costs less than the dense one", t.stage);
            assert!(t.density < 1.0 && t.density > 0.0, "{experiment} {}: density {}", t.stage, t.density);
            // About (1 − p) of the channels are kept (every layer keeps one).
            let kept: f64 = t.metrics["channels"].iter().sum();
            assert!(kept <= (1.0 - ratio) * channels + layers, "{experiment} {}: {kept} of {channels} channels at p = {ratio}", t.stage);
            assert!(t.outcome.log.test_acc().last().is_some_and(|a| a.is_finite()), "{experiment} {}: trained and evaluated", t.stage);
        }
        // A continued ticket starts where the search drew it.
        let continued = tickets.iter().find(|t| t.metrics["first_iteration"][0] > 0.0).expect("an EB Train ticket");
        assert_eq!(continued.outcome.log.iteration[0] as f64, continued.metrics["first_iteration"][0]);
    }
    // `small` is the VGG alone.
    let refused = s.run(&["--scale", "small", "config", "preresnet-101"]);
    assert!(!refused.status.success() && harness::testkit::stderr(&refused).contains("not part of scale small"), "{}", harness::testkit::stderr(&refused));
}
