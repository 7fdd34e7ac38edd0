// The caching device allocator: tensors on CUDA get their memory here, not from cudaMalloc per
// op. A freed block goes onto its device's free list for its size class and the next request of
// that class takes it back. cudaFree runs only in empty_cache() and when cudaMalloc runs out of
// memory (the cache of that device is released and the allocation retried once).
//
// Reusing a block without waiting is safe because all work runs in order on the device's default
// stream: a kernel queued after the free sees the memory only after earlier kernels finished.
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"

namespace ember {
namespace cuda {

namespace {

// Size classes: multiples of 512 bytes up to 1 MiB, multiples of 2 MiB beyond. Small tensors
// waste little; large ones waste under 2 MiB each while keeping the number of classes small.
constexpr int64_t kSmallStep = 512;
constexpr int64_t kSmallLimit = int64_t(1) << 20;
constexpr int64_t kLargeStep = int64_t(2) << 20;

int64_t block_size_for(int64_t nbytes) {
  int64_t step = nbytes <= kSmallLimit ? kSmallStep : kLargeStep;
  return (nbytes + step - 1) / step * step;
}

struct DeviceCache {
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;  // by block size
  int64_t allocated = 0;                                         // bytes in blocks held by tensors
  int64_t cached = 0;                                            // bytes in free blocks
};

struct Allocator {
  std::mutex mutex;
  std::vector<DeviceCache> devices;  // indexed by device; grows on first use of a device

  DeviceCache& cache_of(int device) {
    if (device >= (int)devices.size()) devices.resize(device + 1);
    return devices[device];
  }
};

// Never destroyed: tensors may be freed during interpreter exit, after static destructors ran.
Allocator& allocator() {
  static Allocator* instance = new Allocator();
  return *instance;
}

// Returns every cached block of one device to the driver. The caller holds the allocator's lock
// and has made the device current. Waits for the device first: a block freed by a tensor may
// still be in use by a kernel queued before that tensor died.
void release_cached_blocks(DeviceCache& cache, const char* op) {
  if (cache.cached == 0) return;
  cudaError_t first_failure = cudaDeviceSynchronize();
  for (auto& entry : cache.free_blocks) {
    for (void* block : entry.second) {
      cudaError_t status = cudaFree(block);
      if (first_failure == cudaSuccess) first_failure = status;
    }
  }
  cache.free_blocks.clear();
  cache.cached = 0;
  EMBER_CUDA_CHECK(first_failure, op);
}

std::string mib(int64_t nbytes) { return str_cat(nbytes / double(1 << 20), " MiB"); }

}  // namespace

void* device_alloc(int64_t nbytes, int device) {
  const char* op = "allocating a tensor on cuda";
  DeviceGuard guard(device, op);  // a zero-byte tensor on an unusable device fails here too
  if (nbytes <= 0) return nullptr;
  const int64_t size = block_size_for(nbytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  DeviceCache& cache = a.cache_of(device);

  auto it = cache.free_blocks.find(size);
  if (it != cache.free_blocks.end() && !it->second.empty()) {
    void* block = it->second.back();
    it->second.pop_back();
    cache.cached -= size;
    cache.allocated += size;
    return block;
  }

  void* block = nullptr;
  cudaError_t status = cudaMalloc(&block, size);
  if (status == cudaErrorMemoryAllocation && cache.cached > 0) {
    cudaGetLastError();
    release_cached_blocks(cache, op);
    status = cudaMalloc(&block, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw RuntimeError(str_cat("CUDA out of memory: tried to allocate ", mib(size), " on cuda:", device, " (",
                               mib(cache.allocated), " already allocated by tensors, ", mib(cache.cached),
                               " cached); free tensors you no longer need, or use smaller batches"));
  }
  EMBER_CUDA_CHECK(status, op);
  cache.allocated += size;
  return block;
}

// Called from Storage's destructor: never throws and makes no CUDA call.
void device_free(void* ptr, int64_t nbytes, int device) {
  if (!ptr) return;
  const int64_t size = block_size_for(nbytes);
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  DeviceCache& cache = a.cache_of(device);
  cache.free_blocks[size].push_back(ptr);
  cache.allocated -= size;
  cache.cached += size;
}

int64_t memory_allocated(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  return device >= 0 && device < (int)a.devices.size() ? a.devices[device].allocated : 0;
}

int64_t memory_reserved(int device) {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  if (device < 0 || device >= (int)a.devices.size()) return 0;
  return a.devices[device].allocated + a.devices[device].cached;
}

void empty_cache() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  for (int device = 0; device < (int)a.devices.size(); ++device) {
    if (a.devices[device].cached == 0) continue;
    DeviceGuard guard(device, "empty_cache");
    release_cached_blocks(a.devices[device], "empty_cache");
  }
}

}  // namespace cuda
}  // namespace ember
