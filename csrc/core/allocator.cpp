#include "core/allocator.h"

#include "core/errors.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace ember {

namespace {

constexpr int64_t kAlign = 64;
constexpr int64_t kMaxCachedBytes = int64_t(1) << 30;  // beyond this, freed blocks go back to the OS

// Size classes: multiples of 64 bytes up to 4 KiB, then of 4 KiB. Rounding keeps the number of
// classes small while wasting at most a page per large block.
int64_t round_size(int64_t nbytes) {
  if (nbytes <= 0) return kAlign;
  int64_t step = nbytes <= 4096 ? kAlign : 4096;
  return (nbytes + step - 1) / step * step;
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;
  int64_t cached = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: blocks may be freed during interpreter exit
  return *c;
}

}  // namespace

void* cpu_alloc(int64_t nbytes) {
  int64_t size = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= size;
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, size);
  if (!p) {
    cpu_empty_cache();
    p = std::aligned_alloc(kAlign, size);
    if (!p)
      throw MemoryError(str_cat("out of memory: could not allocate ", nbytes, " bytes (",
                                nbytes / double(int64_t(1) << 30), " GiB) on the CPU"));
  }
  return p;
}

void cpu_free(void* ptr, int64_t nbytes) {
  if (!ptr) return;
  int64_t size = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cached + size <= kMaxCachedBytes) {
      c.free_blocks[size].push_back(ptr);
      c.cached += size;
      return;
    }
  }
  std::free(ptr);
}

void cpu_empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& kv : c.free_blocks)
    for (void* p : kv.second) std::free(p);
  c.free_blocks.clear();
  c.cached = 0;
}

int64_t cpu_cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.cached;
}

}  // namespace ember
