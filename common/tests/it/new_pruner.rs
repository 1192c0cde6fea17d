//! A pruner defined outside the engine — this one file — and added with one registry line
//! (`pruners::register`), with no edit to `imp.rs`, `config.rs` or any paper: the config's
//! `pruner` names it and the trunk prunes every level with it, under the config's rule.

use crate::engine::{config, data, run_imp};
use common::config::ExperimentConfig;
use common::paths;
use common::prune::Mask;
use common::pruners::{self, PruneCx, Pruner, PrunerName};
use common::train::{checkpoint, Weights};
use tch::{Device, Kind, Tensor};

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).unwrap()
}

/// `largest`: removes the largest-magnitude survivors first (score −|w|).
struct Largest;

impl Pruner for Largest {
    fn name(&self) -> &'static str {
        "largest"
    }

    fn scores(&self, cx: &PruneCx) -> anyhow::Result<Weights> {
        Ok(cx.weights().into_iter().map(|(name, w)| (name, -w.abs())).collect())
    }
}

fn largest() -> PrunerName {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pruners::register(&Largest).expect("a new name"));
    PrunerName::named("largest").unwrap()
}

#[test]
fn a_pruner_added_in_one_file_prunes_the_trunk() {
    let d = data();
    let mut cfg = config(1);
    cfg.branches.clear();
    cfg.replicates = 1;
    let magnitude_hash = cfg.hash();
    cfg.pruner = largest();
    assert_ne!(cfg.hash(), magnitude_hash, "another pruner is another trunk");
    let back: ExperimentConfig = toml::from_str(&cfg.to_toml()).unwrap();
    assert_eq!(back.pruner, cfg.pruner);
    let runs = tempfile::tempdir().unwrap();
    run_imp(&cfg, &d, 1, runs.path());
    let dir = runs.path().join(cfg.hash());
    let dense_final = checkpoint::load_weights(&paths::stage_dir(&dir, 0, 0, "main").join(paths::FINAL)).unwrap();
    let mask = Mask::load(&paths::stage_dir(&dir, 0, 1, "main").join(paths::MASK), Device::Cpu).unwrap();
    for (name, m) in &mask.0 {
        let (m, w) = (values(m), values(&dense_final[name].abs()));
        let kept = (0..m.len()).filter(|&i| m[i] != 0.0).map(|i| w[i]).fold(f32::NEG_INFINITY, f32::max);
        let removed = (0..m.len()).filter(|&i| m[i] == 0.0).map(|i| w[i]).fold(f32::INFINITY, f32::min);
        assert!(m.contains(&0.0), "{name}: nothing pruned");
        assert!(kept <= removed, "{name}: kept |w| up to {kept}, yet removed one of {removed}");
    }
    // The same counts as magnitude pruning: the rule is the config's, only the scores differ.
    let want = cfg.kept_at(1, common::models::Model::new(&cfg.model, d.shape, d.num_classes, 0, Device::Cpu).unwrap().layers());
    let common::config::Kept::PerLayer(want) = want else { panic!("layer-wise config") };
    let got: Vec<i64> = mask.report().iter().map(|l| l.kept).collect();
    assert_eq!(got, want);
}

#[test]
fn a_pruner_and_a_ticket_criterion_together_are_refused() {
    let mut cfg = config(1);
    cfg.pruner = PrunerName::RANDOM;
    cfg.ticket.criterion = Some(common::criteria::Criterion::MagnitudeIncrease);
    let e = cfg.validate().unwrap_err().to_string();
    assert!(e.contains("pruner `random`") && e.contains("ticket"), "{e}");
}
