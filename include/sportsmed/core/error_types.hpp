#pragma once
/// @file
/// The error classes of sportsmed, without the fmt-based check macros (error.hpp): the
/// header-only kernels (include/sportsmed/<pillar>/kernels/) throw these with a plain
/// std::string message, so that they need neither fmt nor a compiled sportsmed library.

#include <stdexcept>

namespace sportsmed {

/// Base class of every error sportsmed raises.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An argument has the wrong shape, range or value (Python: ValueError).
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/// A file exists but its content is malformed or unsupported (Python: ValueError).
class FormatError : public Error {
public:
    using Error::Error;
};

/// A file, key, label or parameter does not exist (Python: FileNotFoundError).
class NotFound : public Error {
public:
    using Error::Error;
};

/// A long operation stopped because its progress callback asked it to.
class Cancelled : public Error {
public:
    using Error::Error;
};

}  // namespace sportsmed
