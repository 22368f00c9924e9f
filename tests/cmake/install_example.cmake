# Installs the build in BUILD_DIR into WORK_DIR/prefix, then builds and runs the
# downstream example in EXAMPLE_DIR with only -DCMAKE_PREFIX_PATH pointing there.
foreach(var BUILD_DIR EXAMPLE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_example.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
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
run(${CMAKE_COMMAND} -S "${EXAMPLE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/sportsmed_example")
