#pragma once
// Where the tests find their data and the built tools. Defined in a file
// generated per build (tests/test_paths.cpp.in), for the reason given in
// upm/core/source_dir.h.

#include <string>

namespace upm::test {

const std::string& test_data_dir();  // tests/data of the source tree
const std::string& bin_dir();        // the build's bin/ (tools run as a user would)

}  // namespace upm::test
