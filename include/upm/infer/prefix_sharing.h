#pragma once
// Computing a prompt once for many continuations: after a prefill of P
// prompts into cache slots 0..P-1, fan_out_prefixes lays out copies[p] copies
// of prompt p in consecutive slots (prompt 0 in slots 0..copies[0]-1, prompt
// 1 next, ...), so that every continuation row r sits in slot r and a decode
// step uses contiguous slots (no gather of the cache).

#include <cstdint>
#include <vector>

namespace upm {

class KVCache;

// Requires sum(copies) <= cache.max_sequences() and copies[p] >= 1.
void fan_out_prefixes(KVCache& cache, const std::vector<int64_t>& copies);

// Moves the rows `keep` (increasing slot indices) to slots 0..keep.size()-1
// by copying each into the lowest free slot from the end of the list, and
// empties the slots above. Returns the new order: order[i] = old slot now in
// slot i. Used to drop finished sequences from a decode batch.
std::vector<int64_t> compact_rows(KVCache& cache, const std::vector<int64_t>& keep, int64_t rows_before);

}  // namespace upm
