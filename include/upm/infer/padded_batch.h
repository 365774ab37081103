#pragma once
// Token sequences of different lengths as one rectangular batch plus a mask.
// Left padding suits generation (every row's last token is at T-1); right
// padding suits scoring (row i's tokens keep their column).

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace upm {

class CausalLM;

struct PaddedBatch {
  torch::Tensor ids;   // [B, T] int64, CPU; padding holds `pad_id`
  torch::Tensor mask;  // [B, T] int64, 1 = real token
};

enum class PadSide { left, right };

PaddedBatch pad_sequences(const std::vector<std::vector<int64_t>>& sequences, PadSide side, int64_t pad_id = 0);

// InputError naming `what` unless every id is in [0, vocab_size) and the sequence is non-empty.
void check_token_ids(const std::vector<int64_t>& ids, int64_t vocab_size, const std::string& what);

}  // namespace upm
