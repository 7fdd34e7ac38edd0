// The SIMD kernels of reduce_kernels.inc as a table of function pointers, filled once from the
// CPU capability in use (reduce_generic.cpp, reduce_avx2.cpp or reduce_avx512.cpp). For the
// non-SIMD files of the family (reduce.cpp, softmax.cpp); the ISA files do not include this.
#pragma once
#include <cstdint>

namespace ember {
namespace cpu {

struct ReduceKernels {
  double (*sum_f32)(const float*, int64_t);
  double (*sum_f64)(const double*, int64_t);
  double (*squared_deviation_f32)(const float*, int64_t, double mean);
  double (*squared_deviation_f64)(const double*, int64_t, double mean);
  float (*max_f32)(const float*, int64_t);
  float (*min_f32)(const float*, int64_t);
  double (*max_f64)(const double*, int64_t);
  double (*min_f64)(const double*, int64_t);
  // (acc, seg, stride, n_rows, w): rows seg + r * stride, r < n_rows, into acc[0..w)
  void (*column_sum_f32)(double*, const float*, int64_t, int64_t, int64_t);
  void (*column_sum_f64)(double*, const double*, int64_t, int64_t, int64_t);
  void (*column_max_f32)(float*, const float*, int64_t, int64_t, int64_t);
  void (*column_min_f32)(float*, const float*, int64_t, int64_t, int64_t);
  void (*column_max_f64)(double*, const double*, int64_t, int64_t, int64_t);
  void (*column_min_f64)(double*, const double*, int64_t, int64_t, int64_t);
  int64_t (*find_first_f32)(const float*, int64_t, float target);
  int64_t (*find_first_f64)(const double*, int64_t, double target);
  double (*exp_sum_f32)(const float* x, float* y, int64_t n, float shift);
  void (*exp_shifted_f32)(const float* x, const float* shift, float* y, int64_t w);
};

const ReduceKernels& reduce_kernels();

}  // namespace cpu
}  // namespace ember
