//! A VGG's channel layers: convolution `i` with its batch norm `layers.{i}.bn`; the linear
//! layer reads the last one's channels.

use super::Axes;
use anyhow::{bail, Result};

/// Which of the `layers` channel layers variable `name` of a VGG follows: convolution `i`'s
/// filters are channels of layer `i` and its input channels those of layer `i − 1`; batch norm
/// `i` is layer `i`; the linear layer's input columns are the last layer's.
pub(super) fn axes(name: &str, layers: usize) -> Result<Axes> {
    let layer = name.strip_prefix("layers.").and_then(|rest| rest.split_once('.')).and_then(|(i, rest)| Some((i.parse::<usize>().ok()?, rest)));
    Ok(match (layer, name) {
        (Some((i, "conv.weight")), _) => Axes { out: Some(i), inp: i.checked_sub(1) },
        (Some((i, rest)), _) if rest.starts_with("bn.") => Axes { out: Some(i), inp: None },
        (None, "fc.weight") => Axes { out: None, inp: Some(layers - 1) },
        (None, "fc.bias") => Axes::WHOLE,
        _ => bail!("cannot remove channels from variable {name}"),
    })
}

/// FLOPs of one example through the VGG of channel `plan` (0: a max-pool) on `shape` inputs:
/// 3×3 convolutions with batch norm and ReLU, 2×2 max-pools (skipped below 2 pixels, as the
/// network skips them), the global average pool one per input element (the authors' VGG ends
/// in an `AvgPool2d`), the linear layer.
pub(super) fn flops(plan: &[i64], shape: [i64; 3], classes: i64) -> u64 {
    let [mut c, mut h, mut w] = shape;
    let mut flops = 0i64;
    for &out in plan {
        if out == 0 {
            if h >= 2 {
                h /= 2;
                w /= 2;
                flops += 4 * c * h * w;
            }
        } else {
            let elements = out * h * w;
            flops += 2 * 9 * c * elements + 2 * elements + elements;
            c = out;
        }
    }
    (flops + c * h * w + 2 * c * classes + classes) as u64
}
