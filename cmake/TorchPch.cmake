# One precompiled <torch/torch.h> for every file that includes it.
#
# Parsing LibTorch's umbrella header costs about 20 s per translation unit on
# the 2-core machine, and some seventy files include it; compiled once into a
# precompiled header, each of them loads it instead. Files that do not include
# it compile as before (loading the 700 MB header would slow them down).
#
# The header is built by one object library and shared with REUSE_FROM, so
# every consumer must compile with the same language and optimisation flags
# (they do: those come from the top-level CMakeLists for all targets).
option(UPM_PCH "Precompile <torch/torch.h> once and reuse it in every file that includes it" ON)

if(UPM_PCH)
  add_library(upm_torch_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/torch_pch.cpp)
  target_link_libraries(upm_torch_pch PRIVATE ${UPM_DEPENDENCY_LIBS})
  target_precompile_headers(upm_torch_pch PRIVATE <torch/torch.h>)
endif()

# Gives the sources of `target` that include <torch/torch.h> the shared
# precompiled header. Which files include it is read at configure time; a
# file that gains or loses the include still compiles correctly, only at the
# other speed, until the next configure.
function(upm_use_torch_pch target)
  if(NOT UPM_PCH)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(uses_torch FALSE)
  foreach(source ${sources})
    if(NOT IS_ABSOLUTE "${source}")
      set(source "${source_dir}/${source}")
    endif()
    file(STRINGS "${source}" torch_include REGEX "^#include <torch/torch\\.h>")
    if(torch_include)
      set(uses_torch TRUE)
    else()
      set_source_files_properties("${source}" TARGET_DIRECTORY ${target} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  if(uses_torch)
    target_precompile_headers(${target} REUSE_FROM upm_torch_pch)
  endif()
endfunction()
