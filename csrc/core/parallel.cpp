#include "core/parallel.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#define EMBER_HAS_MXCSR 1
#else
#define EMBER_HAS_MXCSR 0
#endif

namespace ember {

static int initial_threads() {
  // OpenMP already honours OMP_NUM_THREADS through omp_get_max_threads().
  int n = omp_get_max_threads();
  return n > 0 ? n : 1;
}

static int g_num_threads = initial_threads();
static bool g_flush_denormal = false;
static bool g_flush_denormal_set = false;  // set_flush_denormal was called (the threads' MXCSR may differ from a new thread's)

// Sets or clears FTZ (bit 15) and DAZ (bit 6) of MXCSR on the calling thread and on a team of
// `threads`, which reaches the pool's threads (each keeps its own MXCSR).
static void apply_flush_denormal(bool on, int threads) {
#if EMBER_HAS_MXCSR
  constexpr unsigned kBits = 0x8040;
  const auto apply = [on] { _mm_setcsr(on ? (_mm_getcsr() | kBits) : (_mm_getcsr() & ~kBits)); };
  apply();
  if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    apply();
  }
#else
  (void)on, (void)threads;
#endif
}

int get_num_threads() { return g_num_threads; }

void set_num_threads(int n) {
  const int before = g_num_threads;
  g_num_threads = n < 1 ? 1 : n;
  omp_set_num_threads(g_num_threads);
  // A larger team may wake pool threads that kept an older setting (a runtime may keep threads
  // of an earlier, larger team alive): they get the current one.
  if (g_flush_denormal_set && g_num_threads > before) apply_flush_denormal(g_flush_denormal, g_num_threads);
}

bool set_flush_denormal(bool on) {
  if (!EMBER_HAS_MXCSR) return false;
  apply_flush_denormal(on, g_num_threads);
  g_flush_denormal = on;
  g_flush_denormal_set = true;
  return true;
}

bool in_parallel_region() { return omp_in_parallel() != 0; }

}  // namespace ember
