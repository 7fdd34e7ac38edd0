// Joining and splitting along one dimension: cat, stack (cat of unsqueezed views), split and chunk
// (views, no copy).
//
// cat's output, seen as (outer, dim, inner), is `outer` rows, each the concatenation of one block
// per input (that input's size along dim times inner elements). Inputs that are contiguous and of
// the output dtype are copied block by block with memcpy, the work split over threads by output
// bytes so that one long row (cat along dim 0) parallelises as well as many short ones. Other
// inputs (strided, another dtype, another device) go through copy_ into their slice of the output.
#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "core/parallel.h"
#include "core/view.h"
#include "cpu/index.h"

namespace ember {
namespace {

// Bytes per thread below which splitting a copy is not worth it.
constexpr int64_t kCopyGrainBytes = 1 << 18;

// PyTorch's legacy rule: 1-d empty tensors are left out of cat whatever their shape.
bool left_out_of_cat(const Tensor& t) { return t.ndim() == 1 && t.shape[0] == 0; }

struct Block {
  const char* src = nullptr;  // nullptr: already copied through copy_
  int64_t start = 0, bytes = 0;  // where the block sits in an output row, and its length
};

// Copies the direct blocks of every output row: [begin, end) is a range of output bytes.
void copy_blocks(char* out, const std::vector<Block>& blocks, int64_t row_bytes, int64_t begin, int64_t end) {
  int64_t row = begin / row_bytes, at = begin % row_bytes;
  size_t j = 0;
  while (begin < end) {
    while (blocks[j].start + blocks[j].bytes <= at) ++j;
    const Block& b = blocks[j];
    int64_t piece = std::min(b.start + b.bytes - at, end - begin);
    if (b.src) std::memcpy(out + begin, b.src + row * b.bytes + (at - b.start), piece);
    begin += piece;
    at += piece;
    if (at == row_bytes) {
      at = 0;
      ++row;
      j = 0;
    }
  }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), ValueError, "cat: expected a non-empty list of tensors");
  DType dtype = tensors[0].dtype;
  const Device device = tensors[0].device();
  int64_t ref = -1;  // the first tensor that takes part in the shape checks
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    EMBER_CHECK(t.ndim() > 0, ValueError, "cat: the zero-dimensional tensor at position ", i,
                " cannot be concatenated; unsqueeze it first or use stack");
    EMBER_CHECK(t.device() == device, ValueError, "cat: all tensors must be on one device, tensor 0 is on ",
                device.str(), " but tensor ", i, " is on ", t.device().str());
    dtype = promote_types(dtype, t.dtype);
    if (ref < 0 && !left_out_of_cat(t)) ref = (int64_t)i;
  }
  if (ref < 0) {
    wrap_axis(dim, 1, "cat");
    return empty({0}, dtype, device);
  }
  const Tensor& first = tensors[ref];
  const int64_t d = wrap_axis(dim, first.ndim(), "cat");
  Shape shape = first.shape;
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (left_out_of_cat(t)) continue;
    EMBER_CHECK(t.ndim() == first.ndim(), ValueError, "cat: tensors must have the same number of dimensions, ",
                "tensor ", ref, " has shape ", shape_str(first.shape), " but tensor ", i, " has shape ",
                shape_str(t.shape));
    for (int64_t k = 0; k < t.ndim(); ++k)
      EMBER_CHECK(k == d || t.shape[k] == first.shape[k], ValueError, "cat: sizes of tensors must match ",
                  "except in dimension ", d, ", tensor ", ref, " has shape ", shape_str(first.shape),
                  " but tensor ", i, " has shape ", shape_str(t.shape));
    shape[d] += t.shape[d];
  }

  Tensor out = empty(shape, dtype, device);
  if (out.numel() == 0) return out;
  int64_t inner = 1;
  for (int64_t k = d + 1; k < out.ndim(); ++k) inner *= shape[k];
  const int64_t isz = itemsize(dtype);
  std::vector<Block> blocks;
  bool any_direct = false;
  int64_t pos = 0;
  for (const Tensor& t : tensors) {
    if (left_out_of_cat(t)) continue;
    const int64_t n = t.shape[d];
    bool direct = device.is_cpu() && t.dtype == dtype && t.is_contiguous();
    if (!direct) copy_(slice(out, d, pos, pos + n, 1), t);
    blocks.push_back({direct ? static_cast<const char*>(t.raw_data()) : nullptr, pos * inner * isz, n * inner * isz});
    any_direct = any_direct || direct;
    pos += n;
  }
  if (any_direct) {
    const int64_t row_bytes = shape[d] * inner * isz, total = out.numel() * isz;
    char* dst = static_cast<char*>(out.raw_data());
    parallel_for(0, total, kCopyGrainBytes, [&](int64_t b, int64_t e) { copy_blocks(dst, blocks, row_bytes, b, e); });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), ValueError, "stack: expected a non-empty list of tensors");
  const Shape& shape = tensors[0].shape;
  for (size_t i = 1; i < tensors.size(); ++i)
    EMBER_CHECK(tensors[i].shape == shape, ValueError, "stack: expected each tensor to be equal size, but got ",
                shape_str(shape), " at entry 0 and ", shape_str(tensors[i].shape), " at entry ", i);
  const int64_t d = wrap_axis(dim, tensors[0].ndim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, d));
  return cat(parts, d);
}

std::vector<Tensor> split_with_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  EMBER_CHECK(x.ndim() > 0, ValueError, "split: expected a tensor with at least one dimension, got a 0-d tensor");
  const int64_t d = wrap_axis(dim, x.ndim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    EMBER_CHECK(s >= 0, ValueError, "split: split sizes must be non-negative, got ", shape_str(sizes));
    total += s;
  }
  EMBER_CHECK(total == x.shape[d], ValueError, "split: split sizes ", shape_str(sizes), " sum to ", total,
              " but dimension ", d, " of the tensor of shape ", shape_str(x.shape), " has size ", x.shape[d]);
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, d, start, start + s, 1));
    start += s;
  }
  return parts;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  EMBER_CHECK(x.ndim() > 0, ValueError, "split: expected a tensor with at least one dimension, got a 0-d tensor");
  const int64_t d = wrap_axis(dim, x.ndim(), "split"), n = x.shape[d];
  EMBER_CHECK(split_size >= 0, ValueError, "split: split_size must be non-negative, got ", split_size);
  EMBER_CHECK(split_size > 0 || n == 0, ValueError, "split: split_size can only be 0 if dimension ", d,
              " has size 0, but it has size ", n);
  const int64_t pieces = split_size > 0 ? std::max<int64_t>(1, n / split_size + (n % split_size != 0)) : 1;
  std::vector<int64_t> sizes(pieces, split_size);
  sizes.back() = n - split_size * (pieces - 1);
  return split_with_sizes(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  EMBER_CHECK(x.ndim() > 0, ValueError, "chunk: expected a tensor with at least one dimension, got a 0-d tensor");
  EMBER_CHECK(chunks > 0, ValueError, "chunk: the number of chunks must be positive, got ", chunks);
  const int64_t d = wrap_axis(dim, x.ndim(), "chunk"), n = x.shape[d];
  // An empty dim still gives `chunks` (empty) pieces, as in PyTorch.
  if (n == 0) return split_with_sizes(x, std::vector<int64_t>(chunks, 0), d);
  return split(x, n / chunks + (n % chunks != 0), d);
}

}  // namespace ember
