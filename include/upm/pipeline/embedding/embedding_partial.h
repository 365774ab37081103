#pragma once
// Resume of the embedding job. Finished users are saved in chunks under
// EMB.partial/ (chunk-NNNNN.safetensors + chunk-NNNNN.index.jsonl, written
// as embedding_io.h writes EMB: atomically, the index last, so a chunk
// without its index was cut short and is not trusted), beside settings.json,
// the job's settings. A rerun with the same settings continues after the
// last saved user; other settings are an InputError naming the folder. The
// finished job writes EMB from every chunk and removes the folder.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "upm/pipeline/embedding/embedding_io.h"

namespace upm {

class EmbeddingPartial {
 public:
  // Loads what an earlier run with the same `settings` saved for `output_prefix`.
  EmbeddingPartial(const std::string& output_prefix, const std::map<std::string, std::string>& settings);

  const std::string& dir() const { return dir_; }
  // The saved chunks in order; rows user-major as the job writes them.
  const std::vector<EmbeddingTable>& chunks() const { return chunks_; }
  // The users the chunks cover, in order.
  const std::vector<std::string>& users() const { return users_; }

  void save(const EmbeddingTable& chunk);
  void remove();

 private:
  std::string dir_;
  std::string settings_json_;
  std::vector<EmbeddingTable> chunks_;
  std::vector<std::string> users_;
};

}  // namespace upm
