# Finds the third-party packages of one sportsmed component. Included both by the
# project's own CMakeLists.txt (every component, REQUIRED) and by the installed
# sportsmedConfig.cmake (only the components a consumer asks for, quietly), so that a
# downstream project resolves the same packages the library was built with.
#
#   component   what it needs (beyond the components it links)
#   kernels     Eigen 3.3+                               (header-only templates)
#   core        Eigen 3.3+, fmt, Threads                 (public: they appear in headers)
#   motion      —                                        (core only)
#   imaging     zlib (.nii.gz, gzip NRRD), GDCM (DICOM)  (private, link-only when static)
#   risk        libxgboost, nlohmann_json                (private, link-only when static)
#   seg         LibTorch, nlohmann_json, zlib            (seg and NeuralRiskModel; private)
#
# Only `seg` looks for Torch: a consumer of core, motion, imaging or risk configures and
# links on a machine without LibTorch.
#
# Every dependency comes from Debian 12 packages (see scripts/setup.sh). Torch may also
# come from the pip wheel's torch.utils.cmake_prefix_path (for CUDA builds): only APIs
# that LibTorch 1.13 and 2.x share are used.

# sportsmed_find_dependencies(<component> <result-var> REQUIRED|QUIET)
# Sets <result-var> to TRUE when every package of <component> was found, else to FALSE
# and SPORTSMED_MISSING_DEPENDENCY to the first missing one. A macro (not a function):
# find_package's variables (Torch_VERSION, ...) and imported targets must reach the caller.
macro(sportsmed_find_dependencies _sm_component _sm_result _sm_mode)
  set(${_sm_result} TRUE)
  set(SPORTSMED_MISSING_DEPENDENCY "")
  if("${_sm_mode}" STREQUAL "REQUIRED")
    set(_sm_find_args REQUIRED)
  else()
    set(_sm_find_args QUIET)
  endif()
  # GDCM's Debian package lists executables it does not ship and TorchConfig prints its
  # own status lines; neither says anything a consumer can act on, so hide STATUS output
  # (errors and warnings still show).
  set(_sm_saved_log_level "${CMAKE_MESSAGE_LOG_LEVEL}")
  if(NOT "${_sm_mode}" STREQUAL "REQUIRED" OR NOT SPORTSMED_VERBOSE_DEPENDENCIES)
    set(CMAKE_MESSAGE_LOG_LEVEL NOTICE)
  endif()

  if("${_sm_component}" STREQUAL "kernels")
    set(_sm_pkgs Eigen3)
  elseif("${_sm_component}" STREQUAL "core")
    set(_sm_pkgs Eigen3 fmt Threads)
  else()
    set(_sm_pkgs "")
  endif()
  foreach(_sm_pkg ${_sm_pkgs})
    if(NOT ${_sm_pkg}_FOUND)
      if(_sm_pkg STREQUAL "Eigen3")
        find_package(Eigen3 3.3 NO_MODULE ${_sm_find_args})
      else()
        find_package(${_sm_pkg} ${_sm_find_args})
      endif()
    endif()
    if(NOT ${_sm_pkg}_FOUND AND ${_sm_result})
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY ${_sm_pkg})
    endif()
  endforeach()

  if("${_sm_component}" STREQUAL "kernels" OR "${_sm_component}" STREQUAL "core"
     OR "${_sm_component}" STREQUAL "motion")
    # nothing beyond the packages above
  elseif("${_sm_component}" STREQUAL "imaging")
    if(NOT TARGET ZLIB::ZLIB)
      find_package(ZLIB ${_sm_find_args})
    endif()
    if(NOT TARGET gdcmMSFF)
      find_package(GDCM ${_sm_find_args})
    endif()
    if(NOT TARGET ZLIB::ZLIB)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY ZLIB)
    elseif(NOT TARGET gdcmMSFF)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY GDCM)
    endif()

  elseif("${_sm_component}" STREQUAL "risk")
    # libxgboost (Debian libxgboost-dev) ships no CMake package: import it by hand.
    if(NOT TARGET sportsmed_xgboost::xgboost)
      find_path(SPORTSMED_XGBOOST_INCLUDE_DIR xgboost/c_api.h ${_sm_find_args})
      find_library(SPORTSMED_XGBOOST_LIBRARY NAMES xgboost ${_sm_find_args})
      if(SPORTSMED_XGBOOST_INCLUDE_DIR AND SPORTSMED_XGBOOST_LIBRARY)
        add_library(sportsmed_xgboost::xgboost UNKNOWN IMPORTED)
        set_target_properties(sportsmed_xgboost::xgboost PROPERTIES
          IMPORTED_LOCATION "${SPORTSMED_XGBOOST_LIBRARY}"
          INTERFACE_INCLUDE_DIRECTORIES "${SPORTSMED_XGBOOST_INCLUDE_DIR}")
      endif()
    endif()
    if(NOT TARGET nlohmann_json::nlohmann_json)
      find_package(nlohmann_json 3 ${_sm_find_args})
    endif()
    if(NOT TARGET sportsmed_xgboost::xgboost)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY xgboost)
    elseif(NOT TARGET nlohmann_json::nlohmann_json)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY nlohmann_json)
    endif()

  elseif("${_sm_component}" STREQUAL "seg")
    # TorchConfig.cmake sets TORCH_CXX_FLAGS (the C++ ABI flag); its imported target
    # `torch` carries the same flags as usage requirements.
    if(NOT TARGET torch)
      find_package(Torch ${_sm_find_args})
    endif()
    if(NOT TARGET nlohmann_json::nlohmann_json)
      find_package(nlohmann_json 3 ${_sm_find_args})
    endif()
    if(NOT TARGET ZLIB::ZLIB)   # CRC-32 checks of model archives
      find_package(ZLIB ${_sm_find_args})
    endif()
    if(NOT TARGET torch)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY Torch)
    elseif(NOT TARGET nlohmann_json::nlohmann_json)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY nlohmann_json)
    elseif(NOT TARGET ZLIB::ZLIB)
      set(${_sm_result} FALSE)
      set(SPORTSMED_MISSING_DEPENDENCY ZLIB)
    endif()

  else()
    message(FATAL_ERROR "sportsmed_find_dependencies: unknown component '${_sm_component}'")
  endif()

  if(_sm_saved_log_level)
    set(CMAKE_MESSAGE_LOG_LEVEL "${_sm_saved_log_level}")
  else()
    unset(CMAKE_MESSAGE_LOG_LEVEL)
  endif()
  unset(_sm_saved_log_level)
  unset(_sm_find_args)
  unset(_sm_pkgs)
endmacro()
