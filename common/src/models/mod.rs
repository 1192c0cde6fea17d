//! Networks with explicit initialisers and PyTorch-style parameter names.
//!
//! Every architecture takes its input shape `(C, H, W)` and class count from the dataset.
//! Parameters live in a `tch` `VarStore` under dotted names (`fc1.weight`, `layers.3.bn.bias`),
//! always iterated in sorted-name order ([`Model::parameters`]). Prunable tensors are the weights
//! of convolutions and linear layers (never biases or batch-norm); [`Model::layers`] lists them
//! with their role, which pruning rates key on.
//!
//! Initialisation (stated, never tch's default): weights Glorot/Xavier normal
//! (`std = sqrt(2 / (fan_in + fan_out))`, Frankle & Carbin) or Kaiming normal (`std = sqrt(2 /
//! fan_in)`, open_lth), with `fan = channels × kernel area` for convolutions; biases 0;
//! batch-norm scale 1, shift 0 — or network slimming's initialiser ([`InitKind::NetworkSlimming`]).
//!
//! Memory layout: on the CPU, 4-D convolution weights are stored channels-last (NHWC strides),
//! so oneDNN runs the whole convolution stack in NHWC (≈ 1.3× faster per ResNet-20 step than
//! NCHW on the 2-core bench machine). Values, shapes, names and indexing are unchanged; saved
//! tensors are written in the standard layout ([`crate::util::write_tensors`]).

mod actor_critic;
mod conv;
mod lenet;
mod lstm;
pub mod preresnet;
mod resnet;

pub use lstm::{Dropout, LstmState};
mod vgg;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tch::nn;
use tch::{Device, Tensor};

/// The architectures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "arch")]
pub enum Arch {
    /// Fully connected LeNet with the given hidden widths (LeNet-300-100 is `[300, 100]`).
    Lenet { hidden: Vec<i64> },
    /// Conv-2/4/6 of Frankle & Carbin: `depth / 2` blocks of two 3×3 same-padded convolutions
    /// (64, 128, 256 channels) each followed by 2×2 max-pool, then FC 256-256-classes.
    Conv { depth: usize },
    /// CIFAR ResNet-20 (He et al. 2016) with base width `width` (16 in the paper).
    Resnet20 { width: i64 },
    /// CIFAR ResNet-56: the same with nine blocks per stage (Renda et al.).
    Resnet56 { width: i64 },
    /// ResNet-18 for 32×32 inputs: four stages of two basic blocks from base width `width` (64
    /// in the paper; Tanaka et al.'s `tinyimagenet` ResNet-18).
    Resnet18 { width: i64 },
    /// VGG-11/16/19 with batch norm, global average pooling and one linear layer; `width` is
    /// the first group's channels (64 in the paper; the others scale with it).
    Vgg {
        depth: usize,
        #[serde(default = "vgg_width", skip_serializing_if = "is_vgg_width")]
        width: i64,
    },
    /// VGG-11/16/19 with its own channel count per convolution, in forward order: a
    /// channel-pruned VGG ([`crate::channels::prune`] builds it from a trained one).
    VggChannels { depth: usize, channels: Vec<i64> },
    /// Network slimming's CIFAR PreResNet of bottleneck blocks, depth 9n + 2 (You et al.:
    /// PreResNet-101), base width `width` (16 in the paper): [`preresnet`].
    Preresnet { depth: usize, width: i64 },
    /// A channel-pruned PreResNet ([`crate::channels::prune`]): per block the input channels
    /// its first batch norm passes on and its two inner widths, and the channels the final
    /// batch norm passes to the linear layer (indices, ascending).
    PreresnetChannels { depth: usize, width: i64, blocks: Vec<preresnet::PrunedBlock>, output: Vec<i64> },
    /// An actor–critic MLP for a game with `classes` actions (Yu et al. 2020): ReLU trunk of
    /// the given widths, a policy head and a value head; biases prunable
    /// ([`LayerRole::Bias`]).
    ActorCritic { hidden: Vec<i64> },
    /// A word-level LSTM language model over a vocabulary of `classes` words (Yu et al. 2020):
    /// embedding of width `embedding`, `layers` LSTM layers of `hidden` units, a linear decoder;
    /// every parameter prunable ([`LayerRole::Embedding`], [`LayerRole::Recurrent`]).
    Lstm { embedding: i64, hidden: i64, layers: i64 },
}

/// VGG's width in the paper (configs that leave it out mean it, and hash as before it existed).
pub const VGG_WIDTH: i64 = 64;

fn vgg_width() -> i64 {
    VGG_WIDTH
}

fn is_vgg_width(w: &i64) -> bool {
    *w == VGG_WIDTH
}

impl Arch {
    /// Parses `lenet-300-100`, `conv-2|4|6`, `resnet-20` (or `resnet-20-wN`), `resnet-56`,
    /// `resnet-18`, `vgg-11|16|19`, `preresnet-101` (any depth 9n + 2).
    pub fn parse(s: &str) -> Result<Self> {
        let arch = if let Some(rest) = s.strip_prefix("lenet-") {
            let hidden: Result<Vec<i64>, _> = rest.split('-').map(str::parse).collect();
            hidden.ok().filter(|h| !h.is_empty() && h.iter().all(|&w| w > 0)).map(|hidden| Arch::Lenet { hidden })
        } else if let Some(d) = s.strip_prefix("conv-") {
            d.parse().ok().filter(|d| [2, 4, 6].contains(d)).map(|depth| Arch::Conv { depth })
        } else if s == "resnet-20" {
            Some(Arch::Resnet20 { width: 16 })
        } else if let Some(w) = s.strip_prefix("resnet-20-w") {
            w.parse().ok().filter(|&w| w > 0).map(|width| Arch::Resnet20 { width })
        } else if s == "resnet-56" {
            Some(Arch::Resnet56 { width: 16 })
        } else if s == "resnet-18" {
            Some(Arch::Resnet18 { width: 64 })
        } else if let Some(d) = s.strip_prefix("preresnet-") {
            d.parse().ok().filter(|&d| preresnet::blocks_per_stage(d).is_some()).map(|depth| Arch::Preresnet { depth, width: 16 })
        } else if let Some(d) = s.strip_prefix("vgg-") {
            d.parse().ok().filter(|d| [11, 16, 19].contains(d)).map(|depth| Arch::Vgg { depth, width: VGG_WIDTH })
        } else {
            None
        };
        arch.ok_or_else(|| {
            anyhow::format_err!("unknown model `{s}`; choose lenet-300-100 (or lenet-W1-W2…), conv-2, conv-4, conv-6, resnet-20, resnet-20-wN, resnet-56, resnet-18, vgg-11, vgg-16, vgg-19 or preresnet-N (N = 9n + 2: preresnet-101)")
        })
    }

    /// A VGG's depth and channel plan (each convolution's output channels in forward order, 0
    /// for a max-pool); `None` for other networks.
    pub fn vgg_plan(&self) -> Option<(usize, Vec<i64>)> {
        match self {
            Arch::Vgg { depth, width } => Some((*depth, vgg::widths(*depth, *width))),
            Arch::VggChannels { depth, channels } => Some((*depth, vgg::with_channels(*depth, channels))),
            _ => None,
        }
    }

    /// Checks sizes that a hand-written config could get wrong.
    pub fn validate(&self) -> Result<()> {
        let ok = match self {
            Arch::Lenet { hidden } | Arch::ActorCritic { hidden } => !hidden.is_empty() && hidden.len() <= 16 && hidden.iter().all(|&w| w > 0 && w <= 65_536),
            Arch::Conv { depth } => [2, 4, 6].contains(depth),
            Arch::Resnet20 { width } | Arch::Resnet56 { width } | Arch::Resnet18 { width } => *width > 0 && *width <= 1_024,
            Arch::Vgg { depth, width } => [11, 16, 19].contains(depth) && *width > 0 && *width <= 1_024,
            Arch::Lstm { embedding, hidden, layers } => (1..=65_536).contains(embedding) && (1..=65_536).contains(hidden) && (1..=16).contains(layers),
            Arch::VggChannels { depth, channels } => {
                [11, 16, 19].contains(depth) && channels.len() == vgg::convolutions(*depth) && channels.iter().all(|&c| c > 0 && c <= 8_192)
            }
            Arch::Preresnet { depth, width } => preresnet::blocks_per_stage(*depth).is_some() && *width > 0 && *width <= 1_024,
            Arch::PreresnetChannels { depth, width, blocks, output } => preresnet::valid_pruning(*depth, *width, blocks, output),
        };
        if !ok {
            bail!("invalid model {self:?}: LeNet and actor-critic widths must be positive (at most 16 layers of 65,536), Conv depth 2/4/6, VGG depth 11/16/19, ResNet and VGG width 1 to 1,024, a channel-pruned VGG one count of 1 to 8,192 per convolution, PreResNet depth 9n + 2, a channel-pruned PreResNet one non-empty ascending selection within the stream and two widths of 1 to 8,192 per block");
        }
        Ok(())
    }
}

/// Weight initialiser for convolutions and linear layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitKind {
    GlorotNormal,
    KaimingNormal,
    /// Network slimming's (Liu et al. 2017, and You et al.'s `models/vgg.py`): convolutions
    /// `N(0, sqrt(2 / (k² · out_channels)))`, linear layers `N(0, 0.01)`, batch-norm scale 0.5.
    NetworkSlimming,
    /// PyTorch's default for `nn.Linear` (FLARE's networks, Yu et al.): weights *and biases*
    /// `U(−1/√fan_in, 1/√fan_in)` (Kaiming uniform with a = √5). Linear layers only.
    TorchDefault,
}

/// What a model needs to be built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(flatten)]
    pub arch: Arch,
    pub init: InitKind,
}

/// The role of a prunable layer, which per-layer pruning rates key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerRole {
    Conv,
    Fc,
    /// The final linear layer (pruned at half rate in Frankle & Carbin).
    Output,
    /// 1×1 projection shortcut of a ResNet.
    Shortcut,
    /// A bias, in networks whose biases are prunable (Yu et al.'s actor–critic and language
    /// model); other networks list weights only.
    Bias,
    /// A word embedding (a language model's input layer).
    Embedding,
    /// An LSTM layer's input-to-hidden or hidden-to-hidden weights.
    Recurrent,
}

/// A prunable weight tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Parameter name, e.g. `fc1.weight`.
    pub name: String,
    pub role: LayerRole,
    pub numel: i64,
}

/// Shared builders with the stated initialisers.
pub(crate) struct Init(pub InitKind);

impl Init {
    /// The standard deviation of a layer's weights; `conv`: whether it is a convolution.
    fn std(&self, fan_in: i64, fan_out: i64, conv: bool) -> f64 {
        match self.0 {
            InitKind::GlorotNormal => (2.0 / (fan_in + fan_out) as f64).sqrt(),
            InitKind::KaimingNormal => (2.0 / fan_in as f64).sqrt(),
            InitKind::NetworkSlimming if conv => (2.0 / fan_out as f64).sqrt(),
            InitKind::NetworkSlimming => 0.01,
            InitKind::TorchDefault => (1.0 / (3.0 * fan_in as f64)).sqrt(), // U(±1/√fan_in) has std 1/√(3·fan_in)
        }
    }

    /// Linear layer `in → out`: weight `[out, in]`, bias `[out]` (zeros; PyTorch's default
    /// draws both uniformly).
    pub fn linear(&self, p: nn::Path, i: i64, o: i64) -> nn::Linear {
        let cfg = if self.0 == InitKind::TorchDefault {
            let bound = 1.0 / (i as f64).sqrt();
            nn::LinearConfig { ws_init: nn::Init::Uniform { lo: -bound, up: bound }, bs_init: Some(nn::Init::Uniform { lo: -bound, up: bound }), bias: true }
        } else {
            nn::LinearConfig { ws_init: nn::Init::Randn { mean: 0.0, stdev: self.std(i, o, false) }, bs_init: Some(nn::Init::Const(0.0)), bias: true }
        };
        nn::linear(p, i, o, cfg)
    }

    /// k×k convolution `cin → cout`, stride `stride`, same padding `k / 2`; bias only when
    /// no batch norm follows.
    pub fn conv(&self, p: nn::Path, cin: i64, cout: i64, k: i64, stride: i64, bias: bool) -> nn::Conv2D {
        let cfg = nn::ConvConfig {
            stride,
            padding: k / 2,
            bias,
            ws_init: nn::Init::Randn { mean: 0.0, stdev: self.std(cin * k * k, cout * k * k, true) },
            bs_init: nn::Init::Const(0.0),
            ..Default::default()
        };
        nn::conv2d(p, cin, cout, k, cfg)
    }

    /// Batch norm over `c` channels: scale 1 (network slimming: 0.5), shift 0, PyTorch's
    /// momentum 0.1 and eps 1e-5.
    pub fn bn(&self, p: nn::Path, c: i64) -> nn::BatchNorm {
        let scale = if self.0 == InitKind::NetworkSlimming { 0.5 } else { 1.0 };
        let cfg = nn::BatchNormConfig { ws_init: nn::Init::Const(scale), bs_init: nn::Init::Const(0.0), ..Default::default() };
        nn::batch_norm2d(p, c, cfg)
    }
}

/// Re-lays every 4-D variable out with NHWC strides (same values, same logical shape).
fn store_convolutions_channels_last(vs: &nn::VarStore) {
    tch::no_grad(|| {
        for (_, mut v) in vs.variables() {
            if v.dim() == 4 {
                let nhwc = v.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]);
                v.set_data(&nhwc);
            }
        }
    });
}

// One per model, built once: the size difference between architectures costs nothing.
#[allow(clippy::large_enum_variant)]
enum Net {
    Lenet(lenet::Lenet),
    Conv(conv::ConvNet),
    Resnet(resnet::Resnet),
    Vgg(vgg::Vgg),
    Preresnet(preresnet::Preresnet),
    ActorCritic(actor_critic::ActorCritic),
    Lstm(lstm::Lstm),
}

/// A built network: its variables and forward pass.
pub struct Model {
    pub vs: nn::VarStore,
    pub config: ModelConfig,
    /// Input shape `(C, H, W)` and class count it was built for.
    pub shape: [i64; 3],
    pub classes: i64,
    net: Net,
    layers: Vec<LayerInfo>,
}

impl Model {
    /// Builds `config` for inputs `shape = (C, H, W)` and `classes` outputs, drawing the initial
    /// weights from libtorch's generator seeded with `seed` (on CPU, so CPU and GPU runs start
    /// from the same weights), then moves it to `device` (convolution weights channels-last on
    /// the CPU, see the module docs).
    pub fn new(config: &ModelConfig, shape: [i64; 3], classes: i64, seed: u64, device: Device) -> Result<Model> {
        config.arch.validate()?;
        if let Arch::Conv { depth } = config.arch {
            let pools = depth as u32 / 2;
            if shape[1] >> pools == 0 || shape[2] >> pools == 0 {
                bail!("conv-{depth} needs images of at least {0}x{0} pixels (got {1}x{2})", 1 << pools, shape[1], shape[2]);
            }
        }
        let mut vs = nn::VarStore::new(Device::Cpu);
        let init = Init(config.init);
        let net = crate::rng::with_torch_seed(seed, || {
            let root = vs.root();
            match &config.arch {
                Arch::Lenet { hidden } => Net::Lenet(lenet::Lenet::new(&root, &init, shape, hidden, classes)),
                Arch::Conv { depth } => Net::Conv(conv::ConvNet::new(&root, &init, shape, *depth, classes)),
                Arch::Resnet20 { width } => Net::Resnet(resnet::Resnet::new(&root, &init, shape, *width, &[3, 3, 3], classes)),
                Arch::Resnet56 { width } => Net::Resnet(resnet::Resnet::new(&root, &init, shape, *width, &[9, 9, 9], classes)),
                Arch::Resnet18 { width } => Net::Resnet(resnet::Resnet::new(&root, &init, shape, *width, &[2, 2, 2, 2], classes)),
                Arch::Vgg { depth, width } => Net::Vgg(vgg::Vgg::new(&root, &init, shape, &vgg::widths(*depth, *width), classes)),
                Arch::VggChannels { depth, channels } => Net::Vgg(vgg::Vgg::new(&root, &init, shape, &vgg::with_channels(*depth, channels), classes)),
                Arch::Preresnet { depth, width } => Net::Preresnet(preresnet::Preresnet::new(&root, &init, shape, *depth, *width, None, classes)),
                Arch::PreresnetChannels { depth, width, blocks, output } => {
                    Net::Preresnet(preresnet::Preresnet::new(&root, &init, shape, *depth, *width, Some((blocks, output)), classes))
                }
                Arch::ActorCritic { hidden } => Net::ActorCritic(actor_critic::ActorCritic::new(&root, &init, shape.iter().product(), hidden, classes)),
                Arch::Lstm { embedding, hidden, layers } => Net::Lstm(lstm::Lstm::new(&root, classes, *embedding, *hidden, *layers)),
            }
        });
        vs.set_device(device);
        if device == Device::Cpu && !crate::device::generic_path() {
            store_convolutions_channels_last(&vs);
        }
        let layers = match &net {
            Net::Lenet(n) => n.layers(),
            Net::Conv(n) => n.layers(),
            Net::Resnet(n) => n.layers(),
            Net::Vgg(n) => n.layers(),
            Net::Preresnet(n) => n.layers(),
            Net::ActorCritic(n) => n.layers(),
            Net::Lstm(n) => n.layers(),
        };
        let vars = vs.variables();
        let layers = layers
            .into_iter()
            .map(|(name, role)| {
                let numel = vars[&name].numel() as i64;
                LayerInfo { name, role, numel }
            })
            .collect();
        Ok(Model { vs, config: config.clone(), shape, classes, net, layers })
    }

    /// Logits `[B, classes]` for images `[B, C, H, W]`; `train` selects batch-norm mode.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        match &self.net {
            Net::Lenet(n) => n.forward_t(xs, train),
            Net::Conv(n) => n.forward_t(xs, train),
            Net::Resnet(n) => n.forward_t(xs, train),
            Net::Vgg(n) => n.forward_t(xs, train),
            Net::Preresnet(n) => n.forward_t(xs, train),
            Net::ActorCritic(n) => n.forward_t(xs, train),
            Net::Lstm(n) => n.forward_t(xs, train),
        }
    }

    /// A language model's step over `tokens` `[B, T]` from `state` (`None`: zeros): logits
    /// `[B, T, V]` and the state after the last token; `dropout` between LSTM layers when given
    /// (training). An error for a network that is not a language model.
    pub fn language_model(&self, tokens: &Tensor, state: Option<&lstm::LstmState>, dropout: Option<&lstm::Dropout>) -> Result<(Tensor, lstm::LstmState)> {
        let Net::Lstm(n) = &self.net else { bail!("{:?} is not a language model; use model.arch = \"lstm\"", self.config.arch) };
        let zero;
        let state = match state {
            Some(s) => s,
            None => {
                zero = n.zero_state(tokens.size()[0]);
                &zero
            }
        };
        Ok(n.forward_state(tokens, state, dropout))
    }

    /// Prunable weight tensors in sorted-name order.
    pub fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    /// Every variable (trainable parameters and batch-norm buffers) by sorted name; the tensors
    /// share storage with the model.
    pub fn parameters(&self) -> BTreeMap<String, Tensor> {
        self.vs.variables().into_iter().collect()
    }

    /// Trainable parameters in sorted-name order (shared storage).
    pub fn trainable(&self) -> Vec<(String, Tensor)> {
        self.parameters().into_iter().filter(|(_, t)| t.requires_grad()).collect()
    }

    /// Deep copy of every variable, by name, on the CPU.
    pub fn snapshot(&self) -> BTreeMap<String, Tensor> {
        tch::no_grad(|| self.parameters().into_iter().map(|(k, v)| (k, v.to_device(Device::Cpu).copy())).collect())
    }

    /// Overwrites every variable from `snap` (exactly, including batch-norm buffers).
    pub fn restore(&mut self, snap: &BTreeMap<String, Tensor>) -> Result<()> {
        let params = self.parameters();
        if params.len() != snap.len() || !params.keys().all(|k| snap.contains_key(k)) {
            bail!("snapshot does not match the model's variables (different architecture?)");
        }
        tch::no_grad(|| {
            for (k, mut v) in params {
                v.copy_(&snap[&k]);
            }
        });
        Ok(())
    }

    /// The standard deviation the configured initialiser draws the prunable weight `name` with
    /// (`None` for anything else): what "noise scaled to each layer's initialisation" scales by.
    pub fn init_std(&self, name: &str) -> Option<f64> {
        self.layers.iter().find(|l| l.name == name)?;
        let size = self.vs.variables().get(name)?.size();
        let init = match (&self.config.arch, self.config.init) {
            // A PreResNet's linear layer keeps PyTorch's default under network slimming's.
            (Arch::Preresnet { .. } | Arch::PreresnetChannels { .. }, InitKind::NetworkSlimming) if name == "fc.weight" => Init(InitKind::TorchDefault),
            (_, kind) => Init(kind),
        };
        match size.as_slice() {
            [out, inp] => Some(init.std(*inp, *out, false)),
            [out, inp, kh, kw] => Some(init.std(inp * kh * kw, out * kh * kw, true)),
            _ => None,
        }
    }

    /// Total number of prunable weights.
    pub fn prunable_count(&self) -> i64 {
        self.layers.iter().map(|l| l.numel).sum()
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }
}
