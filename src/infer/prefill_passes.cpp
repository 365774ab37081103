#include "upm/infer/prefill_passes.h"

#include <algorithm>

namespace upm {

std::vector<std::vector<size_t>> prefill_passes(const std::vector<int64_t>& lengths, const PrefillPassLimits& limits) {
  std::vector<size_t> order(lengths.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> passes;
  std::vector<size_t> pass;
  int64_t longest = 0, real = 0;
  bool uniform = true;
  for (size_t i : order) {
    const int64_t n = lengths[i];
    if (!pass.empty()) {
      // Rows come longest first, so the pass's padded length stays `longest`.
      const int64_t rows = int64_t(pass.size()) + 1, padded = rows * longest, with = real + n;
      const bool same = uniform && n == longest;
      const bool little_padding =
          double(padded) <= (1.0 + limits.max_padding) * double(with) || padded <= limits.small_pass_tokens;
      const bool small_mask = rows * longest * longest <= limits.max_mask_elements;
      if (!same && !(little_padding && small_mask)) {
        std::sort(pass.begin(), pass.end());
        passes.push_back(std::move(pass));
        pass.clear();
      }
    }
    if (pass.empty()) {
      longest = n;
      real = 0;
      uniform = true;
    }
    uniform = uniform && n == longest;
    pass.push_back(i);
    real += n;
  }
  if (!pass.empty()) {
    std::sort(pass.begin(), pass.end());
    passes.push_back(std::move(pass));
  }
  return passes;
}

}  // namespace upm
