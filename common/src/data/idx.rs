//! IDX files (the MNIST family's format), raw or gzip-compressed.
//!
//! Layout: a big-endian header `00 00 08 D` (unsigned bytes, `D` dimensions), `D` big-endian
//! `u32` sizes, then the bytes in row-major order. Images are `D = 3` (`[N, 28, 28]`), labels
//! `D = 1` (`[N]`).

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// A decoded IDX array of unsigned bytes with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads a file whole, transparently gunzipping when it starts with the gzip magic.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{} is a truncated or corrupt gzip file; delete it and run `make data` again", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses IDX bytes, checking the magic number, the dimension count and the payload length.
pub fn parse(bytes: &[u8], expected_dims: usize, origin: &Path) -> Result<IdxArray> {
    let name = origin.display();
    let fix = "delete it and run `make data` again";
    if bytes.len() < 4 {
        bail!("{name} is truncated (no IDX header); {fix}");
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 {
        bail!(
            "{name} has a wrong magic number {:02x}{:02x}{:02x}{:02x} (expected 000008{:02x}, unsigned-byte IDX); {fix}",
            bytes[0],
            bytes[1],
            bytes[2],
            bytes[3],
            expected_dims
        );
    }
    let dims = bytes[3] as usize;
    if dims != expected_dims {
        bail!("{name} has {dims} dimensions where {expected_dims} were expected (images and labels swapped?); {fix}");
    }
    let header = 4 + 4 * dims;
    if bytes.len() < header {
        bail!("{name} is truncated inside its IDX header; {fix}");
    }
    let shape: Vec<usize> = (0..dims).map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize).collect();
    let n: usize = shape.iter().product();
    let payload = &bytes[header..];
    if payload.len() != n {
        let what = if payload.len() < n { "truncated" } else { "longer than its header says" };
        bail!("{name} is {what}: header {shape:?} needs {n} bytes, file has {}; {fix}", payload.len());
    }
    Ok(IdxArray { shape, data: payload.to_vec() })
}

/// Reads an image file (`[N, H, W]`) and its label file (`[N]`), checking that counts agree and
/// labels are below `num_classes`.
pub fn read_pair(images: &Path, labels: &Path, num_classes: u8) -> Result<(IdxArray, IdxArray)> {
    let img = parse(&read_maybe_gz(images)?, 3, images)?;
    let lab = parse(&read_maybe_gz(labels)?, 1, labels)?;
    if img.shape[0] != lab.shape[0] {
        bail!(
            "{} holds {} images but {} holds {} labels; the two files come from different datasets or one is damaged, delete both and run `make data` again",
            images.display(),
            img.shape[0],
            labels.display(),
            lab.shape[0]
        );
    }
    if let Some(bad) = lab.data.iter().find(|&&l| l >= num_classes) {
        bail!("{} contains label {bad}, outside 0..{num_classes}; delete it and run `make data` again", labels.display());
    }
    Ok((img, lab))
}

/// Encodes an unsigned-byte IDX array (used by the npm converter and by tests).
pub fn encode(shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, shape.len() as u8];
    for &s in shape {
        out.extend_from_slice(&(s as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}
