# Every third-party dependency, found once. Debian bookworm packages; see ./run.
# SentencePiece models are read by our own reader (src/text/sentencepiece_*):
# Debian's libsentencepiece embeds protobuf 3.14, which fails protobuf's
# version check in a process that also loads LibTorch's libprotobuf 3.21.
# The `sentencepiece` CLI tools (spm_train, spm_encode) are still used.
find_package(Torch REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
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
  Threads::Threads
  stdc++fs)
