// Python bindings of sportsmed::motion (submodule sportsmed._core.motion).
// The motion pillar has not landed yet: nothing is bound, and the Python package and CLI
// report it as unavailable.

#include "common.hpp"

namespace sportsmed::bindings {

void bind_motion(py::module_& /*m*/) {}

}  // namespace sportsmed::bindings
