# Finds sportsmed's third-party dependencies. Included both by the project's own
# CMakeLists.txt and by the installed sportsmedConfig.cmake (with find_dependency), so
# that a downstream project resolves the same packages the library was built with.
#
# Every dependency comes from Debian 12 packages (see scripts/setup.sh). Torch may also
# come from the pip wheel's torch.utils.cmake_prefix_path (for CUDA builds): only APIs
# that LibTorch 1.13 and 2.x share are used.

if(NOT COMMAND find_dependency)
  include(CMakeFindDependencyMacro)
endif()

find_dependency(Eigen3 3.3 NO_MODULE)
find_dependency(fmt)
find_dependency(Threads)
if(NOT TARGET torch)
  # TorchConfig.cmake prints status lines and sets TORCH_CXX_FLAGS (the C++ ABI flag);
  # its imported target `torch` carries the same flags as usage requirements.
  find_dependency(Torch)
endif()

# --- seg ---
find_dependency(nlohmann_json 3)

# --- imaging ---
# zlib: gzip-compressed NIfTI (.nii.gz) and NRRD (encoding: gzip).
find_dependency(ZLIB)
# GDCM: DICOM series (any transfer syntax, including Explicit VR Big Endian).
if(NOT TARGET gdcmMSFF)
  find_dependency(GDCM)
endif()

# --- risk ---
# libxgboost (Debian libxgboost-dev) ships no CMake package: import it by hand.
if(NOT TARGET sportsmed_xgboost::xgboost)
  find_path(SPORTSMED_XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
  find_library(SPORTSMED_XGBOOST_LIBRARY NAMES xgboost REQUIRED)
  add_library(sportsmed_xgboost::xgboost UNKNOWN IMPORTED)
  set_target_properties(sportsmed_xgboost::xgboost PROPERTIES
    IMPORTED_LOCATION "${SPORTSMED_XGBOOST_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SPORTSMED_XGBOOST_INCLUDE_DIR}")
endif()
# nlohmann_json (header-only): NeuralRiskModel's model files.
find_dependency(nlohmann_json 3)
# --- end risk ---
