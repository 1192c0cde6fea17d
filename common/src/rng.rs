//! Seeded randomness. Every random draw in the workspace derives from the run seed through
//! [`derive_seed`], keyed by a purpose label and integer coordinates (replicate, level, epoch…),
//! so a stream never depends on what ran before it: resuming, reordering or parallelising jobs
//! cannot change a number.
//!
//! Two generators exist: ChaCha8 streams (data order, augmentation, random masks) and libtorch's
//! global generator, which only draws initial weights (see [`with_torch_seed`]).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// Derives a 64-bit seed from the run seed, a purpose label and coordinates (stable across
/// platforms and releases: SHA-256 of the little-endian encoding).
pub fn derive_seed(seed: u64, purpose: &str, coords: &[u64]) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update((purpose.len() as u64).to_le_bytes());
    h.update(purpose.as_bytes());
    for c in coords {
        h.update(c.to_le_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A ChaCha8 stream for `purpose` at `coords`.
pub fn stream(seed: u64, purpose: &str, coords: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, purpose, coords))
}

/// A uniform draw in `[0, 1)` with 53 random bits.
pub fn uniform(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Uniform integer in `0..n` without modulo bias (rejection sampling; stable algorithm, unlike
/// `rand`'s `gen_range`, whose algorithm may change between releases).
pub fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    assert!(n > 0, "below(0)");
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

/// Fisher–Yates shuffle driven by [`below`].
pub fn shuffle<T>(rng: &mut impl RngCore, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// A uniformly random permutation of `0..n`.
pub fn permutation(rng: &mut impl RngCore, n: usize) -> Vec<i64> {
    let mut p: Vec<i64> = (0..n as i64).collect();
    shuffle(rng, &mut p);
    p
}

static TORCH_RNG: Mutex<()> = Mutex::new(());

/// Runs `f` with libtorch's global generator seeded to `seed`, holding a process-wide lock so
/// that jobs running in parallel threads cannot interleave their draws. Every draw from
/// libtorch's generator in the process must go through here (tests included).
pub fn with_torch_seed<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let _guard = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed as i64 & i64::MAX);
    f()
}
