// Scalar formulas of the elementwise ops, each written once: the CPU loops of every ISA, their
// tails and the CUDA kernels call these. T is float or double unless a function says otherwise;
// integer variants sit beside the float ones where the op takes integers.
//
// Every function is `static inline` (internal linkage): this header is included by per-ISA
// translation units, and an inline function with external linkage could be merged across them by
// the linker, running AVX-512 code on a CPU without it. Only C headers here, no STL.
//
// Naming: <op>_fwd now; <op>_bwd (the gradient of the same formula) goes beside it.
//
// Formulas that the CPU also runs on SIMD vectors (exp, log, log1p, tanh, sigmoid, silu, elu, gelu,
// softplus) are written with math_* calls, select(c, a, b) instead of `c ? a : b`, and T(constant):
// the float32 CPU kernels instantiate the very same templates with a vector type whose math_*
// overloads they provide (cpu/vec_f32.inc).
#pragma once
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define EMBER_SCALAR static inline __host__ __device__
#else
#define EMBER_SCALAR static inline
#endif

namespace ember {

// ---- libm by precision: float32 math stays in float (expf, not exp) ----------------------------
EMBER_SCALAR float math_exp(float x) { return expf(x); }
EMBER_SCALAR double math_exp(double x) { return exp(x); }
EMBER_SCALAR float math_expm1(float x) { return expm1f(x); }
EMBER_SCALAR double math_expm1(double x) { return expm1(x); }
EMBER_SCALAR float math_log(float x) { return logf(x); }
EMBER_SCALAR double math_log(double x) { return log(x); }
EMBER_SCALAR float math_log1p(float x) { return log1pf(x); }
EMBER_SCALAR double math_log1p(double x) { return log1p(x); }
EMBER_SCALAR float math_sqrt(float x) { return sqrtf(x); }
EMBER_SCALAR double math_sqrt(double x) { return sqrt(x); }
EMBER_SCALAR float math_sin(float x) { return sinf(x); }
EMBER_SCALAR double math_sin(double x) { return sin(x); }
EMBER_SCALAR float math_cos(float x) { return cosf(x); }
EMBER_SCALAR double math_cos(double x) { return cos(x); }
EMBER_SCALAR float math_tanh(float x) { return tanhf(x); }
EMBER_SCALAR double math_tanh(double x) { return tanh(x); }
// Phi(x) = 0.5 erfc(-x / sqrt 2): equal to 0.5 (1 + erf(x / sqrt 2)) without its cancellation for
// negative x.
EMBER_SCALAR float math_normal_cdf(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
EMBER_SCALAR double math_normal_cdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
EMBER_SCALAR float math_pow(float x, float y) { return powf(x, y); }
EMBER_SCALAR double math_pow(double x, double y) { return pow(x, y); }
EMBER_SCALAR float math_fmod(float x, float y) { return fmodf(x, y); }
EMBER_SCALAR double math_fmod(double x, double y) { return fmod(x, y); }
EMBER_SCALAR float math_floor(float x) { return floorf(x); }
EMBER_SCALAR double math_floor(double x) { return floor(x); }
EMBER_SCALAR float math_copysign(float x, float y) { return copysignf(x, y); }
EMBER_SCALAR double math_copysign(double x, double y) { return copysign(x, y); }
EMBER_SCALAR float math_abs(float x) { return fabsf(x); }
EMBER_SCALAR double math_abs(double x) { return fabs(x); }

template <class T>
EMBER_SCALAR T select(bool condition, T if_true, T if_false) {
  return condition ? if_true : if_false;
}

// ---- sign and magnitude (any arithmetic T) -------------------------------------------------------
// Integer negation wraps like PyTorch (-INT64_MIN == INT64_MIN) instead of being undefined.
template <class T>
EMBER_SCALAR T neg_fwd(T x) {
  return (T)(0 - (uint64_t)x);
}
EMBER_SCALAR float neg_fwd(float x) { return -x; }
EMBER_SCALAR double neg_fwd(double x) { return -x; }

template <class T>
EMBER_SCALAR T abs_fwd(T x) {
  return x < T(0) ? neg_fwd(x) : x;
}
EMBER_SCALAR float abs_fwd(float x) { return fabsf(x); }
EMBER_SCALAR double abs_fwd(double x) { return fabs(x); }

// -1, 0 or 1; a zero keeps its sign and NaN stays NaN (as NumPy).
template <class T>
EMBER_SCALAR T sign_fwd(T x) {
  return x > T(0) ? T(1) : x < T(0) ? T(-1) : x;
}

// ---- exponentials, logarithms, roots, trigonometry ---------------------------------------------
template <class T> EMBER_SCALAR T exp_fwd(T x) { return math_exp(x); }
template <class T> EMBER_SCALAR T log_fwd(T x) { return math_log(x); }
template <class T> EMBER_SCALAR T log1p_fwd(T x) { return math_log1p(x); }
template <class T> EMBER_SCALAR T sqrt_fwd(T x) { return math_sqrt(x); }
template <class T> EMBER_SCALAR T rsqrt_fwd(T x) { return T(1) / math_sqrt(x); }
template <class T> EMBER_SCALAR T sin_fwd(T x) { return math_sin(x); }
template <class T> EMBER_SCALAR T cos_fwd(T x) { return math_cos(x); }
template <class T> EMBER_SCALAR T tanh_fwd(T x) { return math_tanh(x); }

// 1 / (1 + e^-x) without overflow: e^-|x| is at most 1, and for x < 0 the same quotient times
// e^x gives e^x / (1 + e^x).
template <class T>
EMBER_SCALAR T sigmoid_fwd(T x) {
  T e = math_exp(-math_abs(x));
  T s = T(1) / (T(1) + e);
  return select(x < T(0), e * s, s);
}

// ---- activations ---------------------------------------------------------------------------------
// `x < 0 ? 0 : x` rather than `x > 0 ? x : 0` so that NaN passes through, as in PyTorch.
template <class T>
EMBER_SCALAR T relu_fwd(T x) {
  return x < T(0) ? T(0) : x;
}

template <class T>
EMBER_SCALAR T leaky_relu_fwd(T x, T negative_slope) {
  return x > T(0) ? x : x * negative_slope;
}

// expm1 keeps the small negative inputs accurate (exp(x) - 1 would cancel).
template <class T>
EMBER_SCALAR T elu_fwd(T x, T alpha) {
  return select(x > T(0), x, alpha * math_expm1(x));
}

template <class T>
EMBER_SCALAR T silu_fwd(T x) {
  return x * sigmoid_fwd(x);
}

// Exact GELU: x times the standard normal CDF.
template <class T>
EMBER_SCALAR T gelu_fwd(T x) {
  return x * math_normal_cdf(x);
}

// The tanh approximation 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written as
// x * sigmoid(2u), the same value without the cancellation of 1 + tanh(u) for negative x.
template <class T>
EMBER_SCALAR T gelu_tanh_fwd(T x) {
  const T kSqrt2OverPi = T(0.79788456080286535588);
  T u = kSqrt2OverPi * (x + T(0.044715) * x * x * x);
  return x * sigmoid_fwd(T(2) * u);
}

// PyTorch's softplus: log(1 + e^(beta x)) / beta, and x itself once beta x exceeds the threshold
// (where the two agree to float precision and the exponential would overflow).
template <class T>
EMBER_SCALAR T softplus_fwd(T x, T beta, T threshold) {
  T bx = x * beta;
  return select(bx > threshold, x, math_log1p(math_exp(bx)) / beta);
}

// min(max(x, lo), hi) as PyTorch: lo > hi gives hi; a NaN input or bound gives NaN.
template <class T>
EMBER_SCALAR T clamp_fwd(T x, T lo, T hi) {
  T y = (x < lo || lo != lo) ? lo : x;
  return (y > hi || hi != hi) ? hi : y;
}

// ---- binary arithmetic ---------------------------------------------------------------------------
// Integers wrap on overflow (as PyTorch) through unsigned arithmetic, where signed overflow would
// be undefined; bool gives logical or / and.
template <class T>
EMBER_SCALAR T add_fwd(T a, T b) { return (T)((uint64_t)a + (uint64_t)b); }
EMBER_SCALAR float add_fwd(float a, float b) { return a + b; }
EMBER_SCALAR double add_fwd(double a, double b) { return a + b; }
template <class T>
EMBER_SCALAR T sub_fwd(T a, T b) { return (T)((uint64_t)a - (uint64_t)b); }
EMBER_SCALAR float sub_fwd(float a, float b) { return a - b; }
EMBER_SCALAR double sub_fwd(double a, double b) { return a - b; }
template <class T>
EMBER_SCALAR T mul_fwd(T a, T b) { return (T)((uint64_t)a * (uint64_t)b); }
EMBER_SCALAR float mul_fwd(float a, float b) { return a * b; }
EMBER_SCALAR double mul_fwd(double a, double b) { return a * b; }
EMBER_SCALAR bool mul_fwd(bool a, bool b) { return a && b; }

// Python's floor division for floats (PyTorch's div_floor): floor(a / b) computed from fmod so
// that the quotient is exact; b == 0 gives the IEEE quotient (inf or nan).
template <class T>
EMBER_SCALAR T floor_divide_fwd(T a, T b) {
  if (b == T(0)) return a / b;
  T mod = math_fmod(a, b);
  T div = (a - mod) / b;
  if (mod != T(0) && (b < T(0)) != (mod < T(0))) div -= T(1);
  if (div == T(0)) return math_copysign(T(0), a / b);
  T floored = math_floor(div);
  if (div - floored > T(0.5)) floored += T(1);
  return floored;
}

// Python's remainder for floats: the result takes the sign of the divisor.
template <class T>
EMBER_SCALAR T remainder_fwd(T a, T b) {
  T mod = math_fmod(a, b);
  if (mod != T(0) && (b < T(0)) != (mod < T(0))) mod += b;
  return mod;
}

// Integer floor division and remainder. The callers report b == 0 as an error before computing;
// 0 is returned for it only so that a division by zero can never trap. b == -1 is its own case:
// INT_MIN / -1 overflows in C but wraps in PyTorch.
template <class T>
EMBER_SCALAR T floor_divide_int_fwd(T a, T b) {
  if (b == T(0)) return T(0);
  if (b == T(-1)) return neg_fwd(a);
  T q = a / b;
  if (a % b != T(0) && (a < T(0)) != (b < T(0))) q -= T(1);
  return q;
}

template <class T>
EMBER_SCALAR T remainder_int_fwd(T a, T b) {
  if (b == T(0) || b == T(-1)) return T(0);
  T r = a % b;
  if (r != T(0) && (r < T(0)) != (b < T(0))) r += b;
  return r;
}

template <class T>
EMBER_SCALAR T pow_fwd(T a, T b) {
  return math_pow(a, b);
}

// Integer power by squaring, wrapping on overflow. A negative exponent gives what PyTorch gives:
// 1 for base 1, +-1 for base -1, otherwise 0 (the integer part of 1 / a^|b|).
template <class T>
EMBER_SCALAR T pow_int_fwd(T a, T b) {
  if (b < T(0)) {
    if (a == T(1)) return T(1);
    if (a == T(-1)) return (b % T(2) != T(0)) ? T(-1) : T(1);
    return T(0);
  }
  uint64_t base = (uint64_t)a, result = 1, e = (uint64_t)b;
  while (e) {
    if (e & 1u) result *= base;
    base *= base;
    e >>= 1;
  }
  return (T)result;
}

// NaN in either operand gives NaN, as NumPy's maximum / minimum and PyTorch's.
template <class T>
EMBER_SCALAR T maximum_fwd(T a, T b) {
  return (a != a || a > b) ? a : b;
}

template <class T>
EMBER_SCALAR T minimum_fwd(T a, T b) {
  return (a != a || a < b) ? a : b;
}

}  // namespace ember
