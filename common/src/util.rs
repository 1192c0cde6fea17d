//! Small file-system helpers shared by the data, results and checkpoint writers.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Lower-case hex SHA-256 of a byte slice.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a file's bytes, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The temporary sibling used while `path` is being written: same folder (so the final rename is
/// atomic), a name no reader takes for the real file.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `path` atomically: the bytes go to a temporary sibling, are fsynced, then renamed over
/// `path`, and the folder is fsynced. A reader sees the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })
}

/// Writes named tensors as safetensors, atomically: each is copied to the CPU in the standard
/// (row-major, logical) layout first, whatever its device and memory layout were.
pub fn write_tensors(path: &Path, tensors: &[(String, tch::Tensor)]) -> Result<()> {
    let named: Vec<(&str, tch::Tensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v.detach().to_device(tch::Device::Cpu).contiguous())).collect();
    write_atomic_with(path, |tmp| Ok(tch::Tensor::write_safetensors(&named, tmp)?))
}

/// Like [`write_atomic`], with a writer callback that creates the temporary file itself (used
/// for HDF5 and safetensors, whose libraries write by path).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {} (check permissions or pick another folder)", dir.display()))?;
    let tmp = temp_sibling(path);
    let result = write(&tmp).and_then(|()| {
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
