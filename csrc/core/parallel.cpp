#include "core/parallel.h"

#include <cstdlib>

namespace ember {

static int initial_threads() {
  // OpenMP already honours OMP_NUM_THREADS through omp_get_max_threads().
  int n = omp_get_max_threads();
  return n > 0 ? n : 1;
}

static int g_num_threads = initial_threads();

int get_num_threads() { return g_num_threads; }

void set_num_threads(int n) {
  g_num_threads = n < 1 ? 1 : n;
  omp_set_num_threads(g_num_threads);
}

bool in_parallel_region() { return omp_in_parallel() != 0; }

}  // namespace ember
