# Installs the build in BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs
# the downstream project in EXAMPLE_DIR with only -DCMAKE_PREFIX_PATH pointing there
# (fmt's find-package test).
#   COMPONENTS    comma-separated list passed to the project as -DSPORTSMED_EXAMPLE_COMPONENTS
#                 (examples/cpp builds the programs of those components only)
#   NO_TORCH      ON: Torch is made unfindable (CMAKE_DISABLE_FIND_PACKAGE_Torch, a Torch_DIR
#                 that does not exist), every built program is checked with ldd to load no
#                 libtorch/libc10, and a consumer asking for `seg` must fail to configure
#                 with a message naming Torch.
#   RUN           comma-separated list of programs (in the build folder) to run; each must exit 0.
foreach(var BUILD_DIR EXAMPLE_DIR WORK_DIR RUN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_example.cmake: ${var} is not set")
  endif()
endforeach()

string(REPLACE "," ";" COMPONENTS "${COMPONENTS}")
string(REPLACE "," ";" RUN "${RUN}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc WORKING_DIRECTORY "${WORK_DIR}")
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "install_example.cmake: '${cmd}' failed with ${rc}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/lib/cmake/sportsmed/sportsmedConfig.cmake"
   AND NOT EXISTS "${prefix}/lib64/cmake/sportsmed/sportsmedConfig.cmake")
  message(FATAL_ERROR "install_example.cmake: no sportsmedConfig.cmake under ${prefix}")
endif()

# (--no-warn-unused-cli: with NO_TORCH, the Torch settings go unused — nothing looks for
# Torch — and CMake would warn about that.)
set(args --no-warn-unused-cli "-DCMAKE_PREFIX_PATH=${prefix}")
if(GENERATOR)
  list(APPEND args -G "${GENERATOR}")
endif()
if(COMPONENTS)
  string(REPLACE ";" "\\;" components "${COMPONENTS}")
  list(APPEND args "-DSPORTSMED_EXAMPLE_COMPONENTS=${components}")
endif()
if(NO_TORCH)
  list(APPEND args -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON "-DTorch_DIR=${WORK_DIR}/no-torch-here")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -S "${EXAMPLE_DIR}" -B "${WORK_DIR}/build" ${args}
  RESULT_VARIABLE rc OUTPUT_VARIABLE configure_out ERROR_VARIABLE configure_err)
message("${configure_out}${configure_err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install_example.cmake: configuring ${EXAMPLE_DIR} failed with ${rc}")
endif()
# Configuring a consumer is quiet: no warnings from sportsmed's dependencies (GDCM's
# Debian package used to add 15 'imported target references the file' lines).
if("${configure_out}${configure_err}" MATCHES "references the file|CMake Warning")
  message(FATAL_ERROR "install_example.cmake: configuring the consumer printed warnings")
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")

foreach(program ${RUN})
  set(exe "${WORK_DIR}/build/${program}")
  if(NOT EXISTS "${exe}")
    message(FATAL_ERROR "install_example.cmake: ${exe} was not built")
  endif()
  if(NO_TORCH)
    execute_process(COMMAND ldd "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE ldd_out)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "install_example.cmake: ldd ${exe} failed with ${rc}")
    endif()
    if(ldd_out MATCHES "lib(torch|c10)[^ ]*\\.so")
      message(FATAL_ERROR "install_example.cmake: ${program} loads LibTorch:\n${ldd_out}")
    endif()
  endif()
  message(STATUS "running ${program}")
  run("${exe}")
endforeach()

if(NO_TORCH)
  # The other side: a consumer that asks for seg cannot configure without Torch, and
  # says why.
  set(seg_dir "${WORK_DIR}/seg-consumer")
  file(WRITE "${seg_dir}/CMakeLists.txt"
    "cmake_minimum_required(VERSION 3.18)\nproject(seg_consumer LANGUAGES CXX)\n"
    "find_package(sportsmed REQUIRED COMPONENTS core seg)\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${seg_dir}" -B "${seg_dir}/build" ${args}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "install_example.cmake: COMPONENTS seg configured without Torch")
  endif()
  if(NOT "${out}${err}" MATCHES "seg \\(needs Torch, not found\\)")
    message(FATAL_ERROR "install_example.cmake: the seg failure does not name Torch:\n${out}${err}")
  endif()
endif()
