// The LibTorch side of the thread setting (part of sportsmed::torch).

#include <ATen/Parallel.h>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed {

void link_torch_threads() {
    detail::num_threads_hook().store([](int n) { at::set_num_threads(n); });
    at::set_num_threads(num_threads());
}

}  // namespace sportsmed
