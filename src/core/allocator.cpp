#include "upm/core/allocator.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace upm {

void tune_allocator() {
#if defined(__GLIBC__)
  const char* off = std::getenv("UPM_DEFAULT_MALLOC");
  if (off != nullptr && std::strcmp(off, "1") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 256 * 1024 * 1024);
#endif
}

}  // namespace upm
