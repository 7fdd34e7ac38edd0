// Threading: one OpenMP pool, a thread count set by ember.set_num_threads / OMP_NUM_THREADS, and
// parallel_for with a grain size so that small ops stay on the calling thread.
#pragma once
#include <algorithm>
#include <cstdint>

#include <omp.h>

namespace ember {

int get_num_threads();
void set_num_threads(int n);
bool in_parallel_region();

// Flush-to-zero and denormals-are-zero for float arithmetic on the calling thread and on every
// thread of the pool (threads the pool starts later inherit the calling thread's setting). Returns
// false, changing nothing, on processors without the SSE control bits.
bool set_flush_denormal(bool on);

// Splits [begin, end) into at most get_num_threads() contiguous chunks of at least `grain`
// iterations and calls f(chunk_begin, chunk_end) for each. One chunk runs inline.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  int64_t n = end - begin;
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t max_chunks = (n + grain - 1) / grain;
  int n_threads = (int)std::min<int64_t>(get_num_threads(), max_chunks);
  if (n_threads <= 1 || in_parallel_region()) {
    f(begin, end);
    return;
  }
#pragma omp parallel num_threads(n_threads)
  {
    int tid = omp_get_thread_num();
    int nt = omp_get_num_threads();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = begin + tid * chunk;
    int64_t e = std::min(end, b + chunk);
    if (b < e) f(b, e);
  }
}

// Elements per thread below which elementwise kernels are not worth splitting.
constexpr int64_t kElementwiseGrain = 32768;

}  // namespace ember
