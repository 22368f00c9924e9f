// Python bindings of sportsmed::seg (submodule sportsmed._core.seg).
// The seg pillar has not landed yet: nothing is bound, and the Python package and CLI
// report it as unavailable.

#include "common.hpp"

namespace sportsmed::bindings {

void bind_seg(py::module_& /*m*/) {}

}  // namespace sportsmed::bindings
