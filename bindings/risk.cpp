// Python bindings of sportsmed::risk (submodule sportsmed._core.risk).
// The risk pillar has not landed yet: nothing is bound, and the Python package and CLI
// report it as unavailable.

#include "common.hpp"

namespace sportsmed::bindings {

void bind_risk(py::module_& /*m*/) {}

}  // namespace sportsmed::bindings
