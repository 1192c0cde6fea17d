//! Pretraining tasks: a dataset with its labels or images changed, for pretraining a network
//! before its ticket is rewound to the pretrained weights (Frankle, Schwab & Morcos 2020, §5;
//! open_lth's `datasets/base.py`, whose semantics `shared/reference/papers-round3.md` §1.4
//! records):
//! - [`Pretext::RandomLabels`]: every training label redrawn uniformly from the classes (a draw
//!   may equal the true label); validation and test keep the true labels (open_lth randomises
//!   the training set only, fraction 1.0 here);
//! - [`Pretext::Rotation`]: every image of every split rotated by r · 90° counterclockwise with
//!   r ∈ {0, 1, 2, 3} drawn once per example, and r its label (4 classes). Exact right angles
//!   (Gidaris et al.'s task); open_lth's public code rotates by a random angle in ±r · 90°
//!   instead, which we do not follow;
//! - [`Pretext::Blur`]: every image of every split averaged over 4 × 4 blocks and upsampled back
//!   bilinearly (28 → 7 → 28; open_lth's `blur_factor` resizes down and up), labels kept.
//!
//! The draws are seeded (streams `random-labels`, `rotation` at the split's index), so a
//! pretraining task is the same data on every run.

use super::{Dataset, Split};
use crate::rng;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// The block size of [`Pretext::Blur`].
pub const BLUR_FACTOR: i64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pretext {
    RandomLabels,
    Rotation,
    Blur,
}

impl Pretext {
    /// The classes of the task on a dataset of `classes` classes.
    pub fn classes(self, classes: i64) -> i64 {
        match self {
            Pretext::Rotation => 4,
            _ => classes,
        }
    }

    /// How figures and claims name the task.
    pub fn label(self) -> &'static str {
        match self {
            Pretext::RandomLabels => "random labels",
            Pretext::Rotation => "rotation (self-supervised)",
            Pretext::Blur => "blurred inputs",
        }
    }

    /// `data` as this task sees it (its draws from `seed`).
    pub fn apply(self, data: &Dataset, seed: u64) -> Result<Dataset> {
        let [_, h, w] = data.shape;
        let splits = [&data.train, &data.validation, &data.test];
        let changed: Vec<Split> = match self {
            Pretext::RandomLabels => {
                let labels = random_labels(data.train.len(), data.num_classes, seed, data.train.labels.device());
                vec![
                    Split { images: data.train.images.shallow_clone(), labels },
                    Split { images: data.validation.images.shallow_clone(), labels: data.validation.labels.shallow_clone() },
                    Split { images: data.test.images.shallow_clone(), labels: data.test.labels.shallow_clone() },
                ]
            }
            Pretext::Rotation => {
                if h != w {
                    bail!("rotation pretraining needs square images (got {h}x{w})");
                }
                splits.iter().enumerate().map(|(i, s)| rotated(s, seed, i as u64)).collect()
            }
            Pretext::Blur => {
                if h % BLUR_FACTOR != 0 || w % BLUR_FACTOR != 0 {
                    bail!("blur pretraining averages {BLUR_FACTOR}x{BLUR_FACTOR} blocks; the images are {h}x{w}");
                }
                splits.iter().map(|s| Split { images: blurred(&s.images), labels: s.labels.shallow_clone() }).collect()
            }
        };
        let [train, validation, test]: [Split; 3] = changed.try_into().map_err(|_| anyhow::format_err!("three splits"))?;
        Ok(Dataset {
            name: data.name,
            shape: data.shape,
            num_classes: self.classes(data.num_classes),
            train,
            validation,
            test,
            provenance: data.provenance.clone(),
        })
    }
}

/// `n` labels drawn uniformly from `0..classes`.
fn random_labels(n: usize, classes: i64, seed: u64, device: Device) -> Tensor {
    let mut stream = rng::stream(seed, "random-labels", &[]);
    let labels: Vec<i64> = (0..n).map(|_| rng::below(&mut stream, classes as u64) as i64).collect();
    Tensor::from_slice(&labels).to_device(device)
}

/// Each example of `split` rotated by its drawn quarter turns, labelled with their number.
fn rotated(split: &Split, seed: u64, index: u64) -> Split {
    let mut stream = rng::stream(seed, "rotation", &[index]);
    let turns: Vec<i64> = (0..split.len()).map(|_| rng::below(&mut stream, 4) as i64).collect();
    let labels = Tensor::from_slice(&turns).to_device(split.labels.device());
    let mut images = split.images.copy();
    for r in 1..4 {
        let picked = labels.eq(r).nonzero().squeeze_dim(1);
        if picked.size()[0] > 0 {
            let turned = split.images.index_select(0, &picked).rot90(r, [2, 3]);
            let _ = images.index_copy_(0, &picked, &turned);
        }
    }
    Split { images, labels }
}

/// `images` `[N, C, H, W]` averaged over [`BLUR_FACTOR`]² blocks and upsampled bilinearly back.
fn blurred(images: &Tensor) -> Tensor {
    let size = images.size();
    let small = images.avg_pool2d([BLUR_FACTOR, BLUR_FACTOR], [BLUR_FACTOR, BLUR_FACTOR], [0, 0], false, true, None::<i64>);
    small.upsample_bilinear2d([size[2], size[3]], false, None, None).to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::Pretext;
    use crate::data::synthetic;
    use tch::Tensor;

    /// Each example's image is its original turned by its label's quarter turns, on every split.
    #[test]
    fn rotation_labels_are_the_quarter_turns_applied() {
        let data = synthetic(3, 64, 32, 10);
        let task = Pretext::Rotation.apply(&data, 7).unwrap();
        assert_eq!(task.num_classes, 4);
        for (before, after) in [(&data.train, &task.train), (&data.test, &task.test)] {
            let labels = Vec::<i64>::try_from(&after.labels).unwrap();
            assert!((0..4).all(|r| labels.contains(&r)), "every rotation drawn: {labels:?}");
            for (i, &r) in labels.iter().enumerate() {
                let expected = before.images.get(i as i64).rot90(r, [1, 2]);
                assert!(after.images.get(i as i64).equal(&expected), "example {i}, {r} quarter turns");
                if r != 0 {
                    assert!(!after.images.get(i as i64).equal(&before.images.get(i as i64)), "example {i} moved");
                }
            }
        }
        // The same seed draws the same task.
        assert!(Pretext::Rotation.apply(&data, 7).unwrap().train.labels.equal(&task.train.labels));
    }

    /// Random labels change the training split only.
    #[test]
    fn random_labels_replace_the_training_labels_only() {
        let data = synthetic(3, 2_000, 200, 10);
        let task = Pretext::RandomLabels.apply(&data, 7).unwrap();
        assert!(task.test.labels.equal(&data.test.labels) && task.validation.labels.equal(&data.validation.labels));
        assert!(task.train.images.equal(&data.train.images));
        let same = f64::try_from(task.train.labels.eq_tensor(&data.train.labels).to_kind(tch::Kind::Double).mean(None)).unwrap();
        // A uniform draw keeps the true label one time in ten.
        assert!((same - 0.1).abs() < 0.03, "{same}");
    }

    /// Blurring removes what varies within a 4 × 4 block: a checkerboard averages to its mean.
    #[test]
    fn blur_averages_four_by_four_blocks() {
        let mut data = synthetic(3, 16, 16, 10);
        let [c, h, w] = data.shape;
        let board = (Tensor::arange(h, (tch::Kind::Float, tch::Device::Cpu)).view([h, 1])
            + Tensor::arange(w, (tch::Kind::Float, tch::Device::Cpu)).view([1, w]))
        .remainder(2.0)
            * 2.0
            - 1.0;
        data.train.images = board.view([1, 1, h, w]).expand([16, c, h, w], false).contiguous() + 0.5;
        let task = Pretext::Blur.apply(&data, 0).unwrap();
        assert_eq!(task.train.images.size(), data.train.images.size());
        let max_dev = f64::try_from((&task.train.images - 0.5).abs().max()).unwrap();
        assert!(max_dev < 1e-5, "{max_dev}");
        assert!(task.train.labels.equal(&data.train.labels));
    }
}
