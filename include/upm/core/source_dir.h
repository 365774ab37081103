#pragma once
// The source tree this build was configured from: where the default prompt
// templates (configs/prompts) and the test data live.
//
// Defined in one generated file (cmake/source_dir.cpp.in) rather than passed
// as a -D flag: a path on every compile line would make each compilation that
// loads the precompiled LibTorch header differ between two clones of the
// repository, so a second clone (CI's) would miss the compiler cache.

#include <string>

namespace upm {

const std::string& source_dir();

}  // namespace upm
