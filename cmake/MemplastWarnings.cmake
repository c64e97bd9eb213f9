# Warnings for project code only (third-party headers are SYSTEM includes).
# The flags are build-tree only ($<BUILD_INTERFACE>): the target is exported with the
# package (cmake/MemplastPackage.cmake) but gives its users nothing.
add_library(memplast_warnings INTERFACE)
set(_memplast_warning_flags
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wcast-align -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
# Not -Wnull-dereference: GCC 12 reports it after inlining, so it fires inside
# nlohmann/json.hpp (lines 1311, 1360: m_type reads) for code that cannot be null.
# Under the sanitizers GCC 12 reports -Wmaybe-uninitialized inside libstdc++ (std::regex,
# std::function) for code that is initialized: the instrumentation defeats its analysis.
# The release build keeps the warning.
target_compile_options(memplast_warnings INTERFACE $<$<CONFIG:Asan>:-Wno-maybe-uninitialized>)
if(MEMPLAST_WERROR)
  list(APPEND _memplast_warning_flags -Werror)
endif()
foreach(flag ${_memplast_warning_flags})
  target_compile_options(memplast_warnings INTERFACE $<BUILD_INTERFACE:${flag}>)
endforeach()

# memplast_target_includes(target <PUBLIC|INTERFACE> dir...): the include roots of a
# library. In the build tree they are the given source/build directories (headers are
# included as "tile/tile_sc.hpp"); installed, they are <prefix>/include (for
# <memplast/tile/tile_sc.hpp>) and <prefix>/include/memplast (so that the installed
# headers' own "tile/..." includes resolve). See cmake/MemplastPackage.cmake.
function(memplast_target_includes target scope)
  foreach(dir ${ARGN})
    target_include_directories(${target} ${scope} $<BUILD_INTERFACE:${dir}>)
  endforeach()
  target_include_directories(${target} ${scope} $<INSTALL_INTERFACE:include>
                             $<INSTALL_INTERFACE:include/memplast>)
endfunction()

# memplast_export(target... ): installed and exported as memplast::<EXPORT_NAME> (the
# package's targets; see cmake/MemplastPackage.cmake).
function(memplast_export)
  set_property(GLOBAL APPEND PROPERTY MEMPLAST_EXPORTED_TARGETS ${ARGN})
endfunction()

# memplast_add_library(name ALIAS alias SOURCES ... DEPS ... [PRIVATE_DEPS ...] [NO_EXPORT])
# A static library with the alias memplast::<alias>; unless NO_EXPORT it is installed and
# exported under the same name.
function(memplast_add_library name)
  cmake_parse_arguments(A "NO_EXPORT" "ALIAS" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  add_library(memplast::${A_ALIAS} ALIAS ${name})
  memplast_target_includes(${name} PUBLIC ${PROJECT_SOURCE_DIR}/models ${PROJECT_SOURCE_DIR})
  # The warning flags are for building memplast only: not part of the exported interface.
  target_link_libraries(${name} PUBLIC ${A_DEPS}
                        PRIVATE $<BUILD_INTERFACE:memplast_warnings> ${A_PRIVATE_DEPS})
  if(NOT A_NO_EXPORT)
    set_target_properties(${name} PROPERTIES EXPORT_NAME ${A_ALIAS})
    memplast_export(${name})
  endif()
endfunction()
