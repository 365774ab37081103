#pragma once
// The rows of one prefill grouped into forward passes.
//
// A pass over prompts of different lengths is left-padded and attends
// through an explicit [rows, T, T] mask, which grows with T^2 (8 rows of 6144
// tokens: 1.2 GB of fp32, written and read by every layer) and whose padded
// rows are computed for nothing; a pass of equal lengths needs no mask at all
// (plain causal attention). So a pass holds rows of one length, or rows whose
// mask has at most `max_mask_elements` entries and whose padded tokens are at
// most `max_padding` of the real ones, or `small_pass_tokens` in all (short
// prompts, where a pass's fixed cost outweighs padding).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace upm {

struct PrefillPassLimits {
  double max_padding = 0.25;
  int64_t max_mask_elements = int64_t(1) << 24;
  int64_t small_pass_tokens = 1024;
};

// Rows are taken longest first; each pass lists its rows (indices into
// `lengths`) in increasing order.
std::vector<std::vector<size_t>> prefill_passes(const std::vector<int64_t>& lengths,
                                                const PrefillPassLimits& limits = {});

}  // namespace upm
