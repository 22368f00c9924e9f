#pragma once
/// @file
/// Text from files written in other code pages: C3D, TRC and MOT labels and descriptions
/// are often Windows-1252 / Latin-1 rather than UTF-8.

#include <string>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sportsmed {

/// True if @p s is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

/// Leaves @p s alone when it is valid UTF-8; otherwise decodes it as Windows-1252 (Latin-1
/// with printable characters in 0x80–0x9F; the five bytes it leaves undefined become
/// U+FFFD), re-encodes it as UTF-8 and returns true. Every byte maps to one character, so
/// the result is valid UTF-8 whatever the input.
bool utf8_or_latin1(std::string& s);

/// The lines of the text file @p path (without '\n' or a trailing '\r'), each made valid
/// UTF-8 by utf8_or_latin1; lines that needed it are counted in @p non_utf8.
/// @throws NotFound when @p path cannot be opened; FormatError when it is not a regular
/// file (a device such as /dev/zero never ends). @p who names the caller in messages.
std::vector<std::string> read_text_lines(const std::string& path, const char* who, std::int64_t* non_utf8 = nullptr);

}  // namespace sportsmed
