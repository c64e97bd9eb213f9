# Warnings for project code only (third-party headers are SYSTEM includes).
add_library(memplast_warnings INTERFACE)
target_compile_options(memplast_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wcast-align -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
# Not -Wnull-dereference: GCC 12 reports it after inlining, so it fires inside
# nlohmann/json.hpp (lines 1311, 1360: m_type reads) for code that cannot be null.
# Under the sanitizers GCC 12 reports -Wmaybe-uninitialized inside libstdc++ (std::regex,
# std::function) for code that is initialized: the instrumentation defeats its analysis.
# The release build keeps the warning.
target_compile_options(memplast_warnings INTERFACE $<$<CONFIG:Asan>:-Wno-maybe-uninitialized>)
if(MEMPLAST_WERROR)
  target_compile_options(memplast_warnings INTERFACE -Werror)
endif()

# memplast_add_library(name ALIAS alias SOURCES ... DEPS ...)
function(memplast_add_library name)
  cmake_parse_arguments(A "" "ALIAS" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  add_library(memplast::${A_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/models ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${A_DEPS} PRIVATE memplast_warnings ${A_PRIVATE_DEPS})
endfunction()
