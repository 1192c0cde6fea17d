//! The command-line test suite every paper binary runs, through [`cli_suite!`](crate::cli_suite):
//! one-line errors that change nothing, bounds on every count, SIGKILL at random points and a
//! bit-identical resume, corrupt results and stage files, a second process on the same run,
//! results files that only ever gain stages (the fresh-clone sequence), and `plot` naming what
//! a figure lacks. Each test runs the binary at smoke scale on synthetic data in a temporary
//! folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
pub use toml;

/// What the suite needs to know about a paper binary.
pub struct Suite {
    /// `env!("CARGO_BIN_EXE_<id>")`.
    pub bin: &'static str,
    /// The paper's id (results and figures folders).
    pub id: &'static str,
    /// The cheapest figure at smoke scale.
    pub quick_figure: &'static str,
    /// Another figure drawing other stages of the same experiment.
    pub second_figure: &'static str,
    /// The experiment both figures draw.
    pub experiment: &'static str,
    /// A figure that needs stages neither of those two trains (`None` when every figure's
    /// stages are covered by two others).
    pub unrun_figure: Option<&'static str>,
    /// The `--dataset` every test runs on: `synthetic` (seeded images, no files), or a game
    /// (`cartpole-v0`) for a paper whose experiments play one.
    pub dataset: &'static str,
}

/// A scratch project folder in which the binary runs.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    bin: &'static str,
    dataset: &'static str,
}

impl Sandbox {
    pub fn new(suite: &Suite) -> Self {
        Sandbox { dir: tempfile::tempdir().expect("temporary folder"), bin: suite.bin, dataset: suite.dataset }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// The binary at smoke scale on the suite's data (synthetic), CPU, one thread per job and
    /// two jobs; a flag given in `args` replaces its default.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.bin);
        c.current_dir(self.dir.path());
        for (flag, value) in [("--scale", "smoke"), ("--dataset", self.dataset), ("--device", "cpu"), ("--threads", "1"), ("--jobs", "2")] {
            if !args.contains(&flag) {
                c.args([flag, value]);
            }
        }
        c.arg("--quiet").args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary starts")
    }

    /// Runs `args` and asserts success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
        o
    }

    /// `config <experiment>` as a TOML value to edit.
    pub fn config(&self, experiment: &str) -> toml::Value {
        let o = self.ok(&["config", experiment]);
        toml::from_str(&String::from_utf8_lossy(&o.stdout)).expect("config prints TOML")
    }

    /// Writes a config to `name` in the sandbox, returning its path as a string.
    pub fn write_config(&self, name: &str, cfg: &toml::Value) -> String {
        let p = self.path(name);
        std::fs::write(&p, toml::to_string(cfg).expect("TOML")).expect("write config");
        p.to_string_lossy().into_owned()
    }

    /// The smoke results file of `experiment`.
    pub fn results(&self, suite: &Suite, experiment: &str) -> PathBuf {
        self.path(&format!("results/{}/smoke/{experiment}.h5", suite.id))
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every regular file under `dir` with its bytes (for "nothing changed" checks); lock files,
/// whose contents are a pid, are left out.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(snapshot(&p));
            } else if p.file_name().is_some_and(|n| n != "lock") {
                out.push((p.clone(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// The numbers of a results file, stage by stage: every curve, the early-stop iteration and the
/// density, as `(replicate/level/stage, values)` (wall times left out).
pub fn numbers(path: &Path) -> Vec<(String, Vec<f64>)> {
    let r = common::results::read(path).expect("results file reads");
    r.records
        .iter()
        .map(|s| {
            let log = &s.outcome.log;
            let mut v: Vec<f64> = log.iteration.iter().map(|&i| i as f64).collect();
            for (_, c) in log.curves() {
                v.extend(c);
            }
            v.push(s.density);
            (format!("{}/{}/{}", s.replicate, s.level, s.stage), v)
        })
        .collect()
}

/// Bitwise comparison of two [`numbers`] outputs (NaN equals NaN).
pub fn same_numbers(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1.len() == y.1.len() && x.1.iter().zip(&y.1).all(|(p, q)| p.to_bits() == q.to_bits()))
}

/// Runs `args`, expects failure with `needle` in a one-line message, no panic, and no file changed.
pub fn rejects(s: &Sandbox, args: &[&str], needle: &str) {
    let before = snapshot(s.dir.path());
    let o = s.run(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(o.status.code(), Some(2), "{args:?}: exit code 2 expected: {err}");
    assert!(err.contains(needle), "{args:?}: expected `{needle}` in: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: one-line error expected, got: {err}");
    assert_eq!(snapshot(s.dir.path()), before, "{args:?} changed files");
}

/// Bad flags, absurd counts and bad config files: one line each, exit 2, nothing written.
pub fn bad_inputs(suite: &Suite) {
    let s = Sandbox::new(suite);
    let keep = format!("results/{}/smoke/keep.txt", suite.id);
    std::fs::create_dir_all(s.path(&format!("results/{}/smoke", suite.id))).unwrap();
    std::fs::write(s.path(&keep), "precious").unwrap();
    let q = suite.quick_figure;
    rejects(&s, &["--dataset", "imagenet", "run", q], "unknown dataset `imagenet`");
    rejects(&s, &["run", "figure-99"], "invalid value 'figure-99'");
    rejects(&s, &["config", "resnet-152"], "unknown experiment `resnet-152`");
    rejects(&s, &["--device", "tpu", "run", q], "unknown device `tpu`");
    if !tch::Cuda::is_available() {
        rejects(&s, &["--device", "cuda", "run", q], "no CUDA GPU");
    }
    rejects(&s, &["--trials", "0", "run", q], "0 replicates");
    rejects(&s, &["--trials", "4000000000", "run", q], "--trials");
    rejects(&s, &["--jobs", "100000", "run", q], "--jobs");
    rejects(&s, &["--threads", "0", "run", q], "--threads");
    rejects(&s, &["--checkpoint-every", "99999999999", "run", q], "--checkpoint-every");
    rejects(&s, &["--figures-dir", "/proc/forbidden", "run", q], "cannot create output folder /proc/forbidden");
    rejects(&s, &["plot"], &format!("no results in results/{}/smoke", suite.id));

    let base = s.config(suite.experiment);
    let edit = |path: &[&str], value: toml::Value| {
        let mut v = base.clone();
        let mut t = &mut v;
        for k in &path[..path.len() - 1] {
            t = t.get_mut(*k).unwrap_or_else(|| panic!("config lacks {k}"));
        }
        t.as_table_mut().expect("table").insert(path[path.len() - 1].into(), value);
        v
    };
    let branch = |text: &str| -> toml::Value { toml::from_str::<toml::Table>(&format!("branches = [{text}]")).expect("TOML")["branches"].clone() };
    let cases: [(&[&str], toml::Value, &str); 12] = [
        (&["train", "eval_every"], 0.into(), "evaluation interval is 0"),
        (&["train", "batch_size"], 100_000_000.into(), "does not fit"),
        (&["train", "iterations"], 10_000_000_000i64.into(), "beyond the limit"),
        (&["rewind_iteration"], 999_999_999.into(), "beyond the training length"),
        (&["levels"], 1000.into(), "at most 100"),
        (&["replicates"], 4_000_000_000i64.into(), "at most 1000 trials"),
        (&["model", "arch"], "transformer".into(), "unknown variant `transformer`"),
        (&["levles"], 3.into(), "unknown field `levles`"),
        (&["train", "iteration"], 3.into(), "unknown field `iteration`"),
        (&["train", "optimizer", "name"], "lion".into(), "unknown variant `lion`"),
        (&["branches"], branch("{ kind = \"reinitt\", levels = [0] }"), "unknown branch kind `reinitt`; choose one of reinit"),
        (&["branches"], branch("{ kind = \"reinit\", levels = [0], params = { lr = 0.1 } }"), "branch kind `reinit` takes no parameters"),
    ];
    for (i, (path, value, needle)) in cases.into_iter().enumerate() {
        let file = s.write_config(&format!("bad-{i}.toml"), &edit(path, value));
        rejects(&s, &["--config", &file, "run", q], needle);
    }
    // A damaged dataset file is named with the fix and left for the user.
    std::fs::create_dir_all(s.path("data/fashion-mnist")).unwrap();
    std::fs::write(s.path("data/fashion-mnist/train-images-idx3-ubyte.gz"), b"not a dataset").unwrap();
    rejects(&s, &["--dataset", "fashion-mnist", "run", q], "train-images-idx3-ubyte.gz fails its SHA-256 check");
    assert_eq!(std::fs::read_to_string(s.path(&keep)).unwrap(), "precious");
}

/// `--seed`, `--trials` and `--dataset` apply to a `--config` file too.
pub fn config_flags_apply_to_config_files(suite: &Suite) {
    let s = Sandbox::new(suite);
    let file = s.write_config("c.toml", &s.config(suite.experiment));
    let o = s.ok(&["--config", &file, "--seed", "7", "--trials", "3", "config", suite.experiment]);
    let v: toml::Value = toml::from_str(&String::from_utf8_lossy(&o.stdout)).unwrap();
    assert_eq!(v["seed"].as_integer(), Some(7));
    assert_eq!(v["replicates"].as_integer(), Some(3));
    assert_eq!(v["dataset"].as_str(), Some(suite.dataset));
}

/// The quick figure end to end; `plot` redraws it from the results alone; `summary` reads them.
pub fn quick_figure_end_to_end(suite: &Suite) {
    let s = Sandbox::new(suite);
    s.ok(&["run", suite.quick_figure]);
    let svg = s.path(&format!("figures/{}/smoke/{}.svg", suite.id, suite.quick_figure));
    let png = s.path(&format!("figures/{}/smoke/{}.png", suite.id, suite.quick_figure));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let first = std::fs::read_to_string(&svg).unwrap();
    assert!(first.contains("smoke") && first.contains(suite.dataset), "the caption names scale and data");
    // `--help` opens with the paper's reference, then " — " and what the binary reproduces.
    let help = String::from_utf8_lossy(&s.ok(&["--help"]).stdout).into_owned();
    let reference = help.lines().next().and_then(|l| l.split(" — ").next()).unwrap().replace('&', "&amp;");
    let caption = svg_text(&first);
    assert!(caption.contains(&format!("Reproduction of {reference}.")), "the caption opens with the paper's reference {reference:?}: {caption}");
    std::fs::remove_dir_all(s.path("runs")).unwrap();
    std::fs::remove_file(&svg).unwrap();
    s.ok(&["plot", suite.quick_figure]);
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), first, "plot redraws the same figure from the results alone");
    let o = s.ok(&["summary", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let levels = v[suite.experiment]["levels"].as_array().expect("levels");
    // Every stage this run trained says which build and machine trained it.
    let trained = v[suite.experiment]["trained_by"].as_array().expect("trained_by");
    assert_eq!(trained.len(), 1, "one run, one build, one machine: {trained:?}");
    assert!(
        trained[0]["git_commit"].as_str().is_some_and(|c| !c.is_empty()) && trained[0]["machine"].as_str().is_some_and(|m| m.starts_with("cpu")),
        "{trained:?}"
    );
    assert!(!levels.is_empty());
    for r in levels {
        // A task that logs its own curves (a game's reward) has no accuracies: its curves' final
        // values stand in.
        let st = match r["final_curves"].as_object().and_then(|c| c.values().next()) {
            Some(curve) => curve,
            None => &r["early_stop_test_accuracy"],
        };
        let (mean, min, max) = (st["mean"].as_f64().unwrap(), st["min"].as_f64().unwrap(), st["max"].as_f64().unwrap());
        assert!(min <= mean && mean <= max, "{r}");
    }
    let o = s.ok(&["summary", "--headline"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.starts_with(crate::claims::HEADER), "{table}");
    assert!(table.lines().count() > 2, "at least one claim row: {table}");
}

/// The text of an SVG's `<text>` elements, each trimmed, joined by single spaces: a caption line
/// wrapped onto several reads as one.
fn svg_text(svg: &str) -> String {
    let texts = svg.split("<text").skip(1).filter_map(|t| t.split_once('>').and_then(|(_, rest)| rest.split_once("</text>")).map(|(text, _)| text.trim()));
    texts.collect::<Vec<_>>().join(" ")
}

/// A fresh clone: the committed results hold more stages than the next run trains. Results files
/// keep every stage they held; `plot` draws complete figures and names what an incomplete one lacks.
pub fn results_only_gain_stages(suite: &Suite) {
    let s = Sandbox::new(suite);
    let h5 = s.results(suite, suite.experiment);
    s.ok(&["run", suite.quick_figure]);
    let committed = numbers(&h5);
    std::fs::remove_dir_all(s.path("runs")).unwrap(); // a fresh clone has no run cache
    s.ok(&["run", suite.second_figure]);
    let after = numbers(&h5);
    let kept = |old: &[(String, Vec<f64>)], new: &[(String, Vec<f64>)]| {
        for (k, v) in old {
            let now = new.iter().find(|(k2, _)| k2 == k).unwrap_or_else(|| panic!("stage {k} was dropped from the results"));
            assert!(same_numbers(&[(k.clone(), v.clone())], std::slice::from_ref(now)), "stage {k} changed");
        }
    };
    kept(&committed, &after);
    assert!(after.len() > committed.len(), "the second figure's stages were added");
    std::fs::remove_dir_all(s.path("figures")).unwrap();
    let o = s.ok(&["plot"]);
    let note = stderr(&o);
    for f in [suite.quick_figure, suite.second_figure] {
        assert!(s.path(&format!("figures/{}/smoke/{f}.png", suite.id)).exists(), "{f} drawn: {note}");
    }
    if let Some(unrun) = suite.unrun_figure {
        assert!(note.contains(&format!("skipping {unrun}")), "plot says which figure it cannot draw: {note}");
        // Named, a figure whose stages were never run is refused, with what it lacks and the fix.
        rejects(&s, &["plot", unrun], &format!("run {unrun}` to train them"));
    }
    // More trials than the file holds: the run adds the new replicate's stages and keeps the rest.
    s.ok(&["--trials", "2", "run", suite.quick_figure]);
    let more = numbers(&h5);
    kept(&after, &more);
    assert!(more.len() > after.len(), "a second replicate was added");
    // Drawing a figure whose stages exist for one replicate only names the trials to train.
    rejects(&s, &["plot", suite.second_figure], &format!("--trials 2 run {}`", suite.second_figure));
    // CPU and GPU stages never mix: a results file (read back as stored) or a run folder holding
    // a stage trained on a GPU refuses a CPU run, naming the file and the fix.
    let mut stored = common::results::read(&h5).unwrap();
    assert!(stored.records.iter().all(|r| r.device == "cpu"), "every stage records its device");
    stored.records[0].device = "cuda:0".into();
    let (cfg, prov) = (stored.config().unwrap(), stored.provenance().unwrap());
    common::results::write(&h5, &cfg, &prov, &stored.run, &stored.records).unwrap();
    assert_eq!(common::results::read(&h5).unwrap().records[0].device, "cuda:0", "the device is read back");
    rejects(&s, &["run", suite.quick_figure], "trained on cuda:0, and this run trains on cpu");
    std::fs::remove_file(&h5).unwrap();
    // Every finished stage of every run folder, so whichever experiments the figure plans hold one.
    for outcome in walk(&s.path("runs")).into_iter().filter(|p| p.ends_with(common::paths::OUTCOME)) {
        let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&outcome).unwrap()).unwrap();
        record["device"] = "cuda:0".into();
        std::fs::write(&outcome, serde_json::to_vec(&record).unwrap()).unwrap();
    }
    rejects(&s, &["run", suite.quick_figure], "--device cuda or use another --runs-dir");
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// SIGKILL at ten points, then the same command: the results equal an uninterrupted run's.
pub fn killed_and_resumed_is_bit_identical(suite: &Suite) {
    let q = suite.quick_figure;
    let reference = Sandbox::new(suite);
    reference.ok(&["--checkpoint-every", "1", "run", q]);
    let want = numbers(&reference.results(suite, suite.experiment));
    let s = Sandbox::new(suite);
    let delays = [40u64, 170, 90, 330, 60, 520, 230, 800, 120, 1400];
    let mut kills = 0;
    for d in delays {
        let mut child = s.cmd(&["--checkpoint-every", "1", "run", q]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(d));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills >= 3, "the run finished too fast to be interrupted ({kills} kills)");
    s.ok(&["--checkpoint-every", "1", "run", q]);
    assert!(same_numbers(&numbers(&s.results(suite, suite.experiment)), &want), "resumed results differ from the uninterrupted run");
}

/// A truncated results file is named and never used; a damaged stage record is set aside and
/// recomputed to the same numbers.
pub fn corrupt_files_are_named_and_never_used(suite: &Suite) {
    let q = suite.quick_figure;
    let s = Sandbox::new(suite);
    s.ok(&["run", q]);
    let h5 = s.results(suite, suite.experiment);
    let want = numbers(&h5);
    let bytes = std::fs::read(&h5).unwrap();
    std::fs::write(&h5, &bytes[..bytes.len() / 2]).unwrap();
    rejects(&s, &["plot", q], &format!("{}.h5 is truncated, corrupt or not ours", suite.experiment));
    rejects(&s, &["run", q], &format!("{}.h5 is truncated, corrupt or not ours", suite.experiment));
    std::fs::write(&h5, &bytes).unwrap();
    // A stage past the trunk's dense level (a pruned trunk level, or a branch).
    let pruned = |exp: &Path| -> Option<PathBuf> {
        let levels = std::fs::read_dir(exp.join("replicate_0")).ok()?.flatten().map(|e| e.path());
        let stages = levels.flat_map(|l| std::fs::read_dir(l).into_iter().flatten().flatten().map(|e| e.path()));
        stages.filter(|s| !s.ends_with("level_0/main")).map(|s| s.join("outcome.json")).find(|o| o.exists())
    };
    let outcome = std::fs::read_dir(s.path("runs")).unwrap().flatten().find_map(|e| pruned(&e.path())).expect("the quick figure trains a pruned stage");
    std::fs::write(&outcome, b"{\"replicate\": 0, \"lev").unwrap();
    s.ok(&["run", q]);
    let aside = std::fs::read_dir(outcome.parent().unwrap()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains(".corrupt-")).count();
    assert_eq!(aside, 1, "the damaged record is kept aside, not deleted");
    assert!(same_numbers(&numbers(&h5), &want));
}

/// A second process on the same experiment exits at once, naming the first one's pid.
pub fn second_process_is_refused(suite: &Suite) {
    let s = Sandbox::new(suite);
    let mut cfg = s.config(suite.experiment);
    cfg["train"].as_table_mut().unwrap().insert("iterations".into(), 200_000.into());
    let file = s.write_config("long.toml", &cfg);
    let mut first = s.cmd(&["--config", &file, "run", suite.quick_figure]).spawn().unwrap();
    let t0 = Instant::now();
    loop {
        let found = std::fs::read_dir(s.path("runs")).ok().and_then(|mut rd| rd.next()).and_then(|e| e.ok()).map(|e| e.path().join("lock"));
        if found.is_some_and(|l| std::fs::read_to_string(l).is_ok_and(|t| !t.is_empty())) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "the first process never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = s.run(&["--config", &file, "run", suite.quick_figure]);
    first.kill().unwrap();
    first.wait().unwrap();
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("another process (pid") && err.contains("is running this experiment"), "{err}");
}

/// The golden guard over what the project publishes: for every scale with committed results of
/// the paper (`<repo>/results/<id>/<scale>/`), without training anything,
/// - every results file's stored trunk hash is what its config hashes to today, and what
///   today's preset of that experiment (at the stored seed and dataset) hashes to, and the file
///   holds as many trials as that preset trains (so `make <paper>` reproduces it);
/// - `summary --headline` prints the committed `headline.md` byte for byte;
/// - `plot` redraws exactly the committed figures: every SVG byte for byte, every PNG pixel for
///   pixel, and no figure more or less.
pub fn committed_results_are_reproduced(suite: &Suite, repo: &Path) {
    let results = repo.join("results").join(suite.id);
    let Ok(scales) = std::fs::read_dir(&results) else { panic!("{} has no committed results", results.display()) };
    let mut scales: Vec<PathBuf> = scales.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    scales.sort();
    assert!(!scales.is_empty(), "{} has no scale folders", results.display());
    let s = Sandbox::new(suite);
    let results_arg = results.to_string_lossy().into_owned();
    for dir in scales {
        let scale = dir.file_name().unwrap().to_string_lossy().into_owned();
        // The binary as a user runs it (no smoke or synthetic defaults), in the sandbox.
        let at = |args: &[&str]| {
            let o = Command::new(suite.bin)
                .current_dir(s.dir.path())
                .args(["--quiet", "--scale", &scale, "--results-dir", &results_arg])
                .args(args)
                .output()
                .expect("the binary starts");
            assert!(o.status.success(), "{args:?} at scale {scale} failed: {}", stderr(&o));
            o
        };
        committed_hashes_match_presets(&dir, &at);
        let headline = at(&["summary", "--headline"]).stdout;
        let committed = std::fs::read(dir.join("headline.md")).unwrap_or_else(|e| panic!("{}/headline.md: {e}", dir.display()));
        assert!(headline == committed, "{}/headline.md differs from `summary --headline`:\n{}", dir.display(), String::from_utf8_lossy(&headline));
        let drawn = s.path(&format!("golden-figures-{scale}"));
        at(&["--figures-dir", &drawn.to_string_lossy(), "plot"]);
        let figures = repo.join("figures").join(suite.id).join(&scale);
        same_figures(&drawn.join(&scale), &figures);
    }
}

/// Every `.h5` in `dir`: its stored hash and trial count (at most the preset's) against its own
/// config and against the preset that `config` prints today (`at` runs the binary at the
/// folder's scale and results).
fn committed_hashes_match_presets(dir: &Path, at: &dyn Fn(&[&str]) -> Output) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "h5")).collect();
    files.sort();
    for file in files {
        let stored = common::results::read(&file).unwrap_or_else(|e| panic!("{}: {e:#}", file.display()));
        let cfg = stored.config().unwrap();
        assert_eq!(cfg.hash(), stored.config_hash, "{}: its stored config no longer hashes to its stored trunk hash", file.display());
        let experiment = file.file_stem().unwrap().to_string_lossy().into_owned();
        let seed = cfg.seed.to_string();
        let preset = |extra: &[&str]| -> common::config::ExperimentConfig {
            let mut args = vec!["--seed", &seed];
            args.extend_from_slice(extra);
            args.extend(["config", &experiment]);
            toml::from_str(&String::from_utf8_lossy(&at(&args).stdout)).expect("config prints a config")
        };
        // The paper's own dataset unless the file was trained on another (a fallback), named
        // then; without an override a transfer's source keeps its own dataset.
        let mut today = preset(&[]);
        if today.dataset != cfg.dataset {
            today = preset(&["--dataset", cfg.dataset.as_str()]);
        }
        assert_eq!(today.hash(), stored.config_hash, "{}: today's preset of `{experiment}` hashes differently from the committed results", file.display());
        // A file trained trial by trial holds fewer until its last trial is in (`make` adds
        // the rest); never more, which `make` would not reproduce.
        assert!(
            cfg.replicates <= today.replicates,
            "{}: holds {} trials where today's preset of `{experiment}` trains {}, so `make` would not reproduce it",
            file.display(),
            cfg.replicates,
            today.replicates
        );
    }
}

/// `drawn` holds the same figure files as `committed`: SVGs equal byte for byte, PNGs pixel for
/// pixel.
fn same_figures(drawn: &Path, committed: &Path) {
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(drawn), names(committed), "`plot` draws other figures than {} holds", committed.display());
    for name in names(committed) {
        let (a, b) = (std::fs::read(drawn.join(&name)).unwrap(), std::fs::read(committed.join(&name)).unwrap());
        if name.ends_with(".png") {
            assert!(png_pixels(&a) == png_pixels(&b), "{}/{name}: the redrawn figure differs pixel by pixel", committed.display());
        } else {
            assert!(a == b, "{}/{name}: the redrawn figure differs byte by byte", committed.display());
        }
    }
}

/// A PNG's size, colour type and decoded pixels.
fn png_pixels(bytes: &[u8]) -> (u32, u32, png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(bytes).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG pixels");
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type, buf)
}

/// Instantiates the harness's CLI suite for a paper binary:
///
/// ```ignore
/// harness::cli_suite!(harness::testkit::Suite {
///     bin: env!("CARGO_BIN_EXE_my-paper"), id: "my-paper",
///     quick_figure: "figure-1", second_figure: "figure-2", experiment: "lenet",
///     unrun_figure: Some("figure-3"),
///     dataset: "synthetic",
/// });
/// ```
#[macro_export]
macro_rules! cli_suite {
    ($suite:expr) => {
        mod harness_cli_suite {
            #[allow(unused_imports)]
            use super::*;
            const CLI_SUITE: $crate::testkit::Suite = $suite;
            #[test]
            fn bad_inputs_give_one_line_errors_and_change_nothing() {
                $crate::testkit::bad_inputs(&CLI_SUITE)
            }
            #[test]
            fn config_flags_apply_to_config_files() {
                $crate::testkit::config_flags_apply_to_config_files(&CLI_SUITE)
            }
            #[test]
            fn quick_figure_end_to_end_and_plot_from_results_alone() {
                $crate::testkit::quick_figure_end_to_end(&CLI_SUITE)
            }
            #[test]
            fn results_files_only_gain_stages() {
                $crate::testkit::results_only_gain_stages(&CLI_SUITE)
            }
            #[test]
            fn killed_at_random_points_and_resumed_equals_uninterrupted() {
                $crate::testkit::killed_and_resumed_is_bit_identical(&CLI_SUITE)
            }
            #[test]
            fn corrupt_results_and_stage_files_are_named_and_never_used() {
                $crate::testkit::corrupt_files_are_named_and_never_used(&CLI_SUITE)
            }
            #[test]
            fn a_second_process_on_the_same_experiment_exits_with_a_clear_message() {
                $crate::testkit::second_process_is_refused(&CLI_SUITE)
            }
            #[test]
            fn committed_results_headlines_and_figures_are_reproduced() {
                $crate::testkit::committed_results_are_reproduced(&CLI_SUITE, &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            }
        }
    };
}

/// A paper's experiments and figures agree: names and typed ids are unique (a name is a file,
/// an id what the code passes), every figure names experiments of the paper, and at every scale
/// that includes an experiment its preset is named after it (`<name>-<dataset>`, what `--config`
/// files are matched by) on the paper's dataset and its fallback. Run for every paper by
/// `harness::paper!`.
pub fn paper_is_consistent<P: crate::Paper>(paper: &P) {
    let specs = paper.experiments();
    for (i, e) in specs.iter().enumerate() {
        for later in &specs[i + 1..] {
            assert_ne!(e.name, later.name, "two experiments named {}", e.name);
            assert_ne!(e.id, later.id, "two experiments are {:?} ({} and {})", e.id, e.name, later.name);
        }
        for scale in crate::Scale::ALL.into_iter().filter(|&s| paper.runs_at(e.id, s)) {
            for dataset in std::iter::once(e.dataset).chain(e.fallback) {
                let cfg = paper.preset(e.id, scale, dataset);
                assert!(crate::cli::config_is_for(&cfg, e.name), "{} at {} on {} is named {}", e.name, scale.as_str(), dataset.as_str(), cfg.name);
            }
        }
    }
    for (i, f) in paper.figures().iter().enumerate() {
        assert!(paper.figures()[i + 1..].iter().all(|g| g.name != f.name), "two figures named {}", f.name);
        for id in f.experiments {
            assert!(specs.iter().any(|e| e.id == *id), "{} draws {id:?}, which is no experiment of {}", f.name, P::ID);
        }
    }
}

/// The committed `small` results of `paper` (from `results/<id>/small` of the repository that
/// holds `manifest_dir`, a paper crate's `CARGO_MANIFEST_DIR`), for claims tests on hand-made
/// numbers: load, [`set_accuracy`], judge.
pub fn committed_small<P: crate::Paper>(paper: &P, manifest_dir: &str) -> crate::Results<P::Experiment> {
    let dir = Path::new(manifest_dir).join("../../results").join(P::ID).join("small");
    crate::runner::load_results(paper, &dir).expect("committed results load")
}

/// Hand-made accuracies: every evaluation of the `i`-th stage of `kind` at `level` (stored
/// order) of `l` reads `values[i]` as its test accuracy (so every readout, early stop or final,
/// gives it); stages beyond `values` take its last value.
pub fn set_accuracy<E>(l: &mut crate::Loaded<E>, level: u32, kind: common::imp::StageKind, values: &[f64]) {
    let mut i = 0;
    for r in l.results.records.iter_mut().filter(|r| r.level == level && r.stage.kind() == kind) {
        let v = values[i.min(values.len() - 1)];
        r.outcome.log.fill(common::train::metric::TEST_ACC, v);
        i += 1;
    }
    assert!(i > 0, "no stage of {kind:?} at level {level}");
}
