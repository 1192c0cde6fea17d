//! `zhou-2019` end to end at smoke scale on synthetic data: the harness's CLI suite, and what is
//! this paper's own — each ablation's ticket in its config, which stages each figure trains,
//! and the claims table.

use harness::testkit::{toml, Sandbox, Suite};

const SUITE: Suite = Suite {
    bin: env!("CARGO_BIN_EXE_zhou-2019"),
    id: "zhou-2019",
    quick_figure: "figure-4",
    second_figure: "figure-6",
    experiment: "lenet-large-final",
    // Figure 5 draws the untrained-supermask branches of the lottery ticket, which neither
    // figure 4 nor 6 trains (Figure 3, whose kept-value ablations are absent, is drawn from the
    // ticket alone as a partial figure).
    unrun_figure: Some("figure-5"),
    dataset: "synthetic",
};

harness::cli_suite!(SUITE);

fn stages(s: &Sandbox, experiment: &str) -> Vec<String> {
    common::results::read(&s.results(&SUITE, experiment)).unwrap().records.iter().map(|x| format!("{}/{}", x.level, x.stage)).collect()
}

#[test]
fn every_ablation_is_a_ticket_of_large_final_or_of_its_criterion() {
    let s = Sandbox::new(&SUITE);
    let toml = |e: &str| String::from_utf8_lossy(&s.ok(&["config", e]).stdout).into_owned();
    let lottery = toml("lenet-large-final");
    assert!(lottery.contains("[ticket]\ncriterion = \"large_final\"\nkept = \"rewind\"\npruned = \"zero\""), "{lottery}");
    let learned = "kind = \"learned-supermask\"\nlevels = [0]\ncopies = 1\n\n[branches.params]\nbatch_size = 32\ndynamic_scaling = true\n";
    assert!(lottery.contains(learned) && lottery.contains("lr = 100.0"), "{lottery}");
    let freeze = toml("lenet-pruned-freeze-init-zero-mask");
    assert!(freeze.contains("criterion = \"large_final\"\nkept = \"rewind\"\npruned = \"freeze_init_zero_mask\""), "{freeze}");
    assert!(!freeze.contains("untrained") && !freeze.contains("learned-supermask"), "{freeze}");
    let signed = toml("conv-2-kept-signed-constant");
    assert!(signed.contains("kept = \"signed_constant\""), "{signed}");
    let criterion = toml("lenet-large-init-large-final");
    assert!(criterion.contains("criterion = \"large_init_large_final\"") && criterion.contains("kind = \"untrained-signed-constant\""), "{criterion}");
    harness::testkit::rejects(&s, &["--scale", "small", "config", "conv-6-random"], "not part of scale small");
    // small's Conv-2 is the lottery ticket and the random criterion only.
    let conv2 = String::from_utf8_lossy(&s.ok(&["--scale", "small", "config", "conv-2-large-final"]).stdout).into_owned();
    assert!(conv2.contains("iterations = 500") && conv2.contains("kind = \"untrained\"\nlevels = [\n    3,\n    6,\n]"), "{conv2}");
    s.ok(&["--scale", "small", "config", "conv-2-random"]);
    harness::testkit::rejects(&s, &["--scale", "small", "config", "conv-2-small-final"], "not part of scale small");
}

#[test]
fn untrained_supermasks_train_only_the_trunks_they_mask() {
    let s = Sandbox::new(&SUITE);
    s.ok(&["run", "figure-5"]);
    let got = stages(&s, "lenet-magnitude-increase");
    for want in ["0/main", "2/main", "1/untrained_0", "2/untrained-signed-constant_0"] {
        assert!(got.contains(&want.to_string()), "{want} in {got:?}");
    }
    assert!(!stages(&s, "lenet-large-final").iter().any(|x| x.contains("learned")), "the learned supermask is figure 6's");
    assert!(!s.results(&SUITE, "lenet-kept-reinit").exists(), "figure 5 draws the criterion experiments only");
    let r = common::results::read(&s.results(&SUITE, "lenet-random")).unwrap();
    let untrained = r.records.iter().find(|x| x.stage.to_string() == "untrained_0").unwrap();
    assert_eq!(untrained.outcome.log.iteration, [0], "evaluated once, never trained");
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("an untrained large_final_same_sign supermask classifies") && table.contains("the best ≥ the paper's 86 % − 10 pp"), "{table}");
}

/// A `--config` file belongs to its own experiment only. Before exact matching, a file printed
/// for `lenet-large-final-same-sign` (named `lenet-large-final-same-sign-synthetic`) also
/// replaced `lenet-large-final`'s preset, since its name starts with `lenet-large-final-`.
#[test]
fn a_config_file_replaces_only_its_own_experiment() {
    let s = Sandbox::new(&SUITE);
    let mut cfg = s.config("lenet-large-final-same-sign");
    cfg["seed"] = toml::Value::Integer(4242);
    let file = s.write_config("same-sign.toml", &cfg);
    let seed = |e: &str| -> Option<i64> {
        let o = s.ok(&["--config", &file, "config", e]);
        toml::from_str::<toml::Value>(&String::from_utf8_lossy(&o.stdout)).unwrap()["seed"].as_integer()
    };
    assert_eq!(seed("lenet-large-final-same-sign"), Some(4242), "the file is its own experiment's");
    assert_eq!(seed("lenet-large-final"), Some(0), "the same-sign file replaced lenet-large-final's preset");
    // A file named for no experiment is refused, not silently ignored.
    cfg["name"] = toml::Value::String("lenet-large-finale-synthetic".into());
    let stray = s.write_config("stray.toml", &cfg);
    harness::testkit::rejects(&s, &["--config", &stray, "config", "lenet-large-final"], "is no experiment of zhou-2019");
}

/// A config file written before the learned supermask's settings became its branch's params
/// (a top-level `[supermask]` table) is refused with where the settings go now; the top-level
/// `[interpolation]` every printed config once held, at the paper's default, still reads.
#[test]
fn an_old_supermask_table_is_refused_with_where_it_moved() {
    let s = Sandbox::new(&SUITE);
    let mut cfg = s.config("lenet-large-final");
    let mut printed_before = cfg.clone();
    let paper_interpolation = toml::Table::from_iter([("points".to_string(), toml::Value::Integer(30))]);
    printed_before.as_table_mut().unwrap().insert("interpolation".into(), paper_interpolation.into());
    let file = s.write_config("printed-before.toml", &printed_before);
    assert_eq!(toml::from_str::<toml::Value>(&String::from_utf8_lossy(&s.ok(&["--config", &file, "config", "lenet-large-final"]).stdout)).unwrap(), cfg);
    let branches = cfg["branches"].as_array_mut().unwrap();
    let learned = branches.iter_mut().find(|b| b["kind"].as_str() == Some("learned-supermask")).unwrap();
    let settings = learned.as_table_mut().unwrap().remove("params").unwrap();
    cfg.as_table_mut().unwrap().insert("supermask".into(), settings);
    let old = s.write_config("old.toml", &cfg);
    harness::testkit::rejects(&s, &["--config", &old, "config", "lenet-large-final"], "which is now the params of its learned-supermask branches");
}
