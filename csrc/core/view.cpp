#include "core/view.h"

#include <algorithm>

#include "core/errors.h"

namespace ember {

static Tensor make_view(const Tensor& t, Shape shape, Shape strides, int64_t offset) {
  Tensor v;
  v.storage = t.storage;
  v.shape = std::move(shape);
  v.strides = std::move(strides);
  v.offset = offset;
  v.dtype = t.dtype;
  return v;
}

static Shape infer_shape(const Tensor& t, const Shape& shape, const char* op) {
  Shape out = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK(infer < 0, ValueError, op, ": only one dimension can be -1, got ", shape_str(shape));
      infer = (int64_t)i;
    } else {
      EMBER_CHECK(out[i] >= 0, ValueError, op, ": invalid dimension ", out[i], " in ", shape_str(shape));
      if (__builtin_mul_overflow(known, out[i], &known)) known = -1;  // no tensor has that many elements
    }
  }
  int64_t n = t.numel();
  EMBER_CHECK(known >= 0, ValueError, op, ": cannot reshape a tensor of shape ",
              shape_str(t.shape), " (", n, " elements) into ", shape_str(shape),
              ", which has more than 2**63 - 1 elements");
  if (infer >= 0) {
    EMBER_CHECK(known != 0 || n != 0, ValueError, op, ": cannot reshape a tensor of shape ", shape_str(t.shape),
                " (0 elements) into ", shape_str(shape), ": the -1 dimension could be any size");
    EMBER_CHECK(known > 0 && n % known == 0, ValueError, op, ": cannot reshape a tensor of shape ",
                shape_str(t.shape), " (", n, " elements) into ", shape_str(shape));
    out[infer] = n / known;
  }
  EMBER_CHECK(shape_numel(out) == n, ValueError, op, ": cannot reshape a tensor of shape ",
              shape_str(t.shape), " (", n, " elements) into ", shape_str(shape), " (",
              shape_numel(out), " elements)");
  return out;
}

// Strides for `shape` over t's memory without copying, if they exist: each group of new dims
// must map onto a run of old dims that are contiguous with each other.
static bool view_strides(const Tensor& t, const Shape& shape, Shape& strides) {
  strides.assign(shape.size(), 0);
  if (t.numel() == 0) {
    strides = contiguous_strides(shape);
    return true;
  }
  Shape old_shape, old_strides;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (t.shape[d] != 1) { old_shape.push_back(t.shape[d]); old_strides.push_back(t.strides[d]); }
  int64_t oi = (int64_t)old_shape.size() - 1, ni = (int64_t)shape.size() - 1;
  while (ni >= 0) {
    if (shape[ni] == 1) { strides[ni] = (oi >= 0 ? old_strides[oi] * old_shape[oi] : 1); --ni; continue; }
    if (oi < 0) return false;
    // gather a chunk of old dims [oj, oi] that are mutually contiguous, and new dims [nj, ni]
    int64_t old_size = old_shape[oi], new_size = shape[ni];
    int64_t oj = oi, nj = ni;
    strides[ni] = old_strides[oi];
    while (old_size != new_size) {
      if (old_size < new_size) {
        --oj;
        if (oj < 0 || old_strides[oj] != old_strides[oj + 1] * old_shape[oj + 1]) return false;
        old_size *= old_shape[oj];
      } else {
        --nj;
        if (nj < 0) return false;
        strides[nj] = strides[nj + 1] * shape[nj + 1];
        new_size *= shape[nj];
      }
    }
    oi = oj - 1;
    ni = nj - 1;
  }
  return oi < 0;
}

Tensor view(const Tensor& t, const Shape& shape) {
  Shape out = infer_shape(t, shape, "view");
  Shape strides;
  EMBER_CHECK(view_strides(t, out, strides), RuntimeError, "view: a tensor of shape ",
              shape_str(t.shape), " with strides ", shape_str(t.strides), " cannot be viewed as ",
              shape_str(out), " without a copy; use reshape() (or .contiguous().view())");
  return make_view(t, out, strides, t.offset);
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  Shape out = infer_shape(t, shape, "reshape");
  Shape strides;
  if (view_strides(t, out, strides)) return make_view(t, out, strides, t.offset);
  Tensor c = clone(t);
  return make_view(c, out, contiguous_strides(out), 0);
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  if (t.ndim() == 0) {
    wrap_axis(dim0, 0, "transpose");
    wrap_axis(dim1, 0, "transpose");
    return t;
  }
  int64_t a = wrap_axis(dim0, t.ndim(), "transpose"), b = wrap_axis(dim1, t.ndim(), "transpose");
  Tensor v = t;
  std::swap(v.shape[a], v.shape[b]);
  std::swap(v.strides[a], v.strides[b]);
  return v;
}

Tensor permute(const Tensor& t, const std::vector<int64_t>& dims) {
  EMBER_CHECK((int64_t)dims.size() == t.ndim(), ValueError, "permute: expected ", t.ndim(),
              " dimensions for a tensor of shape ", shape_str(t.shape), ", got ", shape_str(dims));
  std::vector<bool> seen(dims.size(), false);
  Shape shape(dims.size()), strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_axis(dims[i], t.ndim(), "permute");
    EMBER_CHECK(!seen[d], ValueError, "permute: dimension ", d, " repeats in ", shape_str(dims));
    seen[d] = true;
    shape[i] = t.shape[d];
    strides[i] = t.strides[d];
  }
  return make_view(t, shape, strides, t.offset);
}

Tensor squeeze(const Tensor& t) {
  Shape shape, strides;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (t.shape[d] != 1) { shape.push_back(t.shape[d]); strides.push_back(t.strides[d]); }
  return make_view(t, shape, strides, t.offset);
}

Tensor squeeze(const Tensor& t, const std::vector<int64_t>& dims) {
  std::vector<bool> drop(t.ndim(), false);
  for (int64_t d : dims) {
    if (t.ndim() == 0) { wrap_axis(d, 0, "squeeze"); continue; }
    int64_t a = wrap_axis(d, t.ndim(), "squeeze");
    drop[a] = t.shape[a] == 1;  // like PyTorch: a dim that is not 1 is left alone
  }
  Shape shape, strides;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (!drop[d]) { shape.push_back(t.shape[d]); strides.push_back(t.strides[d]); }
  return make_view(t, shape, strides, t.offset);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  int64_t d = wrap_axis(dim, t.ndim() + 1, "unsqueeze");
  Shape shape = t.shape, strides = t.strides;
  int64_t stride = d < t.ndim() ? t.strides[d] * t.shape[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(t, shape, strides, t.offset);
}

Tensor expand(const Tensor& t, const Shape& shape) {
  EMBER_CHECK(shape.size() >= (size_t)t.ndim(), ValueError, "expand: the target shape ", shape_str(shape),
              " has fewer dimensions than the tensor's ", shape_str(t.shape));
  Shape target = shape;
  size_t lead = shape.size() - t.ndim();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != -1) {
      EMBER_CHECK(shape[i] >= 0, ValueError, "expand: invalid size ", shape[i], " in ", shape_str(shape));
      continue;
    }
    EMBER_CHECK(i >= lead, ValueError, "expand: -1 is not allowed for the new leading dimension ", i,
                " in ", shape_str(shape));
    target[i] = t.shape[i - lead];
  }
  for (size_t i = lead; i < shape.size(); ++i)
    EMBER_CHECK(t.shape[i - lead] == target[i] || t.shape[i - lead] == 1, ValueError,
                "expand: the size ", t.shape[i - lead], " of dimension ", i - lead, " of shape ",
                shape_str(t.shape), " must be 1 to expand to ", target[i], " (target ", shape_str(shape), ")");
  return broadcast_to(t, target, "expand");
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  if (t.ndim() == 0) {
    wrap_axis(start_dim, 0, "flatten");  // a 0-d tensor still takes only dims -1 and 0
    wrap_axis(end_dim, 0, "flatten");
    return reshape(t, {1});
  }
  int64_t s = wrap_axis(start_dim, t.ndim(), "flatten"), e = wrap_axis(end_dim, t.ndim(), "flatten");
  EMBER_CHECK(s <= e, ValueError, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape(t.shape.begin(), t.shape.begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= t.shape[d];
  shape.push_back(n);
  shape.insert(shape.end(), t.shape.begin() + e + 1, t.shape.end());
  return reshape(t, shape);
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t stop, int64_t step) {
  EMBER_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  Tensor v = t;
  int64_t n = stop > start ? (stop - start + step - 1) / step : 0;
  v.offset = t.offset + (n > 0 ? start * t.strides[dim] : 0);
  v.shape[dim] = n;
  v.strides[dim] = t.strides[dim] * step;
  return v;
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  int64_t size = t.shape[dim];
  EMBER_CHECK(index >= -size && index < size, IndexError, "index ", index,
              " is out of bounds for dimension ", dim, " with size ", size);
  if (index < 0) index += size;
  Tensor v = t;
  v.offset = t.offset + index * t.strides[dim];
  v.shape.erase(v.shape.begin() + dim);
  v.strides.erase(v.strides.begin() + dim);
  return v;
}

}  // namespace ember
