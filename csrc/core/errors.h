// Exceptions of the library. Each maps to the Python exception of the same name (bindings/module.cpp
// registers the translation), so a failed check in any kernel reaches the user as a normal Python
// error naming the op and the shapes or values at fault.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {

struct ValueError : std::invalid_argument { using std::invalid_argument::invalid_argument; };
struct IndexError : std::out_of_range { using std::out_of_range::out_of_range; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct ZeroDivisionError : std::runtime_error { using std::runtime_error::runtime_error; };
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };

// "(3, 4)", "()" for 0-d, "(5,)" for 1-d: the way Python prints a shape tuple.
std::string shape_str(const std::vector<int64_t>& shape);

template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace ember

// EMBER_CHECK(n >= 0, ValueError, "zeros: negative dimension ", n, " in shape ", shape_str(shape));
#define EMBER_CHECK(cond, Exc, ...)                                   \
  do {                                                                \
    if (!(cond)) throw ::ember::Exc(::ember::str_cat(__VA_ARGS__));   \
  } while (0)
