# Every third-party dependency, found once.
#
# LibTorch: from the project's Python environment (`./run setup` installs the
# pinned `torch` wheel, which carries LibTorch's headers, libraries and
# TorchConfig.cmake), unless Torch_DIR or CMAKE_PREFIX_PATH names another
# LibTorch (a downloaded one, or the one on a GPU machine).
# SentencePiece models are read by our own reader (src/text/sentencepiece_*);
# the `sentencepiece` CLI tools (spm_train, spm_encode) come from Debian.
set(UPM_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python whose torch package provides LibTorch (when Torch_DIR / CMAKE_PREFIX_PATH do not)")
if(NOT Torch_DIR AND EXISTS "${UPM_PYTHON}")
  execute_process(
    COMMAND "${UPM_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE UPM_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE torch_query)
  if(torch_query EQUAL 0)
    # Appended: a LibTorch named on the command line wins.
    list(APPEND CMAKE_PREFIX_PATH "${UPM_TORCH_PREFIX}")
  endif()
endif()

# A CUDA LibTorch (the PyPI wheel is one) looks for the CUDA toolkit; the
# build then links torch_cuda and compiles the NCCL process group.
if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
# UPM compiles no CUDA kernels of its own; naming the architectures skips
# TorchConfig's probe of the installed GPUs (none here, and it fails to build).
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
find_package(Torch REQUIRED)
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "UPM needs LibTorch 2.x (found ${Torch_VERSION} at ${Torch_DIR})")
endif()
# The wheel's libtorch.so carries (and exports) its own copies of some
# libstdc++ symbols, std::filesystem among them, built for an older
# toolchain; when it comes first in a program's DT_NEEDED list, calls such as
# std::filesystem::remove_all bind to those copies and crash. Naming
# libstdc++ first makes the dynamic linker find the system's definitions.
add_link_options("LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
set(UPM_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR CAFFE2_USE_CUDA OR USE_CUDA)
  set(UPM_TORCH_HAS_CUDA ON)
endif()
# The NCCL process group (in torch_cuda) is compiled into UPM whenever
# LibTorch has CUDA. Its nccl.h: the wheel's own (nvidia-nccl), else the
# CUDA toolkit's.
if(UPM_TORCH_HAS_CUDA)
  find_path(UPM_NCCL_INCLUDE_DIR nccl.h
    HINTS "${Torch_DIR}/../../../../nvidia/nccl/include" "${CUDAToolkit_INCLUDE_DIRS}" /usr/local/cuda/include)
  if(NOT UPM_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "LibTorch has CUDA but nccl.h was not found: set UPM_NCCL_INCLUDE_DIR")
  endif()
endif()
message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR} (CUDA: ${UPM_TORCH_HAS_CUDA}, nccl.h: ${UPM_NCCL_INCLUDE_DIR})")

find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
# LibTorch's include folder carries its own {fmt} (12.x), which Debian's
# spdlog (built on {fmt} 9) cannot compile against. A folder that holds only
# the system's fmt/ goes ahead of LibTorch's, so spdlog, its library and our
# code agree on one {fmt}; LibTorch's own copy stays internal to its libraries.
set(UPM_FMT_SHIM "${CMAKE_BINARY_DIR}/fmt-shim")
find_path(UPM_SYSTEM_FMT_DIR fmt/core.h PATHS /usr/include NO_DEFAULT_PATH)
if(UPM_SYSTEM_FMT_DIR)
  file(MAKE_DIRECTORY "${UPM_FMT_SHIM}")
  file(CREATE_LINK "${UPM_SYSTEM_FMT_DIR}/fmt" "${UPM_FMT_SHIM}/fmt" SYMBOLIC)
  include_directories(BEFORE SYSTEM "${UPM_FMT_SHIM}")
endif()
find_package(CLI11 CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# HTTP server (upm-serve) and OpenAI-compatible client (remote teachers and
# judges). Debian builds it with OpenSSL/zlib/brotli; the pkg-config flags
# carry the matching CPPHTTPLIB_* defines, which must agree with the library.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

set(UPM_DEPENDENCY_LIBS
  ${TORCH_LIBRARIES}
  nlohmann_json::nlohmann_json
  spdlog::spdlog
  CLI11::CLI11
  PkgConfig::PCRE2
  PkgConfig::UTF8PROC
  PkgConfig::HTTPLIB
  Threads::Threads)
