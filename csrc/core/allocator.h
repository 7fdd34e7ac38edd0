// CPU memory: 64-byte aligned blocks from a cache, so that a training step reuses the buffers of
// the previous one instead of page-faulting fresh memory.
#pragma once
#include <cstdint>

namespace ember {

void* cpu_alloc(int64_t nbytes);
void cpu_free(void* ptr, int64_t nbytes);
void cpu_empty_cache();
int64_t cpu_cached_bytes();

}  // namespace ember
