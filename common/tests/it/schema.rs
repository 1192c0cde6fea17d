//! Results schema 2 stores every curve a stage measured by name, under `curves/`; a file of
//! schema 1 (the five classification curves as datasets of the stage's own group, NaN where not
//! measured) still reads, as the curves its stages measured.

use crate::engine::{config, data, run_imp, run_info};
use common::imp::StageRecord;
use common::results;
use common::train::{metric, EvalLog};
use std::path::Path;

/// The stage groups of `records` in the file `f`.
fn stage_groups<'a>(f: &'a hdf5::File, records: &'a [StageRecord]) -> impl Iterator<Item = hdf5::Group> + 'a {
    records.iter().map(|r| f.group(&format!("replicate_{}/level_{}/{}", r.replicate, r.level, r.stage)).unwrap())
}

/// Rewrites the schema-2 file at `path` as schema 1 laid it out: the five classification curves
/// moved out of `curves/` into the stage's group, NaN-filled where the stage did not measure
/// them, `curves/` kept only for what remains, `schema_version` 1.
fn age_to_schema_1(path: &Path, records: &[StageRecord]) {
    let f = hdf5::File::open_rw(path).unwrap();
    for g in stage_groups(&f, records) {
        let entries = g.dataset("iteration").unwrap().size();
        let curves = g.group("curves").unwrap();
        for name in metric::EVALUATION {
            let values = match curves.dataset(name) {
                Ok(d) => d.read_raw::<f64>().unwrap(),
                Err(_) => vec![f64::NAN; entries],
            };
            if curves.link_exists(name) {
                curves.unlink(name).unwrap();
            }
            g.new_dataset_builder().with_data(&values).create(name).unwrap();
        }
        if curves.member_names().unwrap().is_empty() {
            g.unlink("curves").unwrap();
        }
    }
    f.delete_attr("schema_version").unwrap();
    f.new_attr::<i64>().create("schema_version").unwrap().write_scalar(&1i64).unwrap();
}

#[test]
fn curves_are_stored_by_name_and_a_schema_1_file_reads_the_same() {
    crate::init();
    let (cfg, d) = (config(2), data());
    let dir = tempfile::tempdir().unwrap();
    let mut records = run_imp(&cfg, &d, 2, &dir.path().join("runs"));
    // A stage of a task with curves of its own (a game's): no validation or test curves.
    let game = records.last_mut().unwrap();
    game.outcome.log = EvalLog::from_curves(vec![0, 5], [(metric::TRAIN_LOSS, vec![f64::NAN, 0.5]), ("reward", vec![f64::NAN, 12.0])]).unwrap();
    let path = dir.path().join("r.h5");
    results::write(&path, &cfg, &d.provenance, &run_info(), &records).unwrap();

    let f = hdf5::File::open(&path).unwrap();
    assert_eq!(f.attr("schema_version").unwrap().read_scalar::<i64>().unwrap(), results::SCHEMA_VERSION);
    for (g, r) in stage_groups(&f, &records).zip(&records) {
        let mut stored: Vec<String> = g.group("curves").unwrap().member_names().unwrap();
        stored.sort();
        let logged: Vec<&str> = r.outcome.log.curves().map(|(name, _)| name).collect();
        assert_eq!(stored, logged, "{}: every curve under curves/, by name", r.stage);
        assert!(!g.link_exists(metric::TEST_ACC), "{}: no curve outside curves/", r.stage);
    }
    drop(f);
    let today = results::read(&path).unwrap();
    assert_eq!(today.records, records, "schema 2 reads back what was written");
    assert!(today.records.last().unwrap().outcome.log.val_acc().is_empty(), "a curve never measured stays absent");

    age_to_schema_1(&path, &records);
    let f = hdf5::File::open(&path).unwrap();
    let trunk = f.group("replicate_0/level_0/main").unwrap();
    assert!(trunk.link_exists(metric::TEST_ACC) && !trunk.link_exists("curves"), "aged to schema 1's layout");
    drop(f);
    let old = results::read(&path).unwrap();
    assert_eq!(old.records, today.records, "a schema-1 file reads as the curves its stages measured");
    let game = &old.records.last().unwrap().outcome.log;
    assert_eq!(game.curves().map(|(name, _)| name).collect::<Vec<_>>(), ["reward", "train_loss"], "NaN placeholders dropped");
}
