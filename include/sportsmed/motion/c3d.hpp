#pragma once
/// @file
/// C3D files (www.c3d.org): reader for Intel, DEC (VAX F-float) and MIPS (big-endian)
/// files with int16 or float storage, and an Intel-float writer.
///
/// Reading follows the header's pointers to the parameter and data sections (the key byte
/// 0x50 is not required), decodes every parameter (char, byte, int16, float) with its
/// dimensions, gathers labels continued in LABELS2, LABELS3 …, the EVENT group and the
/// header events, applies POINT:SCALE to int16 points, maps negative residuals and exact
/// (0, 0, 0) samples to NaN, and scales analog channels as (raw − OFFSET[c]) · SCALE[c] ·
/// GEN_SCALE, with OFFSET read in the converter's signedness (ANALOG:FORMAT, else unsigned
/// when float-stored samples exceed 32767).
///
/// Conventions are read from the file, and what the reader had to decide is a warning:
/// - the frame count: float POINT:FRAMES, POINT:LONG_FRAMES, TRIAL:ACTUAL_START_FIELD /
///   ACTUAL_END_FIELD (the end field alone counts from the header's first frame), the
///   largest wins; a saturated 65535 or POINT:FRAMES = −1 alone reads the complete frames
///   the data section holds;
/// - the frame layout: when POINT:USED / header word 2 or header word 3 / ANALOG:USED ×
///   ratio disagree and only the alternative fills the data section, the alternative;
/// - a parameter section whose records run past its declared block count is read up to
///   the data section;
/// - text that is not UTF-8 is read as Windows-1252 / Latin-1;
/// - the ROTATION group (rigid bodies) is read into C3d::rotations;
/// - duplicate point labels are listed (address them with Trial::marker(label, occurrence)).

#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Processor (number format) of a C3D file: parameter-section byte 4 is 84, 85 or 86.
enum class C3dProcessor : int { Intel = 84, Dec = 85, Mips = 86 };

/// Storage type of a C3D parameter, as its type byte.
enum class C3dType : int { Char = -1, Byte = 1, Int16 = 2, Float = 4 };

/// One C3D parameter with its dimensions and decoded values.
struct C3dParameter {
    std::string name;         ///< e.g. "LABELS"
    std::string description;  ///< free text
    C3dType type = C3dType::Int16;
    std::vector<int> dims;    ///< C3D order: first dimension varies fastest; empty = scalar
    bool locked = false;      ///< negative name length in the file
    /// Char parameters: the strings (dims[0] characters each, trailing blanks removed);
    /// their number is the product of dims[1..] (1 when dims has one entry).
    std::vector<std::string> strings;
    /// Byte (0…255), Int16 (signed) and Float parameters: values in file order.
    std::vector<double> numbers;

    /// Number of values (numbers) or strings (strings).
    std::size_t size() const noexcept;
    /// Values as doubles. @throws InvalidArgument for a Char parameter.
    std::vector<double> as_doubles() const;
    /// Values as integers (floats truncated). @throws InvalidArgument for a Char parameter.
    std::vector<std::int64_t> as_ints() const;
    /// Int16 values reinterpreted as unsigned (C3D counts above 32767 such as POINT:USED).
    std::vector<std::int64_t> as_uint16() const;
    /// Strings. @throws InvalidArgument unless the parameter is Char.
    const std::vector<std::string>& as_strings() const;
    /// Value i as a double. @throws InvalidArgument if absent.
    double as_double(std::size_t i = 0) const;
    /// Value i as an integer. @throws InvalidArgument if absent.
    std::int64_t as_int(std::size_t i = 0) const;
    /// String i. @throws InvalidArgument if absent.
    const std::string& as_string(std::size_t i = 0) const;

    /// Makes a parameter holding @p values as Int16, Float or Byte (1-D).
    static C3dParameter numeric(std::string name, C3dType type, std::vector<double> values,
                                std::string description = {});
    /// Makes a Char parameter holding @p values (2-D: longest length × count).
    static C3dParameter text(std::string name, std::vector<std::string> values,
                             std::string description = {});
};

/// One C3D parameter group.
struct C3dGroup {
    std::string name;
    std::string description;
    bool locked = false;
    std::vector<C3dParameter> parameters;

    /// The parameter @p name (case-insensitive), or nullptr.
    const C3dParameter* find(const std::string& name) const;
    /// Adds or replaces a parameter.
    void set(C3dParameter parameter);
    /// Removes the parameter @p name if present.
    void remove(const std::string& name);
};

/// An event stored in the C3D header (at most 18, four-character labels).
struct C3dHeaderEvent {
    std::string label;
    double time_s = 0.0;
    bool displayed = true;
};

/// The 512-byte C3D header, decoded.
struct C3dHeader {
    int parameter_block = 2;        ///< 1-based block of the parameter section
    int n_points = 0;               ///< word 2
    int analog_per_frame = 0;       ///< word 3: analog samples per 3D frame, all channels
    int first_frame = 1;            ///< word 4 (1-based)
    int last_frame = 0;             ///< word 5
    int max_gap = 0;                ///< word 6
    double scale = -1.0;            ///< words 7-8 (negative: float storage)
    int data_block = 0;             ///< word 9: 1-based block of the data section
    int analog_ratio = 0;           ///< word 10: analog samples per frame per channel
    double frame_rate_hz = 0.0;     ///< words 11-12
    std::vector<C3dHeaderEvent> events;
};

/// Rigid-body data of the C3D rotation extension (ROTATION group: USED, DATA_START,
/// RATIO or RATE, LABELS): per sample and body a 4 × 4 homogeneous transform and a
/// reliability, stored as floats in a section of their own.
struct C3dRotations {
    std::vector<std::string> labels;  ///< one per body (ROTATION:LABELS, else "ROTATION<i>")
    double rate_hz = 0.0;             ///< samples per second (point rate × RATIO)
    /// samples × (16 · bodies): body b's transform in columns 16b … 16b+15, row-major
    /// (rotation in the upper 3 × 3, translation in point units in the last column);
    /// NaN where the reliability is negative (not tracked).
    RowMatXd matrices;
    RowMatXd reliability;  ///< samples × bodies, as stored
};

/// A C3D file in memory: header, parameters and the decoded trial.
struct C3d {
    C3dProcessor processor = C3dProcessor::Intel;
    bool float_storage = true;  ///< POINT:SCALE < 0
    C3dHeader header;
    std::vector<C3dGroup> groups;
    Trial trial;  ///< points (scaled, NaN where invalid), analogs (scaled), EVENT group
    /// frames × markers camera masks (high byte of the fourth point word).
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> camera_masks;
    C3dRotations rotations;             ///< rigid bodies, when the file has a ROTATION group
    std::vector<std::string> warnings;  ///< what a best-effort read skipped or assumed

    /// Group @p name (case-insensitive), or nullptr.
    const C3dGroup* group(const std::string& name) const;
    /// Group @p name, created if absent.
    C3dGroup& group_or_add(const std::string& name);
    /// Parameter GROUP:NAME or nullptr.
    const C3dParameter* find(const std::string& group, const std::string& name) const;
    /// Parameter GROUP:NAME. @throws NotFound naming it.
    const C3dParameter& parameter(const std::string& group, const std::string& name) const;
};

/// How strictly read_c3d treats a data section shorter than declared.
struct C3dReadOptions {
    /// When the file ends before the declared last frame, read the complete frames it
    /// holds and record a warning (true), or raise FormatError (false).
    bool allow_short_data = true;
};

/// Reads a C3D file.
/// @throws NotFound if the file cannot be opened; FormatError naming the file and the byte
///         offset for a truncated header or parameter section, an unknown processor, a
///         parameter record pointing outside the file, or (strict mode) a short data section.
/// Best effort: a parameter record with a negative next-record offset (c3d.org Sample18,
/// "bad_parameter_section") ends the parameter list there, and a warning says so.
C3d read_c3d(const std::string& path, const C3dReadOptions& options = {});

/// Decodes a C3D image held in memory; @p name is used in error messages.
C3d decode_c3d(const std::uint8_t* data, std::size_t size, const std::string& name,
               const C3dReadOptions& options = {});

/// Encodes @p c3d as an Intel, float-storage C3D image. POINT, ANALOG, TRIAL and EVENT
/// parameters are regenerated from c3d.trial (labels beyond 255 continue in LABELS2 …;
/// analogs are written already scaled, with SCALE 1, OFFSET 0, GEN_SCALE 1); every other
/// group and parameter is written as read, but for the ROTATION group, whose data section
/// is not written (rigid-body data are dropped).
/// @throws InvalidArgument when something cannot be represented (a string over 255
///         characters, more than 255 analog channels).
std::vector<std::uint8_t> encode_c3d(const C3d& c3d);

/// Writes encode_c3d(c3d) to @p path (through a temporary file renamed into place).
void write_c3d(const std::string& path, const C3d& c3d);

/// Wraps a trial into a C3d with the minimal parameter set (POINT, ANALOG, TRIAL, EVENT).
C3d c3d_from_trial(const Trial& trial);

/// Writes @p trial as a C3D file (c3d_from_trial then write_c3d).
void write_c3d(const std::string& path, const Trial& trial);

}  // namespace sportsmed::motion
