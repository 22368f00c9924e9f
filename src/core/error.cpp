#include "sportsmed/core/error.hpp"

namespace sportsmed {

const char* error_kind_name(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::InvalidArgument: return "InvalidArgument";
        case ErrorKind::FormatError: return "FormatError";
        case ErrorKind::NotFound: return "NotFound";
        case ErrorKind::Cancelled: return "Cancelled";
        case ErrorKind::Error: break;
    }
    return "Error";
}

namespace detail {

#if defined(__GNUC__) || defined(__clang__)
__attribute__((cold, noinline))
#endif
void throw_error(ErrorKind kind, std::string message) {
    switch (kind) {
        case ErrorKind::InvalidArgument: throw InvalidArgument(message);
        case ErrorKind::FormatError: throw FormatError(message);
        case ErrorKind::NotFound: throw NotFound(message);
        case ErrorKind::Cancelled: throw Cancelled(message);
        case ErrorKind::Error: break;
    }
    throw Error(message);
}

}  // namespace detail
}  // namespace sportsmed
