// Scalar formulas of the elementwise ops, each written once: the CPU loops of every ISA, their
// tails and the CUDA kernels call these. T is float or double unless a function says otherwise;
// integer variants sit beside the float ones where the op takes integers.
//
// Every function is `static inline` (internal linkage): this header is included by per-ISA
// translation units, and an inline function with external linkage could be merged across them by
// the linker, running AVX-512 code on a CPU without it. Only C headers here, no STL.
//
// Naming: <op>_fwd is the op, <op>_bwd beside it the gradient it passes back: bwd(dy, saved) with
// dy the incoming gradient and `saved` the forward's input x, or its output where PyTorch's
// derivative reads the output (relu, sigmoid, tanh). Each bwd follows PyTorch's convention at the
// kinks and for NaN (which side a comparison with NaN falls on included), so that gradients match.
//
// Formulas that the CPU also runs on SIMD vectors (exp, log, log1p, tanh, sigmoid, silu, elu, gelu,
// softplus, and the gradients of silu, elu, gelu and softplus) are written with math_* calls,
// select(c, a, b) instead of `c ? a : b`, and T(constant):
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
// d tanh = 1 - tanh^2, from the forward's output.
template <class T> EMBER_SCALAR T tanh_bwd(T dy, T out) { return dy * (T(1) - out * out); }

// 1 / (1 + e^-x) without overflow: e^-|x| is at most 1, and for x < 0 the same quotient times
// e^x gives e^x / (1 + e^x).
template <class T>
EMBER_SCALAR T sigmoid_fwd(T x) {
  T e = math_exp(-math_abs(x));
  T s = T(1) / (T(1) + e);
  return select(x < T(0), e * s, s);
}

// d sigmoid = s (1 - s), from the forward's output; PyTorch's order of products.
template <class T>
EMBER_SCALAR T sigmoid_bwd(T dy, T out) {
  return dy * (T(1) - out) * out;
}

// ---- activations ---------------------------------------------------------------------------------
// `x < 0 ? 0 : x` rather than `x > 0 ? x : 0` so that NaN passes through, as in PyTorch.
template <class T>
EMBER_SCALAR T relu_fwd(T x) {
  return x < T(0) ? T(0) : x;
}

// From the forward's output: the gradient passes where out > 0. `out <= 0 ? 0 : dy` (PyTorch's
// threshold_backward) also passes it for NaN; at 0 the gradient is 0.
template <class T>
EMBER_SCALAR T relu_bwd(T dy, T out) {
  return out <= T(0) ? T(0) : dy;
}

template <class T>
EMBER_SCALAR T leaky_relu_fwd(T x, T negative_slope) {
  return x > T(0) ? x : x * negative_slope;
}

// At x = 0 (and for NaN) the slope side, as PyTorch.
template <class T>
EMBER_SCALAR T leaky_relu_bwd(T dy, T x, T negative_slope) {
  return x > T(0) ? dy : dy * negative_slope;
}

// expm1 keeps the small negative inputs accurate (exp(x) - 1 would cancel).
template <class T>
EMBER_SCALAR T elu_fwd(T x, T alpha) {
  return select(x > T(0), x, alpha * math_expm1(x));
}

// x = 0 takes the exponential side (alpha) and NaN gives NaN, as PyTorch's vectorised kernel (its
// scalar tail passes dy for NaN instead; the vector body is what a tensor of any size mostly sees).
template <class T>
EMBER_SCALAR T elu_bwd(T dy, T x, T alpha) {
  return select(x > T(0), dy, dy * alpha * math_exp(x));
}

template <class T>
EMBER_SCALAR T silu_fwd(T x) {
  return x * sigmoid_fwd(x);
}

// d silu = s (1 + x (1 - s)), s = sigmoid(x). 1 - s is taken as sigmoid(-x), from the same
// exponential, so it keeps its precision for large x. Like PyTorch, +-inf give NaN (inf * 0).
template <class T>
EMBER_SCALAR T silu_bwd(T dy, T x) {
  T e = math_exp(-math_abs(x));
  T r = T(1) / (T(1) + e);
  T s = select(x < T(0), e * r, r);
  T one_minus_s = select(x < T(0), r, e * r);
  return dy * s * (T(1) + x * one_minus_s);
}

// Exact GELU: x times the standard normal CDF.
template <class T>
EMBER_SCALAR T gelu_fwd(T x) {
  return x * math_normal_cdf(x);
}

// d gelu = Phi(x) + x phi(x), phi the standard normal density, as PyTorch (whose erf form of Phi
// loses precision for negative x; erfc here does not). +-inf give NaN (inf * 0), as in PyTorch.
template <class T>
EMBER_SCALAR T gelu_bwd(T dy, T x) {
  const T kInvSqrt2Pi = T(0.39894228040143267794);
  T pdf = kInvSqrt2Pi * math_exp(T(-0.5) * x * x);
  return dy * (math_normal_cdf(x) + x * pdf);
}

// The tanh approximation 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written as
// x * sigmoid(2u), the same value without the cancellation of 1 + tanh(u) for negative x.
template <class T>
EMBER_SCALAR T gelu_tanh_fwd(T x) {
  const T kSqrt2OverPi = T(0.79788456080286535588);
  T u = kSqrt2OverPi * (x + T(0.044715) * x * x * x);
  return x * sigmoid_fwd(T(2) * u);
}

// PyTorch's derivative 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) u', u' = sqrt(2/pi) (1 + 3 0.044715
// x^2), written with s = sigmoid(2u) = 0.5 (1 + tanh u) and 1 - tanh^2 u = 4 s (1 - s):
//   s + 2 x s (1 - s) u'
// s (1 - s) = e / (1 + e)^2 with e = e^-|2u| has no cancellation for large |u|. The factors are
// multiplied in the order that keeps x^3 from overflowing before the vanishing e^-|2u| is applied,
// so the result is NaN only where x^2 overflows and PyTorch's is NaN too (and at +-inf).
template <class T>
EMBER_SCALAR T gelu_tanh_bwd(T dy, T x) {
  const T kSqrt2OverPi = T(0.79788456080286535588);
  const T kCubic = T(0.044715);
  T two_u = T(2) * kSqrt2OverPi * (x + kCubic * x * x * x);
  T e = math_exp(-math_abs(two_u));
  T r = T(1) / (T(1) + e);
  T s = select(two_u < T(0), e * r, r);
  T slope_term = T(2) * kSqrt2OverPi * (e * r * r) * x * (T(1) + T(3) * kCubic * x * x);
  return dy * (s + slope_term);
}

// PyTorch's softplus: log(1 + e^(beta x)) / beta, and x itself once beta x exceeds the threshold
// (where the two agree to float precision and the exponential would overflow).
template <class T>
EMBER_SCALAR T softplus_fwd(T x, T beta, T threshold) {
  T bx = x * beta;
  return select(bx > threshold, x, math_log1p(math_exp(bx)) / beta);
}

// sigmoid(beta x), and 1 past the threshold where the forward is x itself. PyTorch writes the
// sigmoid as z / (z + 1), z = e^(beta x), which is inf / inf = NaN once z overflows below a large
// threshold; sigmoid_fwd has the same value without overflowing.
template <class T>
EMBER_SCALAR T softplus_bwd(T dy, T x, T beta, T threshold) {
  T bx = x * beta;
  return select(bx > threshold, dy, dy * sigmoid_fwd(bx));
}

// min(max(x, lo), hi) as PyTorch: lo > hi gives hi; a NaN input or bound gives NaN.
template <class T>
EMBER_SCALAR T clamp_fwd(T x, T lo, T hi) {
  T y = (x < lo || lo != lo) ? lo : x;
  return (y > hi || hi != hi) ? hi : y;
}

// The gradient passes where lo <= x <= hi (a bound equal to x included), as PyTorch; NaN x or a NaN
// bound gives 0. An absent bound is -inf or +inf, which every non-NaN x satisfies.
template <class T>
EMBER_SCALAR T clamp_bwd(T dy, T x, T lo, T hi) {
  return (x >= lo && x <= hi) ? dy : T(0);
}

// ---- dropout -------------------------------------------------------------------------------------
// Inverted dropout of one element: kept ones are divided by keep_prob = 1 - p so the expectation
// is unchanged. keep_prob == 0 (p == 1) drops everything without dividing by zero. A dropped
// element is x * 0, as PyTorch's x * mask: 0 for finite x, NaN for NaN and inf.
template <class T>
EMBER_SCALAR T dropout_fwd(T x, bool keep, T keep_prob) {
  return keep_prob > T(0) ? x * T(keep) / keep_prob : x * T(0);
}

// Dropout is linear in x with the mask fixed: the gradient goes through the same scaling.
template <class T>
EMBER_SCALAR T dropout_bwd(T dy, bool keep, T keep_prob) {
  return dropout_fwd(dy, keep, keep_prob);
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
