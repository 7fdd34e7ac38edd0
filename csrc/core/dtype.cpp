#include "core/dtype.h"

namespace ember {

int64_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::Int32: return 4;
    case DType::Bool: return 1;
  }
  return 1;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::Bool: return "bool";
  }
  return "?";
}

const char* torch_type_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "Float";
    case DType::Float64: return "Double";
    case DType::Int64: return "Long";
    case DType::Int32: return "Int";
    case DType::Bool: return "Bool";
  }
  return "?";
}

static DType g_default_float = DType::Float32;

DType default_float_dtype() { return g_default_float; }

void set_default_float_dtype(DType dtype) { g_default_float = dtype; }

bool is_floating(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }

static int kind_rank(DType d) { return d == DType::Bool ? 0 : is_floating(d) ? 2 : 1; }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  int ka = kind_rank(a), kb = kind_rank(b);
  if (ka != kb) return ka > kb ? a : b;
  return itemsize(a) >= itemsize(b) ? a : b;
}

}  // namespace ember
