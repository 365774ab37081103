#pragma once
// The weights of a Hugging Face model folder: one `model.safetensors`, or
// shards `model-0000k-of-0000n.safetensors` listed by
// `model.safetensors.index.json` ({"metadata": {"total_size": N},
// "weight_map": {tensor name: shard file}}).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "upm/model/safetensors.h"

namespace upm {

class SafetensorsFolder {
 public:
  // Opens (maps) every file. InputError if neither layout is present, if the
  // index names a missing file or a tensor its shard lacks, or if a shard
  // holds a tensor the index does not list or another shard also holds.
  explicit SafetensorsFolder(const std::string& dir);

  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return owner_.count(name) > 0; }
  const SafetensorsFile& file_of(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const { return file_of(name).entry(name); }
  // Zero-copy read-only view (see SafetensorsFile::tensor).
  torch::Tensor tensor(const std::string& name) const { return file_of(name).tensor(name); }
  size_t file_count() const { return files_.size(); }

 private:
  void open_single(const std::string& path);
  void open_sharded(const std::string& index_path);

  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> owner_;
};

// Writes `tensors` into `dir` as HF does: one model.safetensors when the total
// fits in `max_shard_bytes`, else shards of at most that size (a tensor larger
// than it gets a shard of its own) plus the index. Returns the files written.
std::vector<std::string> write_safetensors_folder(const std::string& dir,
                                                  const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                                  uint64_t max_shard_bytes);

// Default shard size of transformers' save_pretrained (5 GB).
constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000ull;

}  // namespace upm
