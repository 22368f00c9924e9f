// The float and double instantiations of the header-only motion kernels
// (include/sportsmed/motion/kernels/): compiled once here, declared `extern template` in
// the headers unless SPORTSMED_HEADER_ONLY is defined.

#include "sportsmed/motion/kernels/butterworth.hpp"
#include "sportsmed/motion/kernels/rotation.hpp"

namespace sportsmed::motion::kernels {

#define SPORTSMED_INSTANTIATE(S)                                                                                \
    template Butterworth<S> butter<S>(int, S, FilterKind);                                                     \
    template Vector<S> lfilter_zi<S>(const std::vector<S>&, const std::vector<S>&);                            \
    template void lfilter<S>(const std::vector<S>&, const std::vector<S>&, const S*, S*, std::int64_t, S*);     \
    template void filtfilt_segment<S>(const std::vector<S>&, const std::vector<S>&, const Vector<S>&, const S*, \
                                      std::int64_t, S*, std::vector<S>&, std::vector<S>&, std::vector<S>&);    \
    template Matrix3<S> euler_to_matrix<S>(const EulerSequence&, const Vector3<S>&);                           \
    template Vector3<S> matrix_to_euler<S>(const EulerSequence&, const Matrix3<S>&);                           \
    template Vector3<S> grood_suntay<Matrix3<S>, Matrix3<S>>(const Eigen::MatrixBase<Matrix3<S>>&,              \
                                                             const Eigen::MatrixBase<Matrix3<S>>&);
SPORTSMED_INSTANTIATE(float)
SPORTSMED_INSTANTIATE(double)
#undef SPORTSMED_INSTANTIATE

}  // namespace sportsmed::motion::kernels
