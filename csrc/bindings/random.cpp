// Python entry points of the random generator: manual_seed, initial_seed, rand, randn, randint,
// and the raw Philox4x32-10 function (for known-answer tests).
#include <pybind11/stl.h>

#include <array>
#include <limits>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/errors.h"
#include "cpu/random.h"

namespace py = pybind11;

namespace ember {

// Seeds as PyTorch takes them: any integer in [-2^63, 2^64); negative ones wrap modulo 2^64.
static uint64_t seed_arg(const py::int_& seed) {
  static const py::int_ lowest = py::int_(-1) * py::int_(std::numeric_limits<int64_t>::max()) - py::int_(1);
  static const py::int_ limit = py::int_(std::numeric_limits<uint64_t>::max());
  EMBER_CHECK(seed >= lowest && seed <= limit, ValueError, "manual_seed: the seed must lie in [-2**63, 2**64), got ",
              std::string(py::str(seed)));
  if (seed < py::int_(0)) return (uint64_t)seed.cast<int64_t>();
  return seed.cast<uint64_t>();
}

void bind_random(py::module_& m) {
  m.def("manual_seed", [](const py::int_& seed) { manual_seed(seed_arg(seed)); }, py::arg("seed"),
        "Seeds the global generator and rewinds its stream.");
  m.def("initial_seed", &initial_seed, "The seed of the global generator.");
  m.def("rand", [](const Shape& shape, DType dtype, py::handle device) {
    return cpu::rand(shape, dtype, device_arg(device));
  }, py::arg("shape"), py::arg("dtype") = DType::Float32, py::arg("device") = py::none(),
     "Uniform samples in [0, 1).");
  m.def("randn", [](const Shape& shape, DType dtype, py::handle device) {
    return cpu::randn(shape, dtype, device_arg(device));
  }, py::arg("shape"), py::arg("dtype") = DType::Float32, py::arg("device") = py::none(),
     "Standard normal samples.");
  m.def("randint", [](int64_t low, int64_t high, const Shape& shape, DType dtype, py::handle device) {
    return cpu::randint(low, high, shape, dtype, device_arg(device));
  }, py::arg("low"), py::arg("high"), py::arg("shape"), py::arg("dtype") = DType::Int64,
     py::arg("device") = py::none(), "Integers uniform in [low, high).");
  m.def("_philox4x32_10", [](std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
    std::array<uint32_t, 4> out;
    philox4x32_10(counter.data(), key.data(), out.data());
    return out;
  }, py::arg("counter"), py::arg("key"), "The Philox4x32-10 bijection of one (counter, key).");
}

}  // namespace ember
