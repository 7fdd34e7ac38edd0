// matmul on the CPU: argument checking, the batch loop, threading, and the choice of kernel.
//
// Shape convention: A is (..., m, k), B is (..., k, n), C is (..., m, n) and freshly allocated
// (contiguous). Element (i, j) of one matrix X of the batch is X[i*rs + j*cs]; batch strides are
// 0 along broadcast dimensions. Operands are read through their strides wherever they live
// (transposed, sliced, expanded), so nothing is copied.
//
// Kernels, by shape of one product:
//   m == 1 or n == 1   vector_matrix: memory-bound, a dot or an axpy loop over the matrix;
//   otherwise          the GEMM of cpu/gemm.h for the CPU capability chosen at import (which
//                      itself skips packing for small products).
// Threads split the batch when it is large enough to keep every thread busy on whole products;
// otherwise every thread takes its block of each product. Small problems stay on one thread.
#include "cpu/matmul.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/gemm_select.h"

namespace ember {
namespace {

// FLOPs a thread must get before another thread is worth waking (~2 us of work: 2-thread products
// of 80 x 80 and 96 x 96 went from 7.4 and 11.8 us to 6.1 and 8.4 us with it, from 2^21).
constexpr double kFlopsPerThread = double(1 << 18);

// ---- the problem -------------------------------------------------------------------------------

// `batch_size` products (m x k) @ (k x n), the batch indexed row-major over batch_shape.
struct Plan {
  int64_t m = 1, n = 1, k = 0;
  int64_t rsa = 0, csa = 0, rsb = 0, csb = 0;
  Shape batch_shape, a_batch_strides, b_batch_strides;
  int64_t batch_size = 1;
  int64_t rsc = 0, csc = 1;                        // C's strides (rsc 0: contiguous, rows of n)
  bool accumulate = false;                         // C += A @ B
  const cpu::GemmEpilogue* epilogue = nullptr;     // applied to C as it is final
};

// One product of the batch: where its A, B and C start.
template <class T>
struct Product {
  const T* a;
  const T* b;
  T* c;
};

template <class T>
Product<T> product_at(const Plan& plan, int64_t index, const T* a, const T* b, T* c) {
  Product<T> p{a, b, c + index * plan.m * plan.n};
  for (int64_t d = (int64_t)plan.batch_shape.size() - 1; d >= 0; --d) {
    const int64_t i = index % plan.batch_shape[d];
    index /= plan.batch_shape[d];
    p.a += i * plan.a_batch_strides[d];
    p.b += i * plan.b_batch_strides[d];
  }
  return p;
}

// [begin, end) of `total` for thread `tid` of `n_threads`, in chunks that are multiples of `unit`.
void thread_range(int64_t total, int64_t unit, int tid, int n_threads, int64_t* begin,
                  int64_t* end) {
  const int64_t step = (int64_t)n_threads * unit;
  const int64_t chunk = (total + step - 1) / step * unit;
  *begin = std::min(total, tid * chunk);
  *end = std::min(total, *begin + chunk);
}

// ---- kernels without packing -------------------------------------------------------------------

// sum_p x[p] * y[p] over contiguous vectors, in independent partial sums the compiler keeps in
// vector registers (it may not reorder a single running sum itself).
template <class T>
T dot_contiguous(int64_t k, const T* x, const T* y) {
  constexpr int kLanes = 16;
  T partial[kLanes] = {};
  int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes)
    for (int q = 0; q < kLanes; ++q) partial[q] += x[p + q] * y[p + q];
  T sum = T(0);
  for (; p < k; ++p) sum += x[p] * y[p];
  for (int q = 0; q < kLanes; ++q) sum += partial[q];
  return sum;
}

// y[j] = sum_p x[p] * B[p][j] for j in [j0, j1); y contiguous. Memory-bound: plain loops that the
// compiler vectorises are as fast as the memory system allows.
template <class T>
void vector_matrix(int64_t k, const T* x, int64_t incx, const T* b, int64_t rsb, int64_t csb,
                   T* y, int64_t j0, int64_t j1) {
  if (csb == 1) {
    // Rows of B are contiguous: add x[p] * B[p][jb:je], four rows at a time, into a piece of y
    // small enough to stay in L1 while all k rows go by.
    constexpr int64_t kPiece = 1024;
    for (int64_t jb = j0; jb < j1; jb += kPiece) {
      const int64_t je = std::min(j1, jb + kPiece);
      T* __restrict out = y;
      for (int64_t j = jb; j < je; ++j) out[j] = T(0);
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
        const T x0 = x[p * incx], x1 = x[(p + 1) * incx], x2 = x[(p + 2) * incx],
                x3 = x[(p + 3) * incx];
        const T* __restrict r0 = b + p * rsb;
        const T* __restrict r1 = r0 + rsb;
        const T* __restrict r2 = r1 + rsb;
        const T* __restrict r3 = r2 + rsb;
        for (int64_t j = jb; j < je; ++j)
          out[j] += x0 * r0[j] + x1 * r1[j] + x2 * r2[j] + x3 * r3[j];
      }
      for (; p < k; ++p) {
        const T xp = x[p * incx];
        const T* __restrict row = b + p * rsb;
        for (int64_t j = jb; j < je; ++j) out[j] += xp * row[j];
      }
    }
    return;
  }
  if (rsb == 1 && incx == 1) {
    for (int64_t j = j0; j < j1; ++j) y[j] = dot_contiguous<T>(k, x, b + j * csb);
    return;
  }
  for (int64_t j = j0; j < j1; ++j) {
    T sum = T(0);
    for (int64_t p = 0; p < k; ++p) sum += x[p * incx] * b[p * rsb + j * csb];
    y[j] = sum;
  }
}

// ---- driver ------------------------------------------------------------------------------------

// The vector kernels neither accumulate nor run an epilogue: products that do go to the GEMM.
bool uses_gemm(const Plan& plan) {
  return (plan.m > 1 && plan.n > 1) || plan.accumulate || plan.epilogue || plan.rsc != 0;
}

// Thread `tid` of `n_threads` computes its part of one product.
template <class T>
void run_product(const Plan& plan, const Product<T>& p, void* workspace, int tid, int n_threads) {
  const int64_t m = plan.m, n = plan.n, k = plan.k;
  constexpr int64_t kVectorChunk = 64;  // whole cache lines of y per thread
  int64_t begin, end;
  if (uses_gemm(plan)) {
    cpu::gemm_kernel<T>().run(m, n, k, p.a, plan.rsa, plan.csa, p.b, plan.rsb, plan.csb, p.c,
                              plan.rsc ? plan.rsc : n, plan.csc, plan.accumulate ? 1 : 0, workspace, tid,
                              n_threads, plan.epilogue);
  } else if (m == 1) {
    thread_range(n, kVectorChunk, tid, n_threads, &begin, &end);
    vector_matrix<T>(k, p.a, plan.csa, p.b, plan.rsb, plan.csb, p.c, begin, end);
  } else if (n == 1) {
    // C^T = B^T @ A^T: a row vector times the transposed A.
    thread_range(m, kVectorChunk, tid, n_threads, &begin, &end);
    vector_matrix<T>(k, p.b, plan.rsb, p.a, plan.csa, plan.rsa, p.c, begin, end);
  }
}

// Packing space for each thread, from the caching allocator (no page faults on repeated calls).
class Workspace {
 public:
  Workspace(int64_t bytes_per_thread, int n_threads)
      : per_thread_((bytes_per_thread + 63) / 64 * 64), total_(per_thread_ * n_threads) {
    if (total_ > 0) base_ = static_cast<char*>(cpu_alloc(total_));
  }
  ~Workspace() {
    if (base_) cpu_free(base_, total_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* for_thread(int tid) const { return base_ ? base_ + tid * per_thread_ : nullptr; }

 private:
  int64_t per_thread_, total_;
  char* base_ = nullptr;
};

template <class T>
void matmul_batch(const Plan& plan, const T* a, const T* b, T* c) {
  const int64_t batch = plan.batch_size;
  const double flops = 2.0 * (double)batch * (double)plan.m * (double)plan.n * (double)plan.k;
  int n_threads = 1;
  if (!in_parallel_region())
    n_threads = (int)std::max(1.0, std::min((double)get_num_threads(), flops / kFlopsPerThread));
  // Whole products per thread when the batch divides evenly or is long enough to balance.
  const bool split_batch =
      n_threads > 1 && batch >= n_threads && (batch % n_threads == 0 || batch >= 4 * n_threads);
  const int64_t ws_bytes =
      uses_gemm(plan) ? cpu::gemm_kernel<T>().workspace_bytes(plan.m, plan.n, plan.k) : 0;
  Workspace workspace(ws_bytes, n_threads);

  if (n_threads == 1) {
    for (int64_t i = 0; i < batch; ++i)
      run_product<T>(plan, product_at(plan, i, a, b, c), workspace.for_thread(0), 0, 1);
  } else if (split_batch) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int64_t i = 0; i < batch; ++i)
      run_product<T>(plan, product_at(plan, i, a, b, c),
                     workspace.for_thread(omp_get_thread_num()), 0, 1);
  } else {
#pragma omp parallel num_threads(n_threads)
    {
      const int tid = omp_get_thread_num(), team = omp_get_num_threads();
      for (int64_t i = 0; i < batch; ++i)
        run_product<T>(plan, product_at(plan, i, a, b, c), workspace.for_thread(tid), tid, team);
    }
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(is_floating(a.dtype) && is_floating(b.dtype), TypeError,
              "matmul: expected float32 or float64 operands, got ", dtype_name(a.dtype), " and ",
              dtype_name(b.dtype));
  EMBER_CHECK(a.dtype == b.dtype, TypeError,
              "matmul: expected both operands to have the same dtype, got ", dtype_name(a.dtype),
              " and ", dtype_name(b.dtype));
  EMBER_CHECK(a.device() == b.device(), RuntimeError,
              "matmul: expected both operands on the same device, got ", a.device().str(), " and ",
              b.device().str());
  EMBER_CHECK(a.device().is_cpu(), RuntimeError, "matmul: no kernel for device ",
              a.device().str());
  EMBER_CHECK(a.ndim() >= 1 && b.ndim() >= 1, ValueError,
              "matmul: both operands need at least 1 dimension, got shapes ", shape_str(a.shape),
              " and ", shape_str(b.shape));

  const bool a_vector = a.ndim() == 1, b_vector = b.ndim() == 1;
  const int64_t a_nd = a.ndim(), b_nd = b.ndim();
  const int64_t k_b = b_vector ? b.shape[0] : b.shape[b_nd - 2];
  EMBER_CHECK(a.shape.back() == k_b, ValueError, "matmul: shapes ", shape_str(a.shape), " and ",
              shape_str(b.shape), " do not align (", a.shape.back(), " != ", k_b, ")");

  Plan plan;
  plan.k = k_b;
  plan.m = a_vector ? 1 : a.shape[a_nd - 2];
  plan.n = b_vector ? 1 : b.shape.back();
  plan.csa = a.strides.back();
  plan.rsa = a_vector ? 0 : a.strides[a_nd - 2];
  plan.rsb = b_vector ? b.strides[0] : b.strides[b_nd - 2];
  plan.csb = b_vector ? 0 : b.strides.back();

  // Batch dimensions, aligned on the right and broadcast.
  const int64_t a_batch_nd = a_vector ? 0 : a_nd - 2, b_batch_nd = b_vector ? 0 : b_nd - 2;
  const int64_t batch_nd = std::max(a_batch_nd, b_batch_nd);
  for (int64_t d = 0; d < batch_nd; ++d) {
    const int64_t da = d - (batch_nd - a_batch_nd), db = d - (batch_nd - b_batch_nd);
    const int64_t size_a = da >= 0 ? a.shape[da] : 1, size_b = db >= 0 ? b.shape[db] : 1;
    EMBER_CHECK(size_a == size_b || size_a == 1 || size_b == 1, ValueError,
                "matmul: batch dimensions of shapes ", shape_str(a.shape), " and ",
                shape_str(b.shape), " do not broadcast (", size_a, " != ", size_b, ")");
    plan.batch_shape.push_back(size_a == 1 ? size_b : size_a);
    plan.a_batch_strides.push_back(size_a == 1 ? 0 : a.strides[da]);
    plan.b_batch_strides.push_back(size_b == 1 ? 0 : b.strides[db]);
    plan.batch_size *= plan.batch_shape.back();
  }

  Shape out_shape = plan.batch_shape;
  if (!a_vector) out_shape.push_back(plan.m);
  if (!b_vector) out_shape.push_back(plan.n);
  Tensor out = empty(out_shape, a.dtype);
  const int64_t count = out.numel();
  if (count == 0) return out;
  if (plan.k == 0) {
    // An empty sum: all-zero bits are +0.0 for both float types.
    std::memset(out.raw_data(), 0, (size_t)(count * itemsize(out.dtype)));
    return out;
  }
  dispatch_float(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    matmul_batch<T>(plan, a.data<T>(), b.data<T>(), out.data<T>());
  });
  return out;
}

void matmul_into(const Tensor& a, const Tensor& b, Tensor& out, bool accumulate, const cpu::GemmEpilogue* epilogue) {
  // Internal callers pass checked operands; these guard the contract, not user input.
  EMBER_CHECK(a.ndim() == 2 && b.ndim() == 2 && out.ndim() == 2 && a.shape[1] == b.shape[0] &&
                  out.shape[0] == a.shape[0] && out.shape[1] == b.shape[1],
              ValueError, "matmul_into: shapes ", shape_str(a.shape), " @ ", shape_str(b.shape), " -> ",
              shape_str(out.shape), " do not match");
  EMBER_CHECK(is_floating(a.dtype) && a.dtype == b.dtype && a.dtype == out.dtype && a.device().is_cpu() &&
                  b.device().is_cpu() && out.device().is_cpu(),
              TypeError, "matmul_into: expected CPU operands of one float dtype, got ", dtype_name(a.dtype), ", ",
              dtype_name(b.dtype), ", ", dtype_name(out.dtype));
  if (out.numel() == 0) return;
  Plan plan;
  if (!out.is_contiguous()) {
    plan.rsc = out.strides[0], plan.csc = out.strides[1];
    if (out.shape[0] == 1) plan.rsc = plan.csc == 1 ? out.shape[1] : 1;  // one row: any row stride will do
    if (out.shape[1] == 1) plan.csc = 1;
  }
  plan.m = a.shape[0], plan.k = a.shape[1], plan.n = b.shape[1];
  plan.rsa = a.strides[0], plan.csa = a.strides[1], plan.rsb = b.strides[0], plan.csb = b.strides[1];
  plan.accumulate = accumulate;
  plan.epilogue = epilogue;
  dispatch_float(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    matmul_batch<T>(plan, a.data<T>(), b.data<T>(), out.data<T>());
  });
}

}  // namespace ember
