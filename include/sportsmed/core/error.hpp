#pragma once
/// @file
/// The error hierarchy of sportsmed and the check macros that raise it.
///
/// Every error derives from sportsmed::Error (itself a std::runtime_error). Library
/// code never calls abort() or exit(): an error always reaches the caller, and in
/// Python each class maps to its own exception (sportsmed.FormatError is a ValueError,
/// sportsmed.NotFound a FileNotFoundError, ...).
///
/// Messages say where, what was got and what was expected, e.g.
/// "read_c3d: parameter section at block 3 ends at byte 1532, past the end of the
/// 1024-byte file 'trial.c3d'".

#include <string>
#include <utility>

#include <fmt/format.h>

#include "sportsmed/core/error_types.hpp"

namespace sportsmed {

/// Tags for the error classes, so that one compiled function can raise any of them.
enum class ErrorKind { Error, InvalidArgument, FormatError, NotFound, Cancelled };

/// Name of the error class for @p kind ("FormatError", ...).
const char* error_kind_name(ErrorKind kind) noexcept;

namespace detail {

/// Throws the exception class for @p kind with @p message. Kept out of line and cold
/// so that checks cost one predictable branch at the call site.
[[noreturn]] void throw_error(ErrorKind kind, std::string message);

/// Formats a message with fmt (format string checked at compile time) and throws.
template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
    throw_error(kind, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace detail
}  // namespace sportsmed

#if defined(__GNUC__) || defined(__clang__)
#define SPORTSMED_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SPORTSMED_UNLIKELY(x) (x)
#endif

/// Raises sportsmed::<Kind> with an fmt-formatted message, e.g.
/// `SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}' has {} columns, expected {}", ...)`.
#define SPORTSMED_THROW(Kind, ...) ::sportsmed::detail::fail(::sportsmed::ErrorKind::Kind, __VA_ARGS__)

/// Raises sportsmed::InvalidArgument unless @p cond holds:
/// `SPORTSMED_CHECK(x.cols() == 3, "filtfilt: expected 3 columns, got {}", x.cols())`.
#define SPORTSMED_CHECK(cond, ...)                                                      \
    do {                                                                                \
        if (SPORTSMED_UNLIKELY(!(cond)))                                                \
            ::sportsmed::detail::fail(::sportsmed::ErrorKind::InvalidArgument, __VA_ARGS__); \
    } while (0)

/// Like SPORTSMED_CHECK but raises sportsmed::<Kind> (FormatError for bad files, ...).
#define SPORTSMED_CHECK_AS(Kind, cond, ...)                                             \
    do {                                                                                \
        if (SPORTSMED_UNLIKELY(!(cond)))                                                \
            ::sportsmed::detail::fail(::sportsmed::ErrorKind::Kind, __VA_ARGS__);       \
    } while (0)
