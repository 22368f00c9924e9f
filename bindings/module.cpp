// Entry point of the extension module sportsmed._core (no LibTorch; sportsmed._torch has it).

#include "common.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "sportsmed compiled core (use the `sportsmed` package, not this module)";
    m.attr("__version__") = SPORTSMED_MODULE_VERSION;
    // Core first: it registers the exception classes the pillars' functions raise.
    sportsmed::bindings::bind_core(m);
    sportsmed::bindings::bind_motion(m);
    sportsmed::bindings::bind_imaging(m);
    sportsmed::bindings::bind_risk(m);
}
