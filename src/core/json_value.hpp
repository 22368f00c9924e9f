#pragma once
// Reading values out of nlohmann::json documents that come from files: every conversion
// is checked and raises FormatError naming the node. nlohmann's own get<int>() of a JSON
// number like 1e30 is an out-of-range floating-point cast (undefined behaviour) and its
// at() throws exception types callers forget to translate; these helpers do neither.
// Internal to the library (src/), header-only so that both halves can use it.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "sportsmed/core/error.hpp"

namespace sportsmed::json_value {

using nlohmann::json;

/// Largest array a file may hand to as<std::vector<T>>() (values, not bytes).
inline constexpr std::size_t kMaxArray = std::size_t{1} << 28;

template <typename T>
T as(const json& v, const std::string& where);

template <typename T>
std::vector<T> as_vector(const json& v, const std::string& where) {
    if (!v.is_array()) SPORTSMED_THROW(FormatError, "{}: expected an array", where);
    if (v.size() > kMaxArray) SPORTSMED_THROW(FormatError, "{}: {} values is too many", where, v.size());
    std::vector<T> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(as<T>(v[i], where + "[" + std::to_string(i) + "]"));
    return out;
}

/// @p v as T: booleans only from JSON booleans, integers only from JSON integers within
/// T's range, floating point from any finite JSON number, strings from strings, vectors
/// element by element.
template <typename T>
T as(const json& v, const std::string& where) {
    if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) SPORTSMED_THROW(FormatError, "{}: expected true or false", where);
        return v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer()) SPORTSMED_THROW(FormatError, "{}: expected an integer", where);
        if (v.is_number_unsigned()) {
            const auto x = v.get<std::uint64_t>();
            if (x > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                SPORTSMED_THROW(FormatError, "{}: {} is out of range", where, x);
            return static_cast<T>(x);
        }
        const auto x = v.get<std::int64_t>();
        if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            (x > 0 && static_cast<std::uint64_t>(x) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
            SPORTSMED_THROW(FormatError, "{}: {} is out of range", where, x);
        return static_cast<T>(x);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) SPORTSMED_THROW(FormatError, "{}: expected a number", where);
        const double x = v.get<double>();
        if (!std::isfinite(x)) SPORTSMED_THROW(FormatError, "{}: expected a finite number", where);
        return static_cast<T>(x);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string()) SPORTSMED_THROW(FormatError, "{}: expected a string", where);
        return v.get<std::string>();
    } else if constexpr (std::is_same_v<T, json>) {
        return v;
    } else {
        return as_vector<typename T::value_type>(v, where);
    }
}

/// The member @p key of object @p j as T; FormatError when @p j is not an object or lacks it.
template <typename T>
T member(const json& j, const char* key, const std::string& where) {
    if (!j.is_object()) SPORTSMED_THROW(FormatError, "{}: expected an object", where);
    const auto it = j.find(key);
    if (it == j.end()) SPORTSMED_THROW(FormatError, "{}: missing '{}'", where, key);
    return as<T>(*it, where + "." + key);
}

}  // namespace sportsmed::json_value
