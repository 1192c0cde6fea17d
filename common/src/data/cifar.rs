//! CIFAR binary batches. CIFAR-10 (`data_batch_{1..5}.bin`, `test_batch.bin`): each record is
//! 3,073 bytes, one label byte, then 3,072 pixel bytes as three 32×32 planes (red, green, blue),
//! row-major, i.e. already `[C, H, W]`. CIFAR-100 (`train.bin`, `test.bin`): 3,074 bytes, the
//! coarse (20 superclasses) and the fine label (100 classes), then the same pixels; the fine
//! label is the class.

use anyhow::{bail, Context, Result};
use std::path::Path;

pub const RECORD: usize = 1 + 3 * 32 * 32;

/// The two record layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Cifar10,
    Cifar100,
}

impl Layout {
    /// (label bytes before the pixels, which of them is the class, classes, data folder).
    fn labels(self) -> (usize, usize, u8, &'static str) {
        match self {
            Layout::Cifar10 => (1, 0, 10, "data/cifar-10"),
            Layout::Cifar100 => (2, 1, 100, "data/cifar-100"),
        }
    }
}

/// Reads one or more CIFAR-10 batch files into `(pixels [N*3*32*32], labels [N])`.
pub fn read_batches(files: &[impl AsRef<Path>]) -> Result<(Vec<u8>, Vec<u8>)> {
    read(files, Layout::Cifar10)
}

/// Reads one or more batch files of `layout` into `(pixels [N*3*32*32], class labels [N])`.
pub fn read(files: &[impl AsRef<Path>], layout: Layout) -> Result<(Vec<u8>, Vec<u8>)> {
    let (label_bytes, class_at, classes, folder) = layout.labels();
    let record = label_bytes + RECORD - 1;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for f in files {
        let f = f.as_ref();
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        if bytes.is_empty() || bytes.len() % record != 0 {
            bail!(
                "{} is truncated or not a {layout:?} binary batch ({} bytes is not a multiple of the {record}-byte record); delete {folder} and run `make data` again",
                f.display(), bytes.len()
            );
        }
        for rec in bytes.chunks_exact(record) {
            let class = rec[class_at];
            if class >= classes {
                bail!("{} has label {class} outside 0..{classes} (not {layout:?}, or corrupt); delete {folder} and run `make data` again", f.display());
            }
            labels.push(class);
            pixels.extend_from_slice(&rec[label_bytes..]);
        }
    }
    Ok((pixels, labels))
}
