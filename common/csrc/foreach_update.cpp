// The optimizer update of common::train::optim as multi-tensor ("foreach") operations: each
// step of the formula is one ATen `_foreach_*` call over every parameter, so a GPU launches a
// few kernels per update operation instead of a few per parameter tensor. The arithmetic is
// the tensor-op update's (`Slot::update_with_tensor_ops`), operation for operation, so the
// rounding is the same. tch does not expose these operations; the tensors arrive as tch's
// handles (`torch::Tensor*`).
#include <ATen/ATen.h>

#include <cstring>
#include <vector>

namespace {

using Tensors = std::vector<at::Tensor>;

Tensors gather(at::Tensor** handles, size_t n) {
  Tensors out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(*handles[i]);
  }
  return out;
}

// `g + p * weight_decay` (weight decay added to the gradient, PyTorch's coupled form).
Tensors with_weight_decay(const Tensors& g, const Tensors& p, double weight_decay) {
  if (weight_decay == 0.0) {
    return g;
  }
  return at::_foreach_add(g, at::_foreach_mul(p, weight_decay));
}

}  // namespace

extern "C" {

// Rule 0 SGD: s = [neg_lr, momentum, nesterov (0/1), weight_decay].
// Rule 1 Adam: s = [one_minus_beta1, beta2, one_minus_beta2, bias2_sqrt, eps, neg_step, weight_decay].
// Rule 2 RMSprop: s = [alpha, one_minus_alpha, eps, neg_lr, weight_decay].
// `masks[i]` is null for an unmasked parameter (its gradient and weights are used as they
// are); `second` is read for Adam only. Returns 0, or 1 with libtorch's message in `err`.
int lt_foreach_update(int rule, const double* s, at::Tensor** params, at::Tensor** grads, at::Tensor** first, at::Tensor** second,
                      at::Tensor** masks, size_t n, char* err, size_t err_len) {
  try {
    Tensors p = gather(params, n), buf = gather(first, n);
    // The masked gradient `grad * m` (a new tensor: `.grad` is left as autograd wrote it).
    Tensors g, masked_p, mask;
    for (size_t i = 0; i < n; ++i) {
      g.push_back(masks[i] ? *grads[i] * *masks[i] : *grads[i]);
      if (masks[i]) {
        masked_p.push_back(*params[i]);
        mask.push_back(*masks[i]);
      }
    }
    switch (rule) {
      case 0: {
        g = with_weight_decay(g, p, s[3]);
        Tensors d = g;
        if (s[1] != 0.0) {
          at::_foreach_mul_(buf, s[1]);
          at::_foreach_add_(buf, g);
          d = s[2] != 0.0 ? at::_foreach_add(g, at::_foreach_mul(buf, s[1])) : buf;
        }
        at::_foreach_add_(p, at::_foreach_mul(d, s[0]));
        break;
      }
      case 1: {
        g = with_weight_decay(g, p, s[6]);
        Tensors v = gather(second, n);
        at::_foreach_lerp_(buf, g, s[0]);
        at::_foreach_mul_(v, s[1]);
        at::_foreach_addcmul_(v, at::_foreach_mul(g, s[2]), g);
        Tensors denom = at::_foreach_div(at::_foreach_sqrt(v), s[3]);
        at::_foreach_add_(denom, s[4]);
        at::_foreach_addcdiv_(p, at::_foreach_mul(buf, s[5]), denom);
        break;
      }
      case 2: {
        g = with_weight_decay(g, p, s[4]);
        at::_foreach_mul_(buf, s[0]);
        at::_foreach_addcmul_(buf, at::_foreach_mul(g, s[1]), g);
        Tensors denom = at::_foreach_sqrt(buf);
        at::_foreach_add_(denom, s[2]);
        at::_foreach_addcdiv_(p, at::_foreach_mul(g, s[3]), denom);
        break;
      }
      default:
        throw std::invalid_argument("unknown update rule");
    }
    if (!masked_p.empty()) {
      at::_foreach_mul_(masked_p, mask);
    }
    return 0;
  } catch (const std::exception& e) {
    if (err_len > 0) {
      std::strncpy(err, e.what(), err_len - 1);
      err[err_len - 1] = '\0';
    }
    return 1;
  }
}

}  // extern "C"
