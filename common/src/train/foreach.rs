//! The optimizer's update as multi-tensor operations over every parameter at once
//! (`csrc/foreach_update.cpp`): the device-generic path, what a GPU runs. Each operation of the
//! formula is one ATen `_foreach_*` call over all the parameters it applies to (on CUDA a
//! kernel or a few per operation, instead of a few per parameter tensor); the arithmetic is
//! the per-tensor update's, operation for operation.

use super::fused::Operands;
use anyhow::{bail, Result};
use std::ffi::{c_char, c_int, c_void, CStr};
use tch::Tensor;

extern "C" {
    fn lt_foreach_update(
        rule: c_int,
        scalars: *const f64,
        params: *const *mut c_void,
        grads: *const *mut c_void,
        first: *const *mut c_void,
        second: *const *mut c_void,
        masks: *const *mut c_void,
        n: usize,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
}

/// The shim's rule numbers.
pub(super) const SGD: c_int = 0;
pub(super) const ADAM: c_int = 1;
pub(super) const RMSPROP: c_int = 2;

/// Applies `rule` ([`SGD`], [`ADAM`] or [`RMSPROP`], with the shim's `scalars`) to every parameter of
/// `batch` in place.
pub(super) fn update(rule: c_int, scalars: &[f64], batch: &[Operands]) -> Result<()> {
    let handle = |t: &Tensor| t.as_ptr() as *mut c_void;
    let optional = |t: Option<&Tensor>| t.map_or(std::ptr::null_mut(), handle);
    let params: Vec<_> = batch.iter().map(|o| handle(o.param)).collect();
    let grads: Vec<_> = batch.iter().map(|o| handle(o.grad)).collect();
    let first: Vec<_> = batch.iter().map(|o| handle(o.first)).collect();
    let second: Vec<_> = batch.iter().map(|o| optional(o.second)).collect();
    let masks: Vec<_> = batch.iter().map(|o| optional(o.mask)).collect();
    if rule == ADAM && second.iter().any(|p| p.is_null()) {
        bail!("Adam's update needs every parameter's second moments");
    }
    let mut err = [0 as c_char; 512];
    // SAFETY: every pointer is a live tch tensor handle (a `torch::Tensor*`) borrowed from
    // `batch` for the duration of the call, or null where the shim accepts null (masks, and
    // second moments outside Adam, checked above); `scalars` holds what `rule` reads; `err`
    // has `err.len()` bytes, which the shim NUL-terminates.
    let failed = unsafe {
        lt_foreach_update(
            rule,
            scalars.as_ptr(),
            params.as_ptr(),
            grads.as_ptr(),
            first.as_ptr(),
            second.as_ptr(),
            masks.as_ptr(),
            batch.len(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if failed != 0 {
        // SAFETY: the shim wrote a NUL-terminated message into `err`.
        let msg = unsafe { CStr::from_ptr(err.as_ptr()) };
        bail!("the multi-tensor optimizer update failed: {}", msg.to_string_lossy());
    }
    Ok(())
}
