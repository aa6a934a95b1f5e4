# Registers a short smoke run of every fuzz target with CTest (fuzz.<X>).
# The full campaigns are run by hand: fuzz/run.sh X [seconds].
function(spate_register_fuzz_smoke bindir)
  file(GLOB fuzz_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${fuzz_srcs})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" short ${name})
    add_test(NAME fuzz.${short}
             COMMAND bash ${CMAKE_SOURCE_DIR}/fuzz/run.sh ${short} 20 ${bindir})
    set_tests_properties(fuzz.${short} PROPERTIES TIMEOUT 120)
  endforeach()
endfunction()
