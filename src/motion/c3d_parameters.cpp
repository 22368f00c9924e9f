// C3D parameter and group containers: typed access, lookup.

#include <algorithm>
#include <cctype>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"

namespace sportsmed::motion {
namespace {

bool iequal(const std::string& a, const std::string& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) ==
                      std::toupper(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::size_t C3dParameter::size() const noexcept {
    return type == C3dType::Char ? strings.size() : numbers.size();
}

std::vector<double> C3dParameter::as_doubles() const {
    SPORTSMED_CHECK(type != C3dType::Char, "C3D parameter {} holds text, not numbers", name);
    return numbers;
}

std::vector<std::int64_t> C3dParameter::as_ints() const {
    SPORTSMED_CHECK(type != C3dType::Char, "C3D parameter {} holds text, not numbers", name);
    std::vector<std::int64_t> out(numbers.size());
    // A float-typed parameter read as integers: values outside int64 (or NaN) are not counts
    // or indices, and converting them would be undefined behaviour.
    std::transform(numbers.begin(), numbers.end(), out.begin(), [&](double v) {
        if (!(v > -9.2e18 && v < 9.2e18))
            SPORTSMED_THROW(FormatError, "C3D parameter {} holds {}, not an integer", name, v);
        return static_cast<std::int64_t>(v);
    });
    return out;
}

std::vector<std::int64_t> C3dParameter::as_uint16() const {
    std::vector<std::int64_t> out = as_ints();
    if (type == C3dType::Int16)
        for (auto& v : out)
            if (v < 0) v += 65536;
    return out;
}

const std::vector<std::string>& C3dParameter::as_strings() const {
    SPORTSMED_CHECK(type == C3dType::Char, "C3D parameter {} holds numbers, not text", name);
    return strings;
}

double C3dParameter::as_double(std::size_t i) const {
    SPORTSMED_CHECK(type != C3dType::Char && i < numbers.size(),
                    "C3D parameter {} has no numeric value {} ({} values)", name, i, numbers.size());
    return numbers[i];
}

std::int64_t C3dParameter::as_int(std::size_t i) const {
    return static_cast<std::int64_t>(as_double(i));
}

const std::string& C3dParameter::as_string(std::size_t i) const {
    SPORTSMED_CHECK(type == C3dType::Char && i < strings.size(),
                    "C3D parameter {} has no string {} ({} strings)", name, i, strings.size());
    return strings[i];
}

C3dParameter C3dParameter::numeric(std::string name, C3dType type, std::vector<double> values,
                                   std::string description) {
    SPORTSMED_CHECK(type != C3dType::Char, "C3dParameter::numeric: {} cannot be Char", name);
    C3dParameter p;
    p.name = std::move(name);
    p.description = std::move(description);
    p.type = type;
    p.dims = {static_cast<int>(values.size())};
    p.numbers = std::move(values);
    return p;
}

C3dParameter C3dParameter::text(std::string name, std::vector<std::string> values,
                                std::string description) {
    C3dParameter p;
    p.name = std::move(name);
    p.description = std::move(description);
    p.type = C3dType::Char;
    std::size_t longest = 0;
    for (auto& v : values) longest = std::max(longest, v.size());
    p.dims = {static_cast<int>(longest), static_cast<int>(values.size())};
    p.strings = std::move(values);
    return p;
}

const C3dParameter* C3dGroup::find(const std::string& key) const {
    for (const auto& p : parameters)
        if (iequal(p.name, key)) return &p;
    return nullptr;
}

void C3dGroup::set(C3dParameter parameter) {
    for (auto& p : parameters) {
        if (iequal(p.name, parameter.name)) {
            p = std::move(parameter);
            return;
        }
    }
    parameters.push_back(std::move(parameter));
}

void C3dGroup::remove(const std::string& key) {
    parameters.erase(std::remove_if(parameters.begin(), parameters.end(),
                                    [&](const C3dParameter& p) { return iequal(p.name, key); }),
                     parameters.end());
}

const C3dGroup* C3d::group(const std::string& name) const {
    for (const auto& g : groups)
        if (iequal(g.name, name)) return &g;
    return nullptr;
}

C3dGroup& C3d::group_or_add(const std::string& name) {
    for (auto& g : groups)
        if (iequal(g.name, name)) return g;
    groups.push_back(C3dGroup{name, {}, false, {}});
    return groups.back();
}

const C3dParameter* C3d::find(const std::string& g, const std::string& name) const {
    const C3dGroup* grp = group(g);
    return grp ? grp->find(name) : nullptr;
}

const C3dParameter& C3d::parameter(const std::string& g, const std::string& name) const {
    const C3dParameter* p = find(g, name);
    if (!p) SPORTSMED_THROW(NotFound, "C3D has no parameter {}:{}", g, name);
    return *p;
}

}  // namespace sportsmed::motion
