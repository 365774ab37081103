#include "upm/infer/padded_batch.h"

#include <algorithm>
#include <string>

#include "upm/core/error.h"

namespace upm {

PaddedBatch pad_sequences(const std::vector<std::vector<int64_t>>& sequences, PadSide side, int64_t pad_id) {
  const int64_t B = int64_t(sequences.size());
  int64_t T = 0;
  for (const auto& s : sequences) T = std::max<int64_t>(T, int64_t(s.size()));
  PaddedBatch batch{torch::full({B, T}, pad_id, torch::kLong), torch::zeros({B, T}, torch::kLong)};
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = int64_t(sequences[b].size());
    const int64_t start = side == PadSide::left ? T - n : 0;
    for (int64_t i = 0; i < n; ++i) {
      ids[b][start + i] = sequences[b][i];
      mask[b][start + i] = 1;
    }
  }
  return batch;
}

void check_token_ids(const std::vector<int64_t>& ids, int64_t vocab_size, const std::string& what) {
  if (ids.empty()) throw InputError(Location{"", 0, what}, "empty token sequence");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size) {
      throw InputError(Location{"", 0, what}, "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
  }
}

}  // namespace upm
