use crate::{numbers, snapshot, stderr, Sandbox};

#[test]
fn figure_3_runs_end_to_end_and_plot_redraws_it_from_the_results_alone() {
    let s = Sandbox::new();
    let o = s.run(&["run", "figure-3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let h5 = s.path("results/frankle-carbin-2019/smoke/lenet.h5");
    let png = s.path("figures/frankle-carbin-2019/smoke/figure-3.png");
    let svg = s.path("figures/frankle-carbin-2019/smoke/figure-3.svg");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let svg1 = std::fs::read_to_string(&svg).unwrap();
    assert!(svg1.contains("Figure 3") && svg1.contains("smoke") && svg1.contains("synthetic"), "caption names scale and data");

    // Results: Figure 3 needs every main level (smoke: 0..=7) and reinit at levels 3 and 7.
    let f = hdf5::File::open(&h5).unwrap();
    let cfg: String = f.attr("config_json").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().as_str().into();
    assert!(cfg.contains("\"scale\":\"smoke\""));
    let prov: String = f.attr("provenance_json").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().as_str().into();
    assert!(prov.contains("synthetic"));
    let lv: Vec<String> = f.group("replicate_0").unwrap().member_names().unwrap();
    assert_eq!(lv.len(), 8);
    assert!(f.group("replicate_0/level_7/reinit_0").is_ok());
    assert!(f.group("replicate_0/level_5/reinit_0").is_err(), "figure 3 trains only what it needs");
    let g = f.group("replicate_0/level_7/main").unwrap();
    let d: f64 = g.attr("density").unwrap().read_scalar().unwrap();
    let kept = g.dataset("layer_kept").unwrap().read_raw::<i64>().unwrap();
    let total = g.dataset("layer_total").unwrap().read_raw::<i64>().unwrap();
    assert!((d - kept.iter().sum::<i64>() as f64 / total.iter().sum::<i64>() as f64).abs() < 1e-12);
    drop(f);

    // `plot` redraws the same figure from the results alone (runs/ deleted).
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    std::fs::remove_file(&svg).unwrap();
    let o = s.run(&["plot", "figure-3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), svg1);

    // summary --json: per Pm level, winning tickets and reinit controls with mean/min/max.
    let o = s.run(&["summary", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let levels = v["lenet"]["levels"].as_array().unwrap();
    let l7: Vec<&serde_json::Value> = levels.iter().filter(|r| r["level"] == 7).collect();
    assert_eq!(l7.len(), 2);
    for r in l7 {
        for k in ["early_stop_iteration", "early_stop_test_accuracy"] {
            let (mean, min, max) = (r[k]["mean"].as_f64().unwrap(), r[k]["min"].as_f64().unwrap(), r[k]["max"].as_f64().unwrap());
            assert!(min <= mean && mean <= max, "{r}");
        }
    }
    assert!(numbers(&h5).len() > 40);
}

/// Runs `args`, expects failure with `needle` in a single-line message and no file changed.
fn rejects(s: &Sandbox, args: &[&str], needle: &str) {
    let before = snapshot(s.dir.path());
    let o = s.run(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(err.contains(needle), "{args:?}: expected `{needle}` in: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: one-line error expected, got: {err}");
    assert_eq!(snapshot(s.dir.path()), before, "{args:?} changed files");
}

#[test]
fn bad_inputs_give_one_line_errors_and_change_nothing() {
    let s = Sandbox::new();
    // Existing results that must survive every failed command.
    std::fs::create_dir_all(s.path("results/frankle-carbin-2019/smoke")).unwrap();
    std::fs::write(s.path("results/frankle-carbin-2019/smoke/keep.txt"), "precious").unwrap();
    rejects(&s, &["--dataset", "imagenet", "run", "figure-3"], "unknown dataset `imagenet`");
    rejects(&s, &["run", "figure-9"], "invalid value 'figure-9'");
    rejects(&s, &["config", "resnet-152"], "unknown network `resnet-152`");
    rejects(&s, &["--device", "tpu", "run"], "unknown device `tpu`");
    if !tch::Cuda::is_available() {
        rejects(&s, &["--device", "cuda", "run", "figure-3"], "no CUDA GPU");
    }
    rejects(&s, &["--trials", "0", "run", "figure-3"], "0 replicates");
    rejects(&s, &["--figures-dir", "/proc/forbidden", "run", "figure-3"], "cannot create output folder /proc/forbidden");
    rejects(&s, &["plot"], "no results in results/frankle-carbin-2019/smoke");

    // Config files: model, optimizer, pruning fraction, rewind point, eval interval, batch size.
    let o = s.run(&["config", "lenet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let base = String::from_utf8(o.stdout).unwrap();
    let cases = [
        ("hidden = [", "hidden = [-5, ", "LeNet widths must be positive"),
        ("arch = \"lenet\"", "arch = \"transformer\"", "unknown variant `transformer`"),
        ("name = \"adam\"", "name = \"lion\"", "unknown variant `lion`"),
        ("fc = 0.2", "fc = 1.5", "pruning fraction 1.5 is outside (0, 1)"),
        ("rewind_iteration = 0", "rewind_iteration = 999999", "rewind iteration 999999 is beyond the training length"),
        ("eval_every = 25", "eval_every = 0", "evaluation interval is 0"),
        ("batch_size = 60", "batch_size = 100000", "batch size 100000 does not fit"),
    ];
    for (from, to, needle) in cases {
        assert!(base.contains(from), "preset lacks `{from}`:\n{base}");
        let path = s.path(&format!("bad-{}.toml", needle.len()));
        std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
        let p = path.to_string_lossy().into_owned();
        rejects(&s, &["--config", &p, "run", "figure-3"], needle);
    }
    assert_eq!(std::fs::read_to_string(s.path("results/frankle-carbin-2019/smoke/keep.txt")).unwrap(), "precious");
}

#[test]
fn a_missing_or_corrupt_dataset_is_named_with_the_fix() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path("data/fashion-mnist")).unwrap();
    std::fs::write(s.path("data/fashion-mnist/train-images-idx3-ubyte.gz"), b"not a dataset").unwrap();
    let before = snapshot(s.dir.path());
    let o = std::process::Command::new(crate::BIN)
        .current_dir(s.dir.path())
        .args(["--scale", "smoke", "--dataset", "fashion-mnist", "--device", "cpu", "--quiet", "run", "figure-3"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("train-images-idx3-ubyte.gz fails its SHA-256 check") && err.contains("delete it"), "{err}");
    assert_eq!(snapshot(s.dir.path()), before, "the damaged file is left for the user, nothing else written");
}
