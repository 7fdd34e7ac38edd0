// Which SIMD path runs: detected once from CPUID, overridable with EMBER_CPU_CAPABILITY
// (default|avx2|avx512), clamped to what the CPU supports.
#pragma once

namespace ember {

enum class CpuCapability { Default = 0, AVX2 = 1, AVX512 = 2 };

CpuCapability cpu_capability();       // the path in use
CpuCapability cpu_best_capability();  // what this CPU supports
const char* cpu_capability_name(CpuCapability c);  // "default", "avx2", "avx512"

}  // namespace ember
