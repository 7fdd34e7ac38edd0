#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace ember {

CpuCapability cpu_best_capability() {
  static const CpuCapability best = [] {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                __builtin_cpu_supports("f16c");
    bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return avx512 ? CpuCapability::AVX512 : avx2 ? CpuCapability::AVX2 : CpuCapability::Default;
#else
    return CpuCapability::Default;
#endif
  }();
  return best;
}

static CpuCapability requested_capability() {
  const char* env = std::getenv("EMBER_CPU_CAPABILITY");
  if (!env || !*env) return CpuCapability::AVX512;
  if (!std::strcmp(env, "default") || !std::strcmp(env, "generic")) return CpuCapability::Default;
  if (!std::strcmp(env, "avx2")) return CpuCapability::AVX2;
  return CpuCapability::AVX512;  // "avx512" or anything unknown: the best available
}

CpuCapability cpu_capability() {
  static const CpuCapability chosen = [] {
    CpuCapability want = requested_capability(), have = cpu_best_capability();
    return (int)want < (int)have ? want : have;
  }();
  return chosen;
}

const char* cpu_capability_name(CpuCapability c) {
  switch (c) {
    case CpuCapability::AVX512: return "avx512";
    case CpuCapability::AVX2: return "avx2";
    default: return "default";
  }
}

}  // namespace ember
