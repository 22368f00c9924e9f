// Python bindings of sportsmed::imaging (submodule sportsmed._core.imaging).
// The imaging pillar has not landed yet: nothing is bound, and the Python package and CLI
// report it as unavailable.

#include "common.hpp"

namespace sportsmed::bindings {

void bind_imaging(py::module_& /*m*/) {}

}  // namespace sportsmed::bindings
