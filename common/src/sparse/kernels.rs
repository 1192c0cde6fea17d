//! The three products of a pruned linear layer, restricted to its survivors, on the CPU, one
//! thread. Activations are feature-major with the batch contiguous: a `features × bp` matrix
//! whose row `f` holds feature `f` of every example, `bp` a multiple of [`LANES`] (the batch
//! padded with zero examples). With `W` the layer's `rows × cols` weights (row-major, pruned
//! entries zero) and a [`Pattern`] of its survivors:
//! - [`forward`]: `Yᵀ = W Xᵀ + b` — per output row, a [`LANES`]-wide accumulator over the row's
//!   survivors (one broadcast weight times one input row each), kept in registers;
//! - [`input_grad`]: `dXᵀ = Wᵀ dYᵀ` — per input column, a gather over the column's survivors,
//!   so no two writes collide;
//! - [`weight_grad`]: `dW = dYᵀ X` at the survivors only (a sampled dense–dense product), one
//!   dot product over the batch per survivor, in entry order;
//! - [`bias_grad`]: `db = dYᵀ 1`.
//!
//! # Reproducibility
//! Every sum has one fixed order, whatever the instruction set: forward and input-gradient
//! lanes are independent (each lane adds its terms in entry order); a dot product over the
//! batch keeps 8 partial sums (lane `l` takes examples `l, l + 8, …` in order) and adds them as
//! `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))`. Every multiply and add is a separately
//! rounded `f32` operation (no fused multiply–add, as Rust never contracts on its own), so the
//! AVX2 versions give the portable loops' bits (tested), on any x86-64 machine. Padded
//! examples are zero and add exact zeros.

use super::pattern::Pattern;

/// Width of one block of examples; activations are padded to a multiple of it.
pub const LANES: usize = 64;

/// Which instructions run the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust loops, any CPU.
    Portable,
    /// AVX2 (x86-64), chosen at run time where the CPU has it.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Isa {
    /// The fastest this CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
        Isa::Portable
    }

    /// Every instruction set this CPU can run (for tests: each must give the same bits).
    pub fn available() -> Vec<Isa> {
        let mut all = vec![Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            all.push(Isa::Avx2);
        }
        all
    }
}

fn check(p: &Pattern, w: &[f32], a: (usize, &[f32]), b: (usize, &[f32]), bp: usize) {
    assert!(bp.is_multiple_of(LANES), "batch {bp} is not padded to a multiple of {LANES}");
    assert_eq!(w.len(), p.rows * p.cols, "weights do not match the pattern");
    assert_eq!(a.1.len(), a.0 * bp, "activation buffer of the wrong size");
    assert_eq!(b.1.len(), b.0 * bp, "activation buffer of the wrong size");
}

/// `y = W x + b` for `x` (`cols × bp`), writing `y` (`rows × bp`), padded examples included
/// (they come out as `b`).
pub fn forward(isa: Isa, p: &Pattern, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], bp: usize) {
    check(p, w, (p.cols, x), (p.rows, y), bp);
    assert_eq!(bias.len(), p.rows, "bias does not match the pattern");
    match isa {
        Isa::Portable => forward_loop(p, w, bias, x, y, bp),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::Avx2` is only constructed after detecting AVX2 (`Isa::detect`, `available`).
        Isa::Avx2 => unsafe { forward_avx2(p, w, bias, x, y, bp) },
    }
}

/// `dx = Wᵀ dy` for `dy` (`rows × bp`), writing `dx` (`cols × bp`).
pub fn input_grad(isa: Isa, p: &Pattern, w: &[f32], dy: &[f32], dx: &mut [f32], bp: usize) {
    check(p, w, (p.rows, dy), (p.cols, dx), bp);
    match isa {
        Isa::Portable => input_grad_loop(p, w, dy, dx, bp),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `forward`.
        Isa::Avx2 => unsafe { input_grad_avx2(p, w, dy, dx, bp) },
    }
}

/// `dw[k] = Σ_b dy[row(k), b] · x[col(k), b]` for every survivor `k` (entry order), from `dy`
/// (`rows × bp`) and `x` (`cols × bp`).
pub fn weight_grad(isa: Isa, p: &Pattern, dy: &[f32], x: &[f32], dw: &mut [f32], bp: usize) {
    assert!(bp.is_multiple_of(LANES), "batch {bp} is not padded to a multiple of {LANES}");
    assert_eq!(dy.len(), p.rows * bp, "activation buffer of the wrong size");
    assert_eq!(x.len(), p.cols * bp, "activation buffer of the wrong size");
    assert_eq!(dw.len(), p.nnz(), "one gradient per survivor");
    match isa {
        Isa::Portable => weight_grad_loop(p, dy, x, dw, bp),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `forward`; the buffer sizes are checked above.
        Isa::Avx2 => unsafe { weight_grad_avx2(p, dy, x, dw, bp) },
    }
}

/// `db[i] = Σ_b dy[i, b]` in the kernels' fixed order.
pub fn bias_grad(dy: &[f32], db: &mut [f32], bp: usize) {
    assert_eq!(dy.len(), db.len() * bp, "activation buffer of the wrong size");
    for (d, row) in db.iter_mut().zip(dy.chunks_exact(bp)) {
        *d = sum8(row.chunks_exact(8).fold([0f32; 8], |mut acc, g| {
            for l in 0..8 {
                acc[l] += g[l];
            }
            acc
        }));
    }
}

/// ReLU in place on `y` (`rows × bp`) for examples `0..n`; padded examples set to zero.
pub fn relu(y: &mut [f32], n: usize, bp: usize) {
    for row in y.chunks_exact_mut(bp) {
        let (real, padding) = row.split_at_mut(n);
        real.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 });
        padding.fill(0.0);
    }
}

/// ReLU's backward pass in place: `d` is kept where the ReLU's output `h` is positive, zero
/// elsewhere (without branches: the signs are random).
pub fn relu_backward(d: &mut [f32], h: &[f32]) {
    assert_eq!(d.len(), h.len(), "a gradient per activation");
    d.iter_mut().zip(h).for_each(|(d, &h)| *d = if h > 0.0 { *d } else { 0.0 });
}

/// Writes examples `x` (`n × features`, example-major) into `out` (`features × bp`,
/// feature-major), examples `n..bp` zero: a transpose, in 8 × 8 tiles with AVX2.
pub fn feature_major(isa: Isa, x: &[f32], n: usize, features: usize, out: &mut [f32], bp: usize) {
    assert!(x.len() == n * features && out.len() == features * bp && n <= bp, "a transpose of {n} examples of {features} values into {bp} lanes");
    match isa {
        Isa::Portable => transpose_loop(x, n, features, out, bp, 0, 0),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `forward`; the sizes are checked above.
        Isa::Avx2 => unsafe { transpose_avx2(x, n, features, out, bp) },
    }
}

/// The scalar transpose of what the 8 × 8 tiles left: for features below `f_tiled`, the
/// examples from `b0`; for the others, every example; and the zero padding of every feature.
fn transpose_loop(x: &[f32], n: usize, features: usize, out: &mut [f32], bp: usize, b0: usize, f_tiled: usize) {
    for f in 0..features {
        let row = &mut out[f * bp..(f + 1) * bp];
        let from = if f < f_tiled { b0 } else { 0 };
        for (b, v) in row.iter_mut().enumerate().take(n).skip(from) {
            *v = x[b * features + f];
        }
        row[n..].fill(0.0);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_avx2(x: &[f32], n: usize, features: usize, out: &mut [f32], bp: usize) {
    use std::arch::x86_64::*;
    let (full_b, full_f) = (n / 8 * 8, features / 8 * 8);
    for b in (0..full_b).step_by(8) {
        for f in (0..full_f).step_by(8) {
            // SAFETY: rows `b..b + 8 <= n` of `x` hold `features >= f + 8` values each, and rows
            // `f..f + 8` of `out` hold `bp >= b + 8` values each (sizes checked by the caller).
            let at = |i: usize| x.as_ptr().add((b + i) * features + f);
            let r = [
                _mm256_loadu_ps(at(0)),
                _mm256_loadu_ps(at(1)),
                _mm256_loadu_ps(at(2)),
                _mm256_loadu_ps(at(3)),
                _mm256_loadu_ps(at(4)),
                _mm256_loadu_ps(at(5)),
                _mm256_loadu_ps(at(6)),
                _mm256_loadu_ps(at(7)),
            ];
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let cols = [
                _mm256_permute2f128_ps::<0x20>(s0, s4),
                _mm256_permute2f128_ps::<0x20>(s1, s5),
                _mm256_permute2f128_ps::<0x20>(s2, s6),
                _mm256_permute2f128_ps::<0x20>(s3, s7),
                _mm256_permute2f128_ps::<0x31>(s0, s4),
                _mm256_permute2f128_ps::<0x31>(s1, s5),
                _mm256_permute2f128_ps::<0x31>(s2, s6),
                _mm256_permute2f128_ps::<0x31>(s3, s7),
            ];
            for (i, c) in cols.into_iter().enumerate() {
                _mm256_storeu_ps(out.as_mut_ptr().add((f + i) * bp + b), c);
            }
        }
    }
    // The examples past the last full tile, the features past the last full tile, the padding.
    transpose_loop(x, n, features, out, bp, full_b, full_f);
}

/// The fixed sum of 8 partial sums.
#[inline(always)]
fn sum8(s: [f32; 8]) -> f32 {
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

#[inline(always)]
fn block(m: &[f32], row: usize, bp: usize, b0: usize) -> &[f32; LANES] {
    m[row * bp + b0..row * bp + b0 + LANES].try_into().expect("LANES wide")
}

#[inline(always)]
fn forward_loop(p: &Pattern, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], bp: usize) {
    for b0 in (0..bp).step_by(LANES) {
        for i in 0..p.rows {
            let w_row = &w[i * p.cols..(i + 1) * p.cols];
            let mut acc = [0f32; LANES];
            for &c in &p.col[p.row_ptr[i] as usize..p.row_ptr[i + 1] as usize] {
                let (wv, xs) = (w_row[c as usize], block(x, c as usize, bp, b0));
                for l in 0..LANES {
                    acc[l] += wv * xs[l];
                }
            }
            let out = &mut y[i * bp + b0..i * bp + b0 + LANES];
            for l in 0..LANES {
                out[l] = acc[l] + bias[i];
            }
        }
    }
}

#[inline(always)]
fn input_grad_loop(p: &Pattern, w: &[f32], dy: &[f32], dx: &mut [f32], bp: usize) {
    for b0 in (0..bp).step_by(LANES) {
        for c in 0..p.cols {
            let mut acc = [0f32; LANES];
            for &r in &p.col_row[p.col_ptr[c] as usize..p.col_ptr[c + 1] as usize] {
                let (wv, ds) = (w[r as usize * p.cols + c], block(dy, r as usize, bp, b0));
                for l in 0..LANES {
                    acc[l] += wv * ds[l];
                }
            }
            dx[c * bp + b0..c * bp + b0 + LANES].copy_from_slice(&acc);
        }
    }
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (ga, gb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] += ga[l] * gb[l];
        }
    }
    sum8(acc)
}

fn weight_grad_loop(p: &Pattern, dy: &[f32], x: &[f32], dw: &mut [f32], bp: usize) {
    for i in 0..p.rows {
        let d = &dy[i * bp..(i + 1) * bp];
        let entries = p.row_ptr[i] as usize..p.row_ptr[i + 1] as usize;
        for (g, &c) in dw[entries.clone()].iter_mut().zip(&p.col[entries]) {
            let c = c as usize;
            *g = dot(d, &x[c * bp..(c + 1) * bp]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_avx2(p: &Pattern, w: &[f32], bias: &[f32], x: &[f32], y: &mut [f32], bp: usize) {
    forward_loop(p, w, bias, x, y, bp)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn input_grad_avx2(p: &Pattern, w: &[f32], dy: &[f32], dx: &mut [f32], bp: usize) {
    input_grad_loop(p, w, dy, dx, bp)
}

/// [`weight_grad_loop`] with 8 survivors of a row at a time: 8 accumulators of 8 lanes, then
/// a transpose-reduce (`hadd`, `hadd`, halves added) that forms each survivor's
/// `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))` — the portable order, bit for bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn weight_grad_avx2(p: &Pattern, dy: &[f32], x: &[f32], dw: &mut [f32], bp: usize) {
    use std::arch::x86_64::*;
    for i in 0..p.rows {
        let d = &dy[i * bp..(i + 1) * bp];
        let (start, end) = (p.row_ptr[i] as usize, p.row_ptr[i + 1] as usize);
        let mut k = start;
        while k + 8 <= end {
            let mut rows = [x.as_ptr(); 8];
            for (j, row) in rows.iter_mut().enumerate() {
                // SAFETY: a pattern's columns are below `cols` (by construction), and `x` holds
                // `cols · bp` floats (checked by `weight_grad`).
                *row = x.as_ptr().add(p.col[k + j] as usize * bp);
            }
            let mut acc = [_mm256_setzero_ps(); 8];
            for g in (0..bp).step_by(8) {
                // SAFETY: `g + 8 <= bp` (bp is a multiple of 8); `d` and every row hold `bp`
                // floats.
                let dv = _mm256_loadu_ps(d.as_ptr().add(g));
                for j in 0..8 {
                    acc[j] = _mm256_add_ps(acc[j], _mm256_mul_ps(dv, _mm256_loadu_ps(rows[j].add(g))));
                }
            }
            // hadd(a, b) = [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7].
            let q0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
            let q1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
            // Low halves hold each survivor's (s0+s1)+(s2+s3), high halves (s4+s5)+(s6+s7).
            let sums = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20), _mm256_permute2f128_ps(q0, q1, 0x31));
            // SAFETY: `k + 8 <= end <= dw.len()`.
            _mm256_storeu_ps(dw.as_mut_ptr().add(k), sums);
            k += 8;
        }
        for (g, &c) in dw[k..end].iter_mut().zip(&p.col[k..end]) {
            let c = c as usize;
            *g = dot(d, &x[c * bp..(c + 1) * bp]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible pseudo-random stream in [-1, 1).
    fn wave(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// A `rows × cols` problem at `density` with `batch` real examples padded to `bp`.
    fn problem(rows: usize, cols: usize, density: f32, batch: usize) -> (Pattern, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, usize) {
        let bp = batch.div_ceil(LANES) * LANES;
        let keep = wave(rows * cols, 1);
        let mask: Vec<f32> = keep.iter().map(|&u| ((u + 1.0) / 2.0 < density) as u8 as f32).collect();
        let w: Vec<f32> = wave(rows * cols, 2).iter().zip(&mask).map(|(w, m)| w * m).collect();
        let pad = |m: Vec<f32>, n: usize| -> Vec<f32> {
            m.chunks_exact(bp).flat_map(|r| r.iter().enumerate().map(|(b, &v)| if b < batch { v } else { 0.0 })).take(n * bp).collect()
        };
        let x = pad(wave(cols * bp, 3), cols);
        let dy = pad(wave(rows * bp, 4), rows);
        (Pattern::from_mask(&mask, rows, cols).unwrap(), w, wave(rows, 5), x, dy, bp)
    }

    #[test]
    fn the_kernels_compute_the_dense_products_at_the_survivors() {
        let (rows, cols, batch) = (37, 53, 70);
        let (p, w, b, x, dy, bp) = problem(rows, cols, 0.3, batch);
        let isa = Isa::detect();
        let mut y = vec![0f32; rows * bp];
        forward(isa, &p, &w, &b, &x, &mut y, bp);
        let mut dx = vec![0f32; cols * bp];
        input_grad(isa, &p, &w, &dy, &mut dx, bp);
        let mut dw = vec![0f32; p.nnz()];
        weight_grad(isa, &p, &dy, &x, &mut dw, bp);
        let mut db = vec![0f32; rows];
        bias_grad(&dy, &mut db, bp);
        let close = |a: f32, e: f64, what: &str| assert!((a as f64 - e).abs() < 1e-4 * (1.0 + e.abs()), "{what}: {a} vs {e}");
        for bi in 0..batch {
            for i in 0..rows {
                let e: f64 = (0..cols).map(|c| w[i * cols + c] as f64 * x[c * bp + bi] as f64).sum::<f64>() + b[i] as f64;
                close(y[i * bp + bi], e, "forward");
            }
            for c in 0..cols {
                let e: f64 = (0..rows).map(|i| w[i * cols + c] as f64 * dy[i * bp + bi] as f64).sum();
                close(dx[c * bp + bi], e, "input gradient");
            }
        }
        for (k, &pos) in p.positions().iter().enumerate() {
            let (i, c) = (pos as usize / cols, pos as usize % cols);
            let e: f64 = (0..batch).map(|bi| dy[i * bp + bi] as f64 * x[c * bp + bi] as f64).sum();
            close(dw[k], e, "weight gradient");
        }
        for i in 0..rows {
            close(db[i], (0..batch).map(|bi| dy[i * bp + bi] as f64).sum(), "bias gradient");
        }
    }

    #[test]
    fn the_transpose_lays_examples_out_by_feature_with_zero_padding() {
        for (n, features) in [(60, 784), (13, 7), (64, 100), (8, 8)] {
            let x = wave(n * features, 7);
            let bp = n.div_ceil(LANES) * LANES;
            for isa in Isa::available() {
                let mut out = vec![f32::NAN; features * bp];
                feature_major(isa, &x, n, features, &mut out, bp);
                for f in 0..features {
                    for b in 0..bp {
                        let expected = if b < n { x[b * features + f] } else { 0.0 };
                        assert_eq!(out[f * bp + b].to_bits(), expected.to_bits(), "{isa:?}: feature {f} example {b} of {n}x{features}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        // Rows of 0 to ~40 survivors: full blocks of 8 and remainders in the weight gradient.
        for (rows, cols, density, batch) in [(300, 784, 0.05, 60), (100, 300, 0.2, 60), (10, 100, 0.9, 130)] {
            let (p, w, b, x, dy, bp) = problem(rows, cols, density, batch);
            let run = |isa: Isa| {
                let (mut y, mut dx, mut dw) = (vec![0f32; rows * bp], vec![0f32; cols * bp], vec![0f32; p.nnz()]);
                forward(isa, &p, &w, &b, &x, &mut y, bp);
                input_grad(isa, &p, &w, &dy, &mut dx, bp);
                weight_grad(isa, &p, &dy, &x, &mut dw, bp);
                (bits(&y), bits(&dx), bits(&dw))
            };
            let reference = run(Isa::Portable);
            for isa in Isa::available() {
                assert!(run(isa) == reference, "{isa:?} differs from the portable loops on {rows}x{cols}");
            }
        }
    }
}
