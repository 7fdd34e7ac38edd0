// How the convolution drivers (conv_gemm.cpp, conv_direct.cpp) share out a batch among threads:
// whole images per thread while every thread has one, then all threads together on each image
// left over (a batch smaller than the thread count, or its remainder), cooperating through a Team.
// Included by those baseline-ISA files only.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/allocator.h"
#include "core/parallel.h"

namespace ember {
namespace cpu {

// FLOPs a thread must get before another thread is worth waking (as in matmul.cpp).
constexpr double kConvFlopsPerThread = double(1 << 21);

inline int conv_threads(double flops) {
  if (in_parallel_region()) return 1;
  return (int)std::max(1.0, std::min((double)get_num_threads(), flops / kConvFlopsPerThread));
}

// The threads working on one image: all of them (rank, size) inside the parallel region, or one.
struct Team {
  int rank = 0, size = 1;
  void sync() const {
    if (size > 1) {
#pragma omp barrier
    }
  }
  // This member's part [begin, end) of `total` items.
  void share(int64_t total, int64_t* begin, int64_t* end) const {
    const int64_t chunk = (total + size - 1) / size;
    *begin = std::min(total, rank * chunk);
    *end = std::min(total, *begin + chunk);
  }
};

// Scratch memory for each thread, from the caching allocator (no page faults on repeated calls).
class ScratchPool {
 public:
  ScratchPool(int64_t bytes_per_thread, int n_threads)
      : per_thread_((bytes_per_thread + 63) / 64 * 64), total_(per_thread_ * n_threads) {
    if (total_ > 0) base_ = static_cast<char*>(cpu_alloc(total_));
  }
  ~ScratchPool() {
    if (base_) cpu_free(base_, total_);
  }
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;
  char* for_thread(int t) const { return base_ + t * per_thread_; }

 private:
  int64_t per_thread_, total_;
  char* base_ = nullptr;
};

// Calls image_fn(n, thread, team) for every image n of the batch on n_threads threads: alone
// (team of one) for whole images first, then with all threads as one team on the rest.
template <class ImageFn>
void for_each_image(int64_t batch, int n_threads, const ImageFn& image_fn) {
  if (n_threads == 1) {
    for (int64_t n = 0; n < batch; ++n) image_fn(n, 0, Team{});
    return;
  }
  const int64_t whole = batch - batch % n_threads;
#pragma omp parallel num_threads(n_threads)
  {
    const int t = omp_get_thread_num(), team_size = omp_get_num_threads();
    const int64_t per_thread = whole / team_size;
    for (int64_t n = t * per_thread; n < (t + 1) * per_thread; ++n) image_fn(n, t, Team{});
    if (whole < batch) {
#pragma omp barrier
      const Team team{t, team_size};
      for (int64_t n = whole; n < batch; ++n) image_fn(n, t, team);
    }
  }
}

}  // namespace cpu
}  // namespace ember
