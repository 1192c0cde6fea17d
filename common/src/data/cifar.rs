//! CIFAR-10 binary batches (`data_batch_{1..5}.bin`, `test_batch.bin`).
//!
//! Each record is 3,073 bytes: one label byte, then 3,072 pixel bytes as three 32×32 planes
//! (red, green, blue), row-major, i.e. already `[C, H, W]`.

use anyhow::{bail, Context, Result};
use std::path::Path;

pub const RECORD: usize = 1 + 3 * 32 * 32;

/// Reads one or more batch files into `(pixels [N*3*32*32], labels [N])`.
pub fn read_batches(files: &[impl AsRef<Path>]) -> Result<(Vec<u8>, Vec<u8>)> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for f in files {
        let f = f.as_ref();
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            bail!(
                "{} is truncated or not a CIFAR-10 binary batch ({} bytes is not a multiple of the {RECORD}-byte record); delete data/cifar-10 and run `make data` again",
                f.display(), bytes.len()
            );
        }
        for rec in bytes.chunks_exact(RECORD) {
            if rec[0] > 9 {
                bail!("{} has label {} outside 0..10 (not CIFAR-10, or corrupt); delete data/cifar-10 and run `make data` again", f.display(), rec[0]);
            }
            labels.push(rec[0]);
            pixels.extend_from_slice(&rec[1..]);
        }
    }
    Ok((pixels, labels))
}
