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
    /// the last step. `dropout` applies between LSTM layers in training mode.
    pub fn forward_state(&self, tokens: &Tensor, state: &LstmState, dropout: f64, train: bool) -> (Tensor, LstmState) {
        let embedded = Tensor::embedding(&self.encoder, tokens, -1, false, false);
        let weights: Vec<&Tensor> = self.rnn.iter().collect();
        let (out, h, c) = Tensor::lstm(&embedded, &[&state.0, &state.1], &weights, true, self.layers, dropout, train, false, true);
        (self.decoder.forward(&out), (h, c))
    }

    /// # Shapes
    /// `[B, T]` → `[B·T, V]`, from the zero state, without dropout.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let tokens = if xs.dim() == 1 { xs.unsqueeze(0) } else { xs.shallow_clone() };
        let state = self.zero_state(tokens.size()[0]);
        let v = self.decoder.ws.size()[0];
        self.forward_state(&tokens.to_kind(Kind::Int64), &state, 0.0, train).0.view([-1, v])
    }
}
