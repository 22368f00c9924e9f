// The float and double instantiations of the header-only workload kernels
// (include/sportsmed/risk/kernels/workload.hpp): compiled once here, declared
// `extern template` in the header unless SPORTSMED_HEADER_ONLY is defined.

#include "sportsmed/risk/kernels/workload.hpp"

namespace sportsmed::risk::kernels {

#define SPORTSMED_INSTANTIATE(S)                                                 \
    template Vector<S> rolling_sum<S>(const VectorCRef<S>&, int, int);          \
    template Vector<S> rolling_mean<S>(const VectorCRef<S>&, int, int);         \
    template Vector<S> rolling_std<S>(const VectorCRef<S>&, int, int);          \
    template Vector<S> ewma<S>(const VectorCRef<S>&, int);                      \
    template Vector<S> rolling_acwr<S>(const VectorCRef<S>&, int, int, int);    \
    template Vector<S> ewma_acwr<S>(const VectorCRef<S>&, int, int);
SPORTSMED_INSTANTIATE(float)
SPORTSMED_INSTANTIATE(double)
#undef SPORTSMED_INSTANTIATE

}  // namespace sportsmed::risk::kernels
