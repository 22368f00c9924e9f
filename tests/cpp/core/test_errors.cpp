#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"

using namespace sportsmed;

TEST_CASE("errors: each kind throws its class, all catchable as Error", "[core][errors]") {
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::InvalidArgument, "x"), InvalidArgument);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::FormatError, "x"), FormatError);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::NotFound, "x"), NotFound);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::Cancelled, "x"), Cancelled);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::Error, "x"), Error);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::FormatError, "x"), Error);
    CHECK_THROWS_AS(detail::throw_error(ErrorKind::NotFound, "x"), std::runtime_error);
    // A FormatError is not an InvalidArgument: callers can tell bad files from bad calls.
    bool caught_as_invalid = false;
    try {
        detail::throw_error(ErrorKind::FormatError, "x");
    } catch (const InvalidArgument&) {
        caught_as_invalid = true;
    } catch (const Error&) {
    }
    CHECK_FALSE(caught_as_invalid);
}

TEST_CASE("errors: check macros format the message and pick the class", "[core][errors]") {
    // The macros are statements; wrap them so Catch2 can evaluate them as expressions.
    const int cols = 4;
    auto check_cols = [&](int expected) {
        SPORTSMED_CHECK(cols == expected, "filtfilt: expected {} columns, got {}", expected, cols);
    };
    CHECK_THROWS_WITH(check_cols(3), "filtfilt: expected 3 columns, got 4");
    CHECK_THROWS_AS(check_cols(3), InvalidArgument);
    CHECK_NOTHROW(check_cols(4));
    auto bad_file = [] { SPORTSMED_CHECK_AS(FormatError, false, "bad {}", "file"); };
    CHECK_THROWS_AS(bad_file(), FormatError);
    auto missing = [] { SPORTSMED_THROW(NotFound, "label '{}' not in '{}'", "LKNE", "a.c3d"); };
    CHECK_THROWS_WITH(missing(), "label 'LKNE' not in 'a.c3d'");
    CHECK(std::string(error_kind_name(ErrorKind::NotFound)) == "NotFound");
}
