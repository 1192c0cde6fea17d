//! Results-file migrations of settings that moved from the config's top level into branch
//! params: a file is aged to the old layout by hand (the setting a top-level table, the
//! branches without params, their stages under the bare kind's name), migrated, and must equal
//! the file today's code writes — every number, every stage name, the new trunk hash.

use crate::engine::{config, data, run_imp, run_info};
use crate::tickets::learned_supermask_params;
use common::config::{BranchConfig, BranchKind, ExperimentConfig, MovedSetting, MOVED_INTERPOLATION, MOVED_SUPERMASK};
use common::interpolate::Interpolation;
use common::results::{self, ExperimentResults};
use common::stage::{to_params, Params};
use std::path::Path;

/// Trains `cfg`, writes its results file under `dir`, and returns the path and what it holds.
fn written(cfg: &ExperimentConfig, dir: &Path) -> (std::path::PathBuf, ExperimentResults) {
    let d = data();
    let recs = run_imp(cfg, &d, 2, &dir.join("runs"));
    let path = dir.join("r.h5");
    results::write(&path, cfg, &d.provenance, &run_info(), &recs).unwrap();
    let today = results::read(&path).unwrap();
    (path, today)
}

/// Rewrites the file at `path` as it was before `moved` left the top level: `settings` under
/// its key, no branch params, every stage of the moved kinds renamed to the bare kind.
fn age(path: &Path, today: &ExperimentResults, moved: &MovedSetting, settings: Params) {
    let f = hdf5::File::open_rw(path).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&today.config_json).unwrap();
    for b in old["branches"].as_array_mut().unwrap() {
        b.as_object_mut().unwrap().remove("params");
    }
    old[moved.key] = serde_json::Value::Object(settings);
    for (name, value) in [("config_json", old.to_string()), ("config_hash", "0123456789ab".to_string())] {
        f.delete_attr(name).unwrap();
        let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>().create(name).unwrap().write_scalar(&v).unwrap();
    }
    for r in &today.records {
        let common::imp::Stage::Branch(kind, copy) = r.stage else { continue };
        let bare = format!("{}_{copy}", kind.as_str());
        if moved.kinds.iter().any(|k| k.same_kind(kind)) && r.stage.to_string() != bare {
            let level = f.group(&format!("replicate_{}/level_{}", r.replicate, r.level)).unwrap();
            level.relink(&r.stage.to_string(), &bare).unwrap();
        }
    }
}

/// Runs every migration as `lt-data --migrate-results` does; returns which changed the file.
fn migrate_all(path: &Path) -> Vec<&'static str> {
    results::MIGRATIONS.iter().filter(|(_, m)| m(path).unwrap()).map(|(name, _)| *name).collect()
}

/// The aged file refuses to read, naming the fix; migrated, it equals today's file.
fn migrates_back(cfg: &ExperimentConfig, path: &Path, today: ExperimentResults, migration: &str) {
    let e = format!("{:#}", results::read(path).unwrap().config().unwrap_err());
    assert!(e.contains("lt-data --migrate-results"), "an old file names its migration: {e}");
    assert_eq!(migrate_all(path), [migration]);
    let after = results::read(path).unwrap();
    assert_eq!(after.config().unwrap(), *cfg);
    assert_eq!(after.config_hash, cfg.hash());
    assert_eq!(
        (after.records, after.provenance_json, after.run),
        (today.records, today.provenance_json, today.run),
        "every stage under today's name, every number unchanged"
    );
    let migrations = results::read_migrations(path).unwrap().expect("the migration is recorded");
    assert!(migrations.contains(migration), "{migrations}");
    assert!(migrate_all(path).is_empty(), "a second migration changes nothing");
    results::existing(path, cfg, &data().provenance).unwrap();
}

#[test]
fn the_supermask_settings_move_from_the_top_level_into_the_branch() {
    let mut cfg = config(1);
    cfg.replicates = 1;
    let settings = learned_supermask_params();
    cfg.branches = vec![BranchConfig::new(BranchKind::LEARNED_SUPERMASK, vec![0], 1).with_params(settings.clone()).unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let (path, today) = written(&cfg, dir.path());
    age(&path, &today, &MOVED_SUPERMASK, settings);
    assert!(results::read(&path).unwrap().records.iter().any(|r| r.stage.to_string() == "learned-supermask_0"));
    migrates_back(&cfg, &path, today, results::SUPERMASK_PARAMS_MIGRATION);
}

#[test]
fn the_interpolation_moves_into_every_spawned_branch_and_at_its_default_reads_as_it_is() {
    let mut cfg = config(1);
    cfg.replicates = 1;
    let how = to_params(&Interpolation { points: 5, train_examples: Some(64), ..Interpolation::PAPER });
    let spawned = |kind, levels| BranchConfig::new(kind, levels, 2).with_params(how.clone()).unwrap();
    cfg.branches = vec![spawned(BranchKind::SPAWN, vec![0, 1]), BranchConfig::new(BranchKind::REINIT, vec![1], 1), spawned(BranchKind::SPAWN_REINIT, vec![1])];
    let trunk_alone = ExperimentConfig { branches: vec![], ..cfg.clone() }.hash();
    assert_eq!(cfg.hash(), trunk_alone, "the interpolation leaves the trunk's identity");
    let dir = tempfile::tempdir().unwrap();
    let (path, today) = written(&cfg, dir.path());
    let spawn = today.records.iter().find(|r| r.stage.kind().is(BranchKind::SPAWN) && r.pair.is_some()).unwrap();
    assert_eq!(spawn.pair.as_ref().unwrap().test.len(), 5, "the branch's params chose the points");
    assert!(spawn.stage.to_string().starts_with("spawn-"), "{}", spawn.stage);
    age(&path, &today, &MOVED_INTERPOLATION, how);
    migrates_back(&cfg, &path, today, results::INTERPOLATION_PARAMS_MIGRATION);

    // Every config once stated the paper's interpolation; such a file reads, unmigrated.
    cfg.branches = vec![BranchConfig::new(BranchKind::SPAWN, vec![0], 2)];
    let dir = tempfile::tempdir().unwrap();
    let (path, today) = written(&cfg, dir.path());
    assert!(today.records.iter().any(|r| r.stage.to_string() == "spawn_1"), "the paper's settings leave the folder name bare");
    age(&path, &today, &MOVED_INTERPOLATION, to_params(&serde_json::json!({ "points": 30 })));
    assert_eq!(results::read(&path).unwrap().config().unwrap(), cfg);
    assert!(migrate_all(&path).is_empty(), "nothing to move");
}

#[test]
fn a_transfer_experiments_stored_source_config_is_upgraded_too() {
    let paper = serde_json::json!({ "points": 30 });
    let mut stored = serde_json::json!({ "interpolation": paper, "seed": 1, "transfer": { "source": { "interpolation": paper, "seed": 2 } } });
    common::config::upgrade_stored(&mut stored).unwrap();
    assert_eq!(stored, serde_json::json!({ "seed": 1, "transfer": { "source": { "seed": 2 } } }));
    let mut other = serde_json::json!({ "transfer": { "source": { "interpolation": { "points": 5 } } } });
    let e = format!("{:#}", common::config::upgrade_stored(&mut other).unwrap_err());
    assert!(e.contains("`interpolation`") && e.contains("lt-data --migrate-results"), "{e}");
}
