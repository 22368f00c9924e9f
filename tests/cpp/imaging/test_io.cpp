#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "sportsmed/imaging.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;
namespace fs = std::filesystem;

namespace {
Geometry oblique_geometry() {
    Geometry g;
    g.shape = {7, 5, 4};
    g.spacing_mm = {0.5, 0.75, 2.0};
    g.origin_mm = {-10.25, 33.5, 7.0};
    const Eigen::Matrix3d r = Eigen::AngleAxisd(0.3, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
    g.direction = r;
    g.direction.col(2) *= -1.0;  // a left-handed frame exercises qfac = -1
    return g;
}
fs::path tmp(const std::string& name) { return fs::temp_directory_path() / ("sportsmed_test_" + name); }
}  // namespace

TEST_CASE("geometry: voxel_to_world and to_voxel are inverse, and the RAS affine flips x and y", "[imaging][io]") {
    const Geometry g = oblique_geometry();
    const Eigen::Vector3d ijk(1.5, -2.0, 3.25);
    const Eigen::Vector3d w = g.to_world(ijk);
    CHECK((g.to_voxel(w) - ijk).norm() < 1e-12);
    const Eigen::Vector4d h = g.voxel_to_world() * ijk.homogeneous();
    CHECK((h.head<3>() - w).norm() < 1e-12);
    const Eigen::Vector4d ras = g.affine_ras() * ijk.homogeneous();
    CHECK(ras[0] == Approx(-w[0]));
    CHECK(ras[1] == Approx(-w[1]));
    CHECK(ras[2] == Approx(w[2]));
    const Geometry back = Geometry::from_affine(g.affine_ras(), g.shape, true);
    CHECK(back.same_grid(g, 1e-12));
}

TEST_CASE("nifti: write -> read round trip is exact for NIfTI-1/2, plain and gzip", "[imaging][io]") {
    Volume<std::int16_t> v(oblique_geometry());
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> dist(-32768, 32767);
    for (auto& x : v.values()) x = static_cast<std::int16_t>(dist(rng));
    Image img = Image::from_volume(v);
    img.scaled = true;
    img.scl_slope = 0.5;
    img.scl_inter = -3.0;
    for (int version : {1, 2}) {
        for (const char* ext : {".nii", ".nii.gz"}) {
            const fs::path p = tmp("rt" + std::to_string(version) + ext);
            write_nifti(img, p.string(), version);
            const Image back = read_nifti(p.string());
            CHECK(back.dtype == DType::Int16);
            CHECK(back.bytes == img.bytes);
            CHECK(back.scaled);
            CHECK(back.scl_slope == 0.5);
            CHECK(back.scl_inter == -3.0);
            // NIfTI-1 stores the affine in float32.
            CHECK(back.geometry.same_grid(img.geometry, version == 1 ? 1e-5 : 1e-12));
            const Volume<double> d = back.as_volume<double>();
            CHECK(d(3, 2, 1) == Approx(0.5 * v(3, 2, 1) - 3.0));
            fs::remove(p);
        }
    }
}

TEST_CASE("nifti: truncated and corrupt files raise FormatError naming the file", "[imaging][io]") {
    Volume<float> v(oblique_geometry(), 1, 1.5f);
    const fs::path p = tmp("trunc.nii");
    write_nifti(Image::from_volume(v), p.string());
    const auto size = fs::file_size(p);
    fs::resize_file(p, size - 10);
    try {
        read_nifti(p.string());
        FAIL("no exception");
    } catch (const FormatError& e) {
        CHECK(std::string(e.what()).find("shorter than the header says") != std::string::npos);
        CHECK(std::string(e.what()).find(p.string()) != std::string::npos);
    }
    fs::resize_file(p, 100);
    CHECK_THROWS_AS(read_nifti(p.string()), FormatError);
    {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << std::string(400, 'x');
    }
    CHECK_THROWS_AS(read_nifti(p.string()), FormatError);
    fs::remove(p);
    CHECK_THROWS_AS(read_nifti(p.string()), NotFound);

    const fs::path pz = tmp("trunc.nii.gz");
    write_nifti(Image::from_volume(v), pz.string());
    fs::resize_file(pz, fs::file_size(pz) / 2);
    CHECK_THROWS_AS(read_nifti(pz.string()), FormatError);
    fs::remove(pz);
}

TEST_CASE("nrrd: round trip keeps data and oblique geometry", "[imaging][io]") {
    Volume<std::uint16_t> v(oblique_geometry());
    for (std::int64_t i = 0; i < v.size(); ++i) v.data()[i] = static_cast<std::uint16_t>(i * 37);
    for (bool gz : {false, true}) {
        const fs::path p = tmp(gz ? "rt.nrrd" : "rt_raw.nrrd");
        write_nrrd(Image::from_volume(v), p.string(), gz);
        const Image back = read_nrrd(p.string());
        CHECK(back.dtype == DType::UInt16);
        CHECK(back.geometry.same_grid(v.geometry(), 1e-12));
        CHECK(back.as_volume<std::uint16_t>().values() == v.values());
        fs::remove(p);
    }
}

TEST_CASE("nrrd: knee label map reads with oblique LPS directions", "[imaging][io]") {
    SHARED_DATA_OR_SKIP(path, "mri/knee_labels_pymskt.nrrd");
    const Image img = read_nrrd(path.string());
    CHECK(img.dims == std::vector<std::int64_t>{384, 384, 160});
    CHECK(img.dtype == DType::UInt8);
    // From the header: space directions (-0.03178,0.36320,0) (0,0,-0.36458) (-0.69734,-0.06101,0).
    CHECK(img.geometry.spacing_mm[0] == Approx(0.3645833).epsilon(1e-6));
    CHECK(img.geometry.spacing_mm[2] == Approx(0.7).epsilon(1e-6));
    CHECK(img.geometry.direction(1, 0) == Approx(0.36319597994442016 / 0.3645833).epsilon(1e-5));
    CHECK(img.geometry.origin_mm[0] == Approx(-6.6536341));
    CHECK(img.geometry.orthonormality_error() < 1e-6);
}
