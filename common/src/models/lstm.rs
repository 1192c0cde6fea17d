//! The word-level LSTM language model of Yu et al.'s NLP experiments (PyTorch's
//! `word_language_model`, which their setting follows: embedding, stacked LSTM, linear decoder
//! over the vocabulary; the softmax is the loss's). Untied: the paper does not tie the decoder
//! to the embedding. Parameter names are PyTorch's: `encoder.weight` `[V, E]`,
//! `rnn.weight_ih_l{k}` `[4H, in]`, `rnn.weight_hh_l{k}` `[4H, H]`, `rnn.bias_ih_l{k}`,
//! `rnn.bias_hh_l{k}` `[4H]` (gates i, f, g, o), `decoder.weight` `[V, H]`, `decoder.bias`.
//! Roles: [`LayerRole::Embedding`], [`LayerRole::Recurrent`] (the LSTM's weights),
//! [`LayerRole::Bias`] (the LSTM's biases) and [`LayerRole::Output`] (the decoder: the softmax
//! layer's weight and bias) — every parameter is prunable, as Yu et al. pool them all; leaving
//! out `Embedding` and `Output` keeps the embeddings and the softmax dense.
//!
//! Initialisation (`word_language_model`'s): embedding and decoder weight U(−0.1, 0.1), decoder
//! bias 0, LSTM weights and biases PyTorch's default U(±1/√H).

use super::LayerRole;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

pub struct Lstm {
    encoder: Tensor,
    /// Per layer: `[w_ih, w_hh, b_ih, b_hh]`, the order `torch.lstm` takes.
    rnn: Vec<Tensor>,
    decoder: nn::Linear,
    layers: i64,
    hidden: i64,
}

/// `(h, c)`, each `[layers, B, H]`.
pub type LstmState = (Tensor, Tensor);

/// Dropout between LSTM layers while training: probability `p`, the masks drawn from the ChaCha
/// stream `seed` (libtorch's own LSTM dropout draws from its global generator, unseeded per
/// stage, so two runs of one config would differ).
pub struct Dropout {
    pub p: f64,
    pub seed: u64,
}

impl Dropout {
    /// A mask of `shape`: each entry 0 with probability `p`, else 1 / (1 − p).
    fn mask(&self, shape: &[i64], rng: &mut rand_chacha::ChaCha8Rng) -> Tensor {
        let n: i64 = shape.iter().product();
        let keep = (1.0 / (1.0 - self.p)) as f32;
        let values: Vec<f32> = (0..n).map(|_| if crate::rng::uniform(rng) < self.p { 0.0 } else { keep }).collect();
        Tensor::from_slice(&values).view(shape)
    }
}

impl Lstm {
    pub fn new(p: &nn::Path, vocabulary: i64, embedding: i64, hidden: i64, layers: i64) -> Self {
        let uniform = |b: f64| nn::Init::Uniform { lo: -b, up: b };
        let encoder = (p / "encoder").var("weight", &[vocabulary, embedding], uniform(0.1));
        let rnn_path = p / "rnn";
        let bound = 1.0 / (hidden as f64).sqrt();
        let mut rnn = Vec::new();
        for k in 0..layers {
            let input = if k == 0 { embedding } else { hidden };
            rnn.push(rnn_path.var(&format!("weight_ih_l{k}"), &[4 * hidden, input], uniform(bound)));
            rnn.push(rnn_path.var(&format!("weight_hh_l{k}"), &[4 * hidden, hidden], uniform(bound)));
            rnn.push(rnn_path.var(&format!("bias_ih_l{k}"), &[4 * hidden], uniform(bound)));
            rnn.push(rnn_path.var(&format!("bias_hh_l{k}"), &[4 * hidden], uniform(bound)));
        }
        let decoder =
            nn::linear(p / "decoder", hidden, vocabulary, nn::LinearConfig { ws_init: uniform(0.1), bs_init: Some(nn::Init::Const(0.0)), bias: true });
        Lstm { encoder, rnn, decoder, layers, hidden }
    }

    pub fn layers(&self) -> Vec<(String, LayerRole)> {
        let mut out = vec![("encoder.weight".to_string(), LayerRole::Embedding)];
        for k in 0..self.layers {
            out.push((format!("rnn.weight_ih_l{k}"), LayerRole::Recurrent));
            out.push((format!("rnn.weight_hh_l{k}"), LayerRole::Recurrent));
            out.push((format!("rnn.bias_ih_l{k}"), LayerRole::Bias));
            out.push((format!("rnn.bias_hh_l{k}"), LayerRole::Bias));
        }
        out.push(("decoder.weight".to_string(), LayerRole::Output));
        out.push(("decoder.bias".to_string(), LayerRole::Output));
        out
    }

    /// The zero state for a batch of `batch` streams.
    pub fn zero_state(&self, batch: i64) -> LstmState {
        let z = Tensor::zeros([self.layers, batch, self.hidden], (Kind::Float, self.encoder.device()));
        (z.shallow_clone(), z)
    }

    /// # Shapes
    /// tokens `[B, T]` (i64), state `[layers, B, H]` ×2 → logits `[B, T, V]` and the state after
    /// the last step, with `dropout` between the LSTM layers when given (training).
    pub fn forward_state(&self, tokens: &Tensor, state: &LstmState, dropout: Option<&Dropout>) -> (Tensor, LstmState) {
        let embedded = Tensor::embedding(&self.encoder, tokens, -1, false, false);
        let weights: Vec<&Tensor> = self.rnn.iter().collect();
        let Some(d) = dropout.filter(|d| d.p > 0.0 && self.layers > 1) else {
            let (out, h, c) = Tensor::lstm(&embedded, &[&state.0, &state.1], &weights, true, self.layers, 0.0, false, false, true);
            return (self.decoder.forward(&out), (h, c));
        };
        // Layer by layer, so the masks between them are ours (seeded), not libtorch's.
        let mut rng = crate::rng::stream(d.seed, "lstm-dropout", &[]);
        let (mut input, mut hs, mut cs) = (embedded, Vec::new(), Vec::new());
        for k in 0..self.layers {
            let start = [state.0.narrow(0, k, 1), state.1.narrow(0, k, 1)];
            let w = &weights[4 * k as usize..4 * (k as usize + 1)];
            let (out, h, c) = Tensor::lstm(&input, &[&start[0], &start[1]], w, true, 1, 0.0, false, false, true);
            hs.push(h);
            cs.push(c);
            input = if k + 1 < self.layers { &out * d.mask(&out.size(), &mut rng).to_device(out.device()) } else { out };
        }
        (self.decoder.forward(&input), (Tensor::cat(&hs, 0), Tensor::cat(&cs, 0)))
    }

    /// # Shapes
    /// `[B, T]` → `[B·T, V]`, from the zero state, without dropout.
    pub fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let tokens = if xs.dim() == 1 { xs.unsqueeze(0) } else { xs.shallow_clone() };
        let state = self.zero_state(tokens.size()[0]);
        let v = self.decoder.ws.size()[0];
        self.forward_state(&tokens.to_kind(Kind::Int64), &state, None).0.view([-1, v])
    }
}
