#include "upm/pipeline/embedding/embedding_partial.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"

namespace fs = std::filesystem;

namespace upm {

namespace {

std::string chunk_prefix(const std::string& dir, size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "chunk-%05zu", index);
  return dir + "/" + name;
}

// Users of a user-major table, each once, in order.
void append_users(const EmbeddingTable& table, std::vector<std::string>& users) {
  for (const auto& row : table.rows) {
    if (users.empty() || users.back() != row.user_id) users.push_back(row.user_id);
  }
}

}  // namespace

EmbeddingPartial::EmbeddingPartial(const std::string& output_prefix, const std::map<std::string, std::string>& settings)
    : dir_(embedding_partial_dir(output_prefix)), settings_json_(nlohmann::json(settings).dump(2) + "\n") {
  const std::string settings_path = dir_ + "/settings.json";
  if (!fs::exists(settings_path)) return;  // nothing saved yet (a folder without it holds no finished chunk)
  if (read_file(settings_path) != settings_json_) {
    throw InputError(Location{settings_path, 0, ""},
                     "an interrupted run with other settings (model, input, queries or config) left " + dir_ +
                         "; rerun it with the same settings to resume, or remove the folder to start over");
  }
  for (size_t i = 0; fs::exists(embedding_index_path(chunk_prefix(dir_, i))); ++i) {
    chunks_.push_back(read_embedding_table(chunk_prefix(dir_, i)));
    append_users(chunks_.back(), users_);
  }
}

void EmbeddingPartial::save(const EmbeddingTable& chunk) {
  if (chunks_.empty()) {
    fs::create_directories(dir_);
    write_file_atomic(dir_ + "/settings.json", settings_json_);
  }
  write_embedding_table(chunk_prefix(dir_, chunks_.size()), chunk);
  chunks_.push_back(chunk);
  append_users(chunk, users_);
}

void EmbeddingPartial::remove() { fs::remove_all(dir_); }

}  // namespace upm
