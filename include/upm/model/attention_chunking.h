#pragma once
// How much of the attention score matrix a forward pass without autograd
// holds at once. Eager attention materialises B x heads x queries x keys
// scores and keeps ~10 bytes an element at its peak (bf16 scores, their fp32
// copy with the mask added, the softmax): one 8k-token prompt of Qwen3-8B is
// 32 x 8192^2 elements, ~20 GiB per layer, and a batch of 8 would need 160.
// Without autograd nothing is kept for backward, so the query axis can be
// processed in slices whose scores stay under a budget: the same values
// (each query row's softmax is its own), a bounded transient.
// Training passes keep the whole matrix (backward needs it).

#include <cstdint>

namespace upm {

// Score elements one slice may hold (0: never slice). Default 2^26 (~0.6 GiB
// at the peak), which the demo's small models never reach.
void set_attention_score_budget(int64_t elements);
int64_t attention_score_budget();

// Query rows per slice for B x heads x S scores per query row under the
// budget: all `queries` when they fit (or the budget is 0), else at least 1.
int64_t attention_query_rows_per_slice(int64_t batch, int64_t heads, int64_t queries, int64_t keys);

// Forward passes that were sliced, since the process started (for tests).
int64_t attention_sliced_passes();

}  // namespace upm
