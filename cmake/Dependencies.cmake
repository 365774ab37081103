# Every third-party dependency, found once. Debian bookworm packages; see ./run.
find_package(Torch REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

# Debian's libsentencepiece embeds and exports its own copy of protobuf. If it
# comes before libprotobuf (LibTorch's) in the dynamic linker's search order,
# libprotobuf's static initialisers bind to that copy and crash at start-up.
# Linking libprotobuf directly, ahead of sentencepiece and not dropped by
# --as-needed, puts the real one first.
find_library(UPM_PROTOBUF_LIBRARY NAMES protobuf)
set(UPM_PROTOBUF_FIRST)
if(UPM_PROTOBUF_LIBRARY)
  set(UPM_PROTOBUF_FIRST "-Wl,--push-state,--no-as-needed" ${UPM_PROTOBUF_LIBRARY} "-Wl,--pop-state")
endif()

set(UPM_DEPENDENCY_LIBS
  ${UPM_PROTOBUF_FIRST}
  ${TORCH_LIBRARIES}
  nlohmann_json::nlohmann_json
  spdlog::spdlog
  CLI11::CLI11
  PkgConfig::SENTENCEPIECE
  PkgConfig::PCRE2
  PkgConfig::UTF8PROC
  Threads::Threads
  stdc++fs)
