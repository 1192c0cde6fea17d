//! A PreResNet's channel layers: per block `3i` its `bn1` (the block's input, whose removed
//! channels only the block's first convolution loses: the residual stream stays whole), `3i + 1`
//! its `bn2` (the first convolution's filters), `3i + 2` its `bn3` (the second's); the last
//! layer is the final `bn`, whose removed channels only the linear layer loses. The stem, the
//! third convolution's filters and the downsampling projections write the residual stream and
//! keep every channel (the authors' `resprune.py`).

use super::{Axes, ChannelMask};
use crate::models::preresnet::{block_plan, blocks_per_stage, PrunedBlock};
use crate::models::Arch;
use anyhow::{bail, Context, Result};

/// Which channel layers variable `name` of PreResNet-`depth` follows.
pub(super) fn axes(depth: usize, name: &str) -> Result<Axes> {
    let refuse = || format!("cannot remove channels from variable {name}");
    let block = |name: &str| -> Option<(usize, String)> {
        let rest = name.strip_prefix("layer")?;
        let (stage, rest) = rest.split_once('.')?;
        let (b, rest) = rest.split_once('.')?;
        let n = blocks_per_stage(depth)?;
        Some(((stage.parse::<usize>().ok()?.checked_sub(1)?) * n + b.parse::<usize>().ok()?, rest.to_string()))
    };
    let last = 3 * block_plan(depth, 1).len();
    if let Some((i, rest)) = block(name) {
        let (part, _) = rest.split_once('.').with_context(refuse)?;
        return Ok(match part {
            "bn1" | "downsample" => Axes::WHOLE,
            "conv1" => Axes { out: Some(3 * i + 1), inp: Some(3 * i) },
            "bn2" => Axes { out: Some(3 * i + 1), inp: None },
            "conv2" => Axes { out: Some(3 * i + 2), inp: Some(3 * i + 1) },
            "bn3" => Axes { out: Some(3 * i + 2), inp: None },
            "conv3" => Axes { out: None, inp: Some(3 * i + 2) },
            _ => bail!("{}", refuse()),
        });
    }
    Ok(match name {
        "fc.weight" => Axes { out: None, inp: Some(last) },
        "fc.bias" | "conv1.weight" => Axes::WHOLE,
        _ if name.starts_with("bn.") => Axes::WHOLE,
        _ => bail!("{}", refuse()),
    })
}

/// The kept channels' indices.
fn indices(keep: &[bool]) -> Vec<i64> {
    (0..keep.len() as i64).filter(|&c| keep[c as usize]).collect()
}

/// The architecture of PreResNet-`depth` (width `width`) with `keep`'s channels.
pub(super) fn pruned_arch(depth: usize, width: i64, keep: &ChannelMask) -> Arch {
    let k = &keep.0;
    let blocks = (0..k.len() / 3)
        .map(|i| PrunedBlock { select: indices(&k[3 * i]), inner: [3 * i + 1, 3 * i + 2].map(|l| k[l].iter().filter(|&&b| b).count() as i64) })
        .collect();
    Arch::PreresnetChannels { depth, width, blocks, output: indices(&k[k.len() - 1]) }
}

/// FLOPs of one example through PreResNet `arch` (whole or channel-pruned) on `shape` inputs,
/// as `compute_flops.py` counts them: the stem convolution; per block its batch norms over
/// their inputs (`bn1` over the whole stream), its ReLUs over the selected or inner channels,
/// its three convolutions and the downsampling projection; the final batch norm and ReLU, the
/// linear layer. The global average pool (an `AdaptiveAvgPool2d`, which the counter does not
/// hook) and the residual additions count nothing.
pub(super) fn flops(arch: &Arch, shape: [i64; 3], classes: i64) -> Result<u64> {
    let (depth, width, pruned) = match arch {
        Arch::Preresnet { depth, width } => (*depth, *width, None),
        Arch::PreresnetChannels { depth, width, blocks, output } => (*depth, *width, Some((blocks, output))),
        other => bail!("{other:?} is not a PreResNet"),
    };
    let [c, mut h, mut w] = shape;
    let mut flops = 2 * 9 * c * width * h * w;
    for (i, (inplanes, planes, stride)) in block_plan(depth, width).into_iter().enumerate() {
        let (c0, [c1, c2]) = match pruned {
            Some((blocks, _)) => (blocks[i].select.len() as i64, blocks[i].inner),
            None => (inplanes, [planes, planes]),
        };
        let (h2, w2) = ((h - 1) / stride + 1, (w - 1) / stride + 1);
        let (at_in, at_out) = (h * w, h2 * w2);
        flops += 2 * inplanes * at_in + c0 * at_in + 2 * c0 * c1 * at_in + 3 * c1 * at_in;
        flops += 2 * 9 * c1 * c2 * at_out + 3 * c2 * at_out + 2 * c2 * 4 * planes * at_out;
        if stride != 1 || inplanes != 4 * planes {
            flops += 2 * inplanes * 4 * planes * at_out;
        }
        (h, w) = (h2, w2);
    }
    let out = 16 * width;
    let kept = pruned.map_or(out, |(_, output)| output.len() as i64);
    flops += 2 * out * h * w + kept * h * w + 2 * kept * classes + classes;
    Ok(flops as u64)
}
