//! A pruned LeNet's training step and evaluation on the sparse kernels, without autograd (tch
//! has no custom backward): forward through `fc1 … fcK` (ReLU between), softmax cross-entropy,
//! backward, then the optimizer's update of the survivors.

use super::kernels::{self, Isa, LANES};
use super::pattern::Pattern;
use crate::data::Split;
use crate::models::{Arch, Model};
use crate::prune::Mask;
use crate::train::optim::{Gradient, Optimizer};
use anyhow::{bail, Context, Result};
use tch::{Device, Kind, Tensor};

/// One linear layer: the model's own weight `[rows, cols]` and bias `[rows]` tensors (shared
/// storage) and where the weight keeps its survivors.
struct Layer {
    weight_name: String,
    bias_name: String,
    weight: Tensor,
    bias: Tensor,
    pattern: Pattern,
    /// Row-major indices of the survivors, in the pattern's entry order.
    positions: Vec<u32>,
}

/// The sparse training step of one LeNet under one mask (built once per stage).
pub struct SparseMlp {
    isa: Isa,
    layers: Vec<Layer>,
    /// Reused step buffers: the input and each layer's output (`features × bp`), the gradient
    /// flowing back (two, swapped), and each layer's weight (per survivor) and bias gradients.
    input: Vec<f32>,
    outs: Vec<Vec<f32>>,
    back: [Vec<f32>; 2],
    weight_grads: Vec<Vec<f32>>,
    bias_grads: Vec<Vec<f32>>,
}

/// A split laid out for the kernels once: blocks of [`LANES`] examples, each `features ×
/// LANES` (feature-major, the last block padded with zero examples), and the labels.
pub struct Blocks {
    features: usize,
    data: Vec<f32>,
    labels: Vec<i64>,
}

/// `f32` view of a contiguous CPU float tensor.
fn floats(t: &Tensor) -> &[f32] {
    assert!(t.device() == Device::Cpu && t.kind() == Kind::Float && t.is_contiguous(), "a contiguous CPU f32 tensor");
    // SAFETY: the tensor's `numel` floats are contiguous CPU memory (checked above), kept alive
    // by `t` for the borrow; the network's tensors are only written by the optimizer's update,
    // which never runs while a view made here is alive.
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) }
}

impl Blocks {
    /// `split`'s images (any shape `[N, …]`, flattened per example) and labels.
    pub fn new(split: &Split) -> Result<Blocks> {
        let images = split.images.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let n = split.len();
        let features = images.numel().checked_div(n).unwrap_or(0);
        let x = floats(&images);
        let blocks = n.div_ceil(LANES);
        let mut data = vec![0f32; blocks * features * LANES];
        for (chunk, out) in x.chunks(LANES * features).zip(data.chunks_exact_mut(features * LANES)) {
            kernels::feature_major(Isa::detect(), chunk, chunk.len() / features.max(1), features, out, LANES);
        }
        let labels = Vec::<i64>::try_from(split.labels.to_device(Device::Cpu).to_kind(Kind::Int64).contiguous()).context("labels")?;
        Ok(Blocks { features, data, labels })
    }
}

/// Per-example softmax cross-entropy of logits `z` (`classes × bp`, real examples `0..n`):
/// the summed loss (`f64`), the correct count, and when `grad` is given, `∂(mean loss)/∂z`
/// written there (zero at padded examples).
fn cross_entropy(z: &[f32], classes: usize, bp: usize, labels: &[i64], mut grad: Option<&mut [f32]>) -> (f64, usize) {
    let n = labels.len();
    if let Some(g) = grad.as_deref_mut() {
        g.fill(0.0);
    }
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for (b, &y) in labels.iter().enumerate() {
        let logit = |c: usize| z[c * bp + b];
        // First maximum, as argmax.
        let best = (0..classes).fold(0, |best, c| if logit(c) > logit(best) { c } else { best });
        let m = logit(best) as f64;
        let sum: f64 = (0..classes).map(|c| (logit(c) as f64 - m).exp()).sum();
        loss += sum.ln() + m - logit(y as usize) as f64;
        correct += (best == y as usize) as usize;
        if let Some(g) = grad.as_deref_mut() {
            for c in 0..classes {
                let p = (logit(c) as f64 - m).exp() / sum;
                let target = if c == y as usize { 1.0 } else { 0.0 };
                g[c * bp + b] = ((p - target) / n as f64) as f32;
            }
        }
    }
    (loss, correct)
}

impl SparseMlp {
    /// The step of `model` (a LeNet on the CPU) under `mask`.
    pub fn new(model: &Model, mask: &Mask) -> Result<SparseMlp> {
        let Arch::Lenet { hidden } = &model.config.arch else { bail!("the sparse kernels run fully connected LeNets only, not {:?}", model.config.arch) };
        let params = model.parameters();
        let mut layers = Vec::new();
        for i in 1..=hidden.len() + 1 {
            let (weight_name, bias_name) = (format!("fc{i}.weight"), format!("fc{i}.bias"));
            let (weight, bias) = (params[&weight_name].shallow_clone(), params[&bias_name].shallow_clone());
            let (rows, cols) = (weight.size()[0] as usize, weight.size()[1] as usize);
            let pattern = match mask.0.get(&weight_name) {
                Some(m) => Pattern::from_mask(floats(&m.to_device(Device::Cpu).to_kind(Kind::Float).contiguous()), rows, cols)?,
                None => Pattern::from_mask(&vec![1.0; rows * cols], rows, cols)?,
            };
            let positions = pattern.positions();
            layers.push(Layer { weight_name, bias_name, weight, bias, pattern, positions });
        }
        for l in &layers {
            for t in [&l.weight, &l.bias] {
                if t.device() != Device::Cpu || t.kind() != Kind::Float || !t.is_contiguous() {
                    bail!("{} is not a contiguous CPU f32 tensor; the sparse kernels need one", l.weight_name);
                }
            }
        }
        let weight_grads = layers.iter().map(|l| vec![0f32; l.pattern.nnz()]).collect();
        let bias_grads = layers.iter().map(|l| vec![0f32; l.pattern.rows]).collect();
        Ok(SparseMlp {
            isa: Isa::detect(),
            input: Vec::new(),
            outs: vec![Vec::new(); layers.len()],
            back: [Vec::new(), Vec::new()],
            layers,
            weight_grads,
            bias_grads,
        })
    }

    /// Each layer's output for `input` (`features × bp`, `n` real examples) into `outs`, the
    /// logits last (ReLU between layers, padded examples reset to zero after each ReLU).
    fn forward(isa: Isa, layers: &[Layer], input: &[f32], outs: &mut [Vec<f32>], n: usize, bp: usize) {
        for (i, l) in layers.iter().enumerate() {
            let (before, after) = outs.split_at_mut(i);
            let (x, y) = (if i == 0 { input } else { &before[i - 1] }, &mut after[0]);
            y.resize(l.pattern.rows * bp, 0.0);
            kernels::forward(isa, &l.pattern, floats(&l.weight), floats(&l.bias), x, y, bp);
            if i + 1 < layers.len() {
                kernels::relu(y, n, bp);
            }
        }
    }

    /// One training step on `images` (`[B, …]`) and `labels` (`[B]`): forward, mean softmax
    /// cross-entropy, backward, and `opt`'s update with learning rate `lr`. Returns the loss.
    pub fn step(&mut self, images: &Tensor, labels: &Tensor, opt: &mut Optimizer, lr: f64) -> Result<f32> {
        let labels = Vec::<i64>::try_from(labels.to_kind(Kind::Int64).contiguous()).context("labels")?;
        let images = images.to_kind(Kind::Float).contiguous();
        let (n, isa) = (labels.len(), self.isa);
        let bp = n.div_ceil(LANES) * LANES;
        let features = self.layers[0].pattern.cols;
        let x = floats(&images);
        if x.len() != n * features {
            bail!("a batch of {n} examples of {} values does not fit a first layer of {features} inputs", x.len() / n.max(1));
        }
        self.input.resize(features * bp, 0.0);
        kernels::feature_major(isa, x, n, features, &mut self.input, bp);
        Self::forward(isa, &self.layers, &self.input, &mut self.outs, n, bp);
        let classes = self.layers.last().expect("layers").pattern.rows;
        let [g, spare] = &mut self.back;
        g.resize(classes * bp, 0.0);
        let (loss, _) = cross_entropy(self.outs.last().expect("logits"), classes, bp, &labels, Some(g));
        for (i, l) in self.layers.iter().enumerate().rev() {
            let x = if i == 0 { &self.input } else { &self.outs[i - 1] };
            kernels::weight_grad(isa, &l.pattern, g, x, &mut self.weight_grads[i], bp);
            kernels::bias_grad(g, &mut self.bias_grads[i], bp);
            if i > 0 {
                spare.resize(l.pattern.cols * bp, 0.0);
                kernels::input_grad(isa, &l.pattern, floats(&l.weight), g, spare, bp);
                // ReLU: the gradient passes where the layer's input (a ReLU output) is positive.
                kernels::relu_backward(spare, x);
                std::mem::swap(g, spare);
            }
        }
        let grads: Vec<Gradient> = self
            .layers
            .iter()
            .zip(self.weight_grads.iter().zip(&self.bias_grads))
            .flat_map(|(l, (dw, db))| {
                [Gradient { name: &l.weight_name, positions: Some(&l.positions), values: dw }, Gradient { name: &l.bias_name, positions: None, values: db }]
            })
            .collect();
        opt.step_with(lr, &grads)?;
        Ok((loss / n as f64) as f32)
    }

    /// Mean loss and accuracy on `blocks` (as [`crate::train::evaluate`]).
    pub fn evaluate(&self, blocks: &Blocks) -> (f64, f64) {
        let n = blocks.labels.len();
        let features = blocks.features;
        assert_eq!(features, self.layers[0].pattern.cols, "blocks of the network's input size");
        let mut outs = vec![Vec::new(); self.layers.len()];
        let (mut loss, mut correct) = (0.0, 0);
        for (data, labels) in blocks.data.chunks_exact(features * LANES).zip(blocks.labels.chunks(LANES)) {
            Self::forward(self.isa, &self.layers, data, &mut outs, labels.len(), LANES);
            let classes = self.layers.last().expect("layers").pattern.rows;
            let (l, c) = cross_entropy(outs.last().expect("logits"), classes, LANES, labels, None);
            loss += l;
            correct += c;
        }
        (loss / n as f64, correct as f64 / n as f64)
    }
}
