#include "upm/infer/prefix_sharing.h"

#include <numeric>

#include "upm/core/error.h"
#include "upm/model/kv_cache.h"

namespace upm {

void fan_out_prefixes(KVCache& cache, const std::vector<int64_t>& copies) {
  const int64_t total = std::accumulate(copies.begin(), copies.end(), int64_t(0));
  if (total > cache.max_sequences()) throw Error("fan_out_prefixes: more copies than cache slots");
  // Destinations of prompt p start at offset(p) >= p, so going from the last
  // prompt to the first never overwrites a prompt still to be copied; within
  // a prompt the copy onto its own slot (offset == p) comes last.
  int64_t offset = total;
  for (int64_t p = int64_t(copies.size()) - 1; p >= 0; --p) {
    if (copies[p] < 1) throw Error("fan_out_prefixes: every prompt needs at least one copy");
    offset -= copies[p];
    const int64_t n = cache.length(p);
    for (int64_t c = copies[p] - 1; c >= 0; --c) cache.copy_prefix(p, offset + c, n);
  }
}

std::vector<int64_t> compact_rows(KVCache& cache, const std::vector<int64_t>& keep, int64_t rows_before) {
  const int64_t n = int64_t(keep.size());
  std::vector<int64_t> order(keep.begin(), keep.end());
  // Holes: finished rows below n. Movers: live rows at or above n. Moving the
  // highest live row into the lowest hole copies one row per finished row.
  std::vector<bool> alive(rows_before, false);
  for (int64_t slot : keep) alive[slot] = true;
  std::vector<int64_t> movers;
  for (int64_t slot = rows_before - 1; slot >= n; --slot) {
    if (alive[slot]) movers.push_back(slot);
  }
  size_t next = 0;
  for (int64_t slot = 0; slot < n; ++slot) {
    order[slot] = slot;
    if (alive[slot]) continue;
    const int64_t from = movers.at(next++);
    cache.copy_prefix(from, slot, cache.length(from));
    order[slot] = from;
  }
  for (int64_t slot = n; slot < rows_before; ++slot) cache.reset(slot);
  return order;
}

}  // namespace upm
