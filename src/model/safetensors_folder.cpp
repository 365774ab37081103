#include "upm/model/safetensors_folder.h"

#include <cstdio>
#include <filesystem>

#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/error.h"

namespace fs = std::filesystem;

namespace upm {

namespace {
constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// A shard name from an untrusted index must stay inside the folder.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}
}  // namespace

SafetensorsFolder::SafetensorsFolder(const std::string& dir) : dir_(dir) {
  const fs::path single = fs::path(dir) / kSingleFile;
  const fs::path index = fs::path(dir) / kIndexFile;
  if (fs::exists(index)) {
    open_sharded(index.string());
  } else if (fs::exists(single)) {
    open_single(single.string());
  } else {
    throw InputError(Location{dir, 0, ""}, std::string("no ") + kSingleFile + " or " + kIndexFile + " in the folder");
  }
}

void SafetensorsFolder::open_single(const std::string& path) {
  files_.push_back(std::make_unique<SafetensorsFile>(path));
  for (const auto& [name, entry] : files_.back()->header().tensors) owner_[name] = files_.back().get();
}

void SafetensorsFolder::open_sharded(const std::string& index_path) {
  const nlohmann::json index = read_json_file(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw InputError(Location{index_path, 0, "weight_map"}, "missing object \"weight_map\"");
  }
  std::map<std::string, const SafetensorsFile*> by_file;
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    const std::string field = "weight_map." + it.key();
    if (!it->is_string() || !is_plain_file_name(it->get<std::string>())) {
      throw InputError(Location{index_path, 0, field}, "must be a file name inside the folder");
    }
    const std::string shard = it->get<std::string>();
    if (!by_file.count(shard)) {
      files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir_) / shard).string()));
      by_file[shard] = files_.back().get();
    }
    const SafetensorsFile* file = by_file[shard];
    if (!file->contains(it.key()))
      throw InputError(Location{file->path(), 0, it.key()}, "tensor listed in the index is missing from the shard");
    owner_[it.key()] = file;
  }
  for (const auto& file : files_) {
    for (const auto& [name, entry] : file->header().tensors) {
      auto owner = owner_.find(name);
      if (owner == owner_.end()) {
        throw InputError(Location{file->path(), 0, name}, "tensor not listed in " + index_path);
      }
      if (owner->second != file.get()) {
        throw InputError(Location{file->path(), 0, name}, "tensor also stored in " + owner->second->path());
      }
    }
  }
}

std::vector<std::string> SafetensorsFolder::names() const {
  std::vector<std::string> out;
  for (const auto& [name, file] : owner_) out.push_back(name);
  return out;
}

const SafetensorsFile& SafetensorsFolder::file_of(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) throw InputError(Location{dir_, 0, name}, "tensor not found in the model folder");
  return *it->second;
}

std::vector<std::string> write_safetensors_folder(const std::string& dir,
                                                  const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                                  uint64_t max_shard_bytes) {
  make_directories(dir);
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> shards(1);
  uint64_t shard_bytes = 0, total = 0;
  for (const auto& item : tensors) {
    const uint64_t nbytes = uint64_t(item.second.numel()) * item.second.element_size();
    if (!shards.back().empty() && shard_bytes + nbytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(item);
    shard_bytes += nbytes;
    total += nbytes;
  }
  // Stale files of another layout would confuse a reader of the folder.
  std::error_code ignored;
  fs::remove(fs::path(dir) / (shards.size() == 1 ? kIndexFile : kSingleFile), ignored);
  if (shards.size() == 1) {
    write_safetensors((fs::path(dir) / kSingleFile).string(), shards[0]);
    return {kSingleFile};
  }
  std::vector<std::string> written;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors((fs::path(dir) / name).string(), shards[i]);
    for (const auto& item : shards[i]) weight_map[item.first] = name;
    written.push_back(name);
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  write_file_atomic((fs::path(dir) / kIndexFile).string(), index.dump(2) + "\n");
  written.push_back(kIndexFile);
  return written;
}

}  // namespace upm
