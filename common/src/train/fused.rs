//! Single-pass optimizer updates on the CPU: for each parameter, one loop over its elements
//! masks the gradient, applies weight decay, updates the moments and the weight, and re-masks
//! the weight. The tensor-op form of the same update ([`super::optim`]) makes ~8 passes and 3
//! temporaries per parameter; on LeNet-300-100 this loop is ~3× faster, ~20 % of a step.
//!
//! Every operation is a separately rounded IEEE `f32` operation (Rust never fuses a multiply
//! and an add on its own), so the AVX2 and the portable versions give identical bits, and the
//! result does not depend on how the work is split.

use super::optim::Rule;
use tch::{Device, Kind, Tensor};

/// The tensors of one parameter's update (here and in [`super::foreach`]). `second` is Adam's second
/// moment (absent for SGD); `mask` is absent for an unmasked parameter.
pub(crate) struct Operands<'a> {
    pub param: &'a Tensor,
    pub grad: &'a Tensor,
    pub first: &'a Tensor,
    pub second: Option<&'a Tensor>,
    pub mask: Option<&'a Tensor>,
}

/// Runs the update in one pass when every tensor is a CPU `f32` tensor with the parameter's
/// exact shape and strides over dense, non-overlapping storage; returns `false` (nothing
/// touched) otherwise, and the caller uses tensor ops.
pub(crate) fn try_update(c: Rule, o: &Operands) -> bool {
    let all = [Some(o.param), Some(o.grad), Some(o.first), o.second, o.mask];
    let (size, stride) = (o.param.size(), o.param.stride());
    let fits = |t: &Tensor| t.device() == Device::Cpu && t.kind() == Kind::Float && t.size() == size && t.stride() == stride;
    if !all.iter().flatten().all(|t| fits(t)) || !dense(&size, &stride) {
        return false;
    }
    let n = o.param.numel();
    // SAFETY: each tensor is a distinct CPU f32 tensor (parameter, its gradient, optimizer state,
    // mask) whose `n` elements occupy `n` consecutive floats from its data pointer (dense layout
    // checked above); nothing else reads or writes them during the update (the caller holds the
    // optimizer mutably, under no_grad, between backward passes).
    unsafe {
        let mutable = |t: &Tensor| std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n);
        let shared = |t: &Tensor| std::slice::from_raw_parts(t.data_ptr() as *const f32, n) as &[f32];
        let (p, g, m) = (mutable(o.param), shared(o.grad), mutable(o.first));
        let mask = o.mask.map(shared);
        match (c, o.second) {
            (Rule::Adam { .. }, Some(v)) => dispatch_adam(c, p, g, m, mutable(v), mask),
            (Rule::Sgd { .. }, None) => dispatch_sgd(c, p, g, m, mask),
            (Rule::Rmsprop { .. }, None) => rmsprop(c, p, g, m, mask),
            _ => return false,
        }
    }
    true
}

/// Whether `(size, stride)` covers exactly `numel` consecutive elements in some dimension order
/// (row-major, channels-last, any permutation).
fn dense(size: &[i64], stride: &[i64]) -> bool {
    let mut dims: Vec<(i64, i64)> = stride.iter().copied().zip(size.iter().copied()).filter(|&(_, n)| n != 1).collect();
    dims.sort_unstable();
    let mut expected = 1;
    for (s, n) in dims {
        if s != expected {
            return false;
        }
        expected *= n;
    }
    true
}

fn dispatch_adam(c: Rule, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], mask: Option<&[f32]>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { adam_avx2(c, p, g, m, v, mask) };
    }
    adam(c, p, g, m, v, mask)
}

fn dispatch_sgd(c: Rule, p: &mut [f32], g: &[f32], buf: &mut [f32], mask: Option<&[f32]>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { sgd_avx2(c, p, g, buf, mask) };
    }
    sgd(c, p, g, buf, mask)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_avx2(c: Rule, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], mask: Option<&[f32]>) {
    adam(c, p, g, m, v, mask)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sgd_avx2(c: Rule, p: &mut [f32], g: &[f32], buf: &mut [f32], mask: Option<&[f32]>) {
    sgd(c, p, g, buf, mask)
}

/// Adam, element-wise, in the order of `torch.optim.Adam` (single-tensor form):
/// `g ← g·mask + wd·p; m ← m + (1−β1)(g − m); v ← β2·v + ((1−β2)·g)·g;
/// p ← (p + (−lr/bc1)·m / (√v / √bc2 + eps))·mask`.
#[inline(always)]
fn adam(c: Rule, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], mask: Option<&[f32]>) {
    let moments = m.iter_mut().zip(v.iter_mut());
    match mask {
        None => p.iter_mut().zip(g).zip(moments).for_each(|((p, &g), (m, v))| adam_element(c, p, g, m, v)),
        Some(k) => p.iter_mut().zip(g).zip(moments).zip(k).for_each(|(((p, &g), (m, v)), &k)| {
            adam_element(c, p, g * k, m, v);
            *p *= k;
        }),
    }
}

/// One element of [`adam`], unmasked.
#[inline(always)]
fn adam_element(c: Rule, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
    let Rule::Adam { one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, neg_step, weight_decay } = c else { unreachable!("adam constants") };
    let g = if weight_decay != 0.0 { g + weight_decay * *p } else { g };
    *m = *m + one_minus_beta1 * (g - *m);
    *v = *v * beta2 + (one_minus_beta2 * g) * g;
    let denom = v.sqrt() / bias2_sqrt + eps;
    *p += (neg_step * *m) / denom;
}

/// SGD with momentum, element-wise, in the order of `torch.optim.SGD` (dampening 0):
/// `g ← g·mask + wd·p; b ← μ·b + g; d ← nesterov ? g + μ·b : b; p ← (p + (−lr)·d)·mask`
/// (momentum 0: `d ← g`).
#[inline(always)]
fn sgd(c: Rule, p: &mut [f32], g: &[f32], buf: &mut [f32], mask: Option<&[f32]>) {
    match mask {
        None => p.iter_mut().zip(g).zip(buf.iter_mut()).for_each(|((p, &g), b)| sgd_element(c, p, g, b)),
        Some(k) => p.iter_mut().zip(g).zip(buf.iter_mut()).zip(k).for_each(|(((p, &g), b), &k)| {
            sgd_element(c, p, g * k, b);
            *p *= k;
        }),
    }
}

/// One element of [`sgd`], unmasked.
#[inline(always)]
fn sgd_element(c: Rule, p: &mut f32, g: f32, b: &mut f32) {
    let Rule::Sgd { neg_lr, momentum, nesterov, weight_decay } = c else { unreachable!("sgd constants") };
    let g = if weight_decay != 0.0 { g + weight_decay * *p } else { g };
    let d = if momentum != 0.0 {
        *b = *b * momentum + g;
        if nesterov {
            g + momentum * *b
        } else {
            *b
        }
    } else {
        g
    };
    *p += neg_lr * d;
}

/// RMSprop, element-wise, in the order of `torch.optim.RMSprop` (not centred, no momentum):
/// `g ← g·mask + wd·p; v ← α·v + (1 − α)·g·g; p ← (p + (−lr)·g / (√v + eps))·mask`. Scalar
/// (the compiler vectorises it); no hand-written AVX2 form.
fn rmsprop(c: Rule, p: &mut [f32], g: &[f32], v: &mut [f32], mask: Option<&[f32]>) {
    let Rule::Rmsprop { alpha, one_minus_alpha, eps, neg_lr, weight_decay } = c else { unreachable!("rmsprop constants") };
    let element = |p: &mut f32, g: f32, v: &mut f32| {
        let g = if weight_decay != 0.0 { g + weight_decay * *p } else { g };
        *v = *v * alpha + (one_minus_alpha * g) * g;
        *p += (neg_lr * g) / (v.sqrt() + eps);
    };
    match mask {
        None => p.iter_mut().zip(g).zip(v.iter_mut()).for_each(|((p, &g), v)| element(p, g, v)),
        Some(k) => p.iter_mut().zip(g).zip(v.iter_mut()).zip(k).for_each(|(((p, &g), v), &k)| {
            element(p, g * k, v);
            *p *= k;
        }),
    }
}

/// The update of the survivors only: element `k` of `g` is the gradient of the parameter's
/// element `positions[k]` (row-major, the dense tensor's index), whose weight and state are
/// updated as [`adam`] or [`sgd`] updates a kept element (a mask of 1 multiplies exactly), so
/// the survivors get the masked dense update's bits; pruned elements are not touched.
/// `second` is Adam's second moment (`None` for SGD).
pub(crate) fn update_at(c: Rule, p: &mut [f32], g: &[f32], first: &mut [f32], second: Option<&mut [f32]>, positions: &[u32]) {
    assert_eq!(g.len(), positions.len(), "one gradient per position");
    assert_eq!(first.len(), p.len(), "state laid out like the parameter");
    // Gathered into contiguous copies, updated by the vectorised loop, scattered back.
    let gather = |v: &[f32]| positions.iter().map(|&j| v[j as usize]).collect::<Vec<f32>>();
    let scatter = |from: &[f32], to: &mut [f32]| positions.iter().zip(from).for_each(|(&j, &x)| to[j as usize] = x);
    let (mut pk, mut fk) = (gather(p), gather(first));
    match (c, second) {
        (Rule::Adam { .. }, Some(v)) => {
            assert_eq!(v.len(), p.len(), "moments laid out like the parameter");
            let mut vk = gather(v);
            dispatch_adam(c, &mut pk, g, &mut fk, &mut vk, None);
            scatter(&vk, v);
        }
        (Rule::Sgd { .. }, None) => dispatch_sgd(c, &mut pk, g, &mut fk, None),
        (Rule::Rmsprop { .. }, None) => rmsprop(c, &mut pk, g, &mut fk, None),
        _ => unreachable!("Adam keeps two moments, SGD and RMSprop one buffer"),
    }
    scatter(&pk, p);
    scatter(&fk, first);
}

/// The full update of an unmasked parameter from explicit slices.
pub(crate) fn update_all(c: Rule, p: &mut [f32], g: &[f32], first: &mut [f32], second: Option<&mut [f32]>) {
    match (c, second) {
        (Rule::Adam { .. }, Some(v)) => dispatch_adam(c, p, g, first, v, None),
        (Rule::Sgd { .. }, None) => dispatch_sgd(c, p, g, first, None),
        (Rule::Rmsprop { .. }, None) => rmsprop(c, p, g, first, None),
        _ => unreachable!("Adam keeps two moments, SGD and RMSprop one buffer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_layouts_are_recognised_in_any_dimension_order() {
        assert!(dense(&[64, 3, 3, 3], &[27, 9, 3, 1])); // row-major
        assert!(dense(&[64, 3, 3, 3], &[27, 1, 9, 3])); // channels-last
        assert!(dense(&[5, 1, 4], &[4, 99, 1])); // size-1 dims have any stride
        assert!(!dense(&[4, 3], &[6, 2])); // every other column
        assert!(!dense(&[4, 3], &[0, 1])); // broadcast
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_loops_give_the_portable_loops_bits() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        let n = 1_003; // not a multiple of the vector width: exercises the remainder
        let wave = |k: f32| (0..n).map(|i| ((i as f32) * 0.37 + k).sin()).collect::<Vec<f32>>();
        let mask: Vec<f32> = (0..n).map(|i| (i % 3 != 0) as u8 as f32).collect();
        let adam_c =
            Rule::Adam { one_minus_beta1: 0.1, beta2: 0.999, one_minus_beta2: 0.001, bias2_sqrt: 0.0447, eps: 1e-8, neg_step: -0.012, weight_decay: 1e-4 };
        let sgd_c = Rule::Sgd { neg_lr: -0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-4 };
        for mask in [None, Some(mask.as_slice())] {
            let (mut p1, g, mut m1, mut v1) = (wave(0.0), wave(1.0), wave(2.0), wave(3.0).iter().map(|x| x * x).collect::<Vec<_>>());
            let (mut p2, mut m2, mut v2) = (p1.clone(), m1.clone(), v1.clone());
            adam(adam_c, &mut p1, &g, &mut m1, &mut v1, mask);
            // SAFETY: AVX2 is present (checked above).
            unsafe { adam_avx2(adam_c, &mut p2, &g, &mut m2, &mut v2, mask) };
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!((bits(&p1), bits(&m1), bits(&v1)), (bits(&p2), bits(&m2), bits(&v2)));
            let (mut p1, mut b1) = (wave(4.0), wave(5.0));
            let (mut p2, mut b2) = (p1.clone(), b1.clone());
            sgd(sgd_c, &mut p1, &g, &mut b1, mask);
            // SAFETY: as above.
            unsafe { sgd_avx2(sgd_c, &mut p2, &g, &mut b2, mask) };
            assert_eq!((bits(&p1), bits(&b1)), (bits(&p2), bits(&b2)));
        }
    }
}
