// Stands in for the CUDA backend when ember is built without it (EMBER_CUDA=OFF or no nvcc).
#include "core/errors.h"
#include "cuda/cuda_backend.h"

namespace ember {
namespace cuda {

static const char* kReason =
    "ember was built without CUDA (rebuild with nvcc on PATH, or EMBER_CUDA=ON to require it)";

[[noreturn]] static void fail(const char* op) { throw RuntimeError(str_cat(op, ": ", kReason)); }

bool built_with_cuda() { return false; }
std::string unavailable_reason() { return kReason; }
int device_count() { return 0; }
void synchronize(int) {}
void* device_alloc(int64_t, int) { fail("cuda allocation"); }
void device_free(void*, int64_t, int) {}
int64_t memory_allocated(int) { return 0; }
int64_t memory_reserved(int) { return 0; }
void empty_cache() {}
void copy_(const Tensor&, const Tensor&) { fail("copy to or from cuda"); }
void fill(const Tensor&, double) { fail("fill on cuda"); }
void add(const Tensor&, const Tensor&, const Tensor&) { fail("add on cuda"); }

}  // namespace cuda
}  // namespace ember
