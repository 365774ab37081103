// load_tokenizer(): picks the backend from what the path holds and fills the
// special tokens from the model folder's tokenizer_config.json and
// generation_config.json (tokenizer.json itself does not say which token is
// the eos).

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"
#include "upm/text/bpe_tokenizer.h"
#include "upm/text/sentencepiece_tokenizer.h"
#include "upm/text/tokenizer.h"

namespace upm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_optional_json(const fs::path& path) {
  std::ifstream file(path);
  if (!file) return json();
  json value = json::parse(file, nullptr, false);
  if (value.is_discarded() || !value.is_object()) throw InputError(Location{path.string(), 0, ""}, "not a JSON object");
  return value;
}

// tokenizer_config.json writes a token as "<s>" or {"content": "<s>", ...}.
std::optional<TokenId> config_token(const Tokenizer& tokenizer, const json& config, const char* key,
                                    const fs::path& path) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  std::string content;
  if (it->is_string()) {
    content = it->get<std::string>();
  } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    content = (*it)["content"].get<std::string>();
  } else {
    throw InputError(Location{path.string(), 0, key}, "expected a token string");
  }
  auto id = tokenizer.token_to_id(content);
  if (!id) throw InputError(Location{path.string(), 0, key}, "token '" + content + "' is not in the vocabulary");
  return id;
}

void add_ids(std::vector<TokenId>& ids, const json& value) {
  if (value.is_number_integer()) ids.push_back(value.get<TokenId>());
  if (value.is_array())
    for (const auto& item : value)
      if (item.is_number_integer()) ids.push_back(item.get<TokenId>());
}

SpecialTokens resolve_special_tokens(const Tokenizer& tokenizer, const fs::path& folder) {
  SpecialTokens special = tokenizer.special_tokens();
  fs::path config_path = folder / "tokenizer_config.json";
  json config = read_optional_json(config_path);
  if (config.is_object()) {
    if (auto id = config_token(tokenizer, config, "bos_token", config_path)) special.bos = id;
    if (auto id = config_token(tokenizer, config, "eos_token", config_path)) special.eos = id;
    if (auto id = config_token(tokenizer, config, "pad_token", config_path)) special.pad = id;
  }
  if (special.eos) special.stop.push_back(*special.eos);
  json generation = read_optional_json(folder / "generation_config.json");
  if (generation.is_object() && generation.contains("eos_token_id")) add_ids(special.stop, generation["eos_token_id"]);
  // Chat end markers end a generation even where no config lists them.
  for (const char* marker : {"<|im_end|>", "<|eot_id|>", "<|eom_id|>"})
    if (auto id = tokenizer.token_to_id(marker)) special.stop.push_back(*id);
  std::sort(special.stop.begin(), special.stop.end());
  special.stop.erase(std::unique(special.stop.begin(), special.stop.end()), special.stop.end());
  return special;
}

template <class T>
std::unique_ptr<Tokenizer> with_folder_config(std::unique_ptr<T> tokenizer, const fs::path& folder) {
  tokenizer->set_special_tokens(resolve_special_tokens(*tokenizer, folder));
  return tokenizer;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  fs::path target(path);
  std::error_code error;
  if (fs::is_directory(target, error)) {
    if (fs::exists(target / "tokenizer.json")) return load_tokenizer((target / "tokenizer.json").string());
    if (fs::exists(target / "tokenizer.model")) return load_tokenizer((target / "tokenizer.model").string());
    throw InputError(Location{path, 0, ""}, "model folder has neither tokenizer.json nor tokenizer.model");
  }
  if (!fs::exists(target, error)) throw InputError(Location{path, 0, ""}, "no such tokenizer file or folder");
  fs::path folder = target.parent_path();
  if (target.extension() == ".json") return with_folder_config(BpeTokenizer::from_file(path), folder);
  if (target.extension() == ".model") return with_folder_config(SentencePieceTokenizer::from_file(path), folder);
  throw InputError(Location{path, 0, ""}, "unknown tokenizer file type (expected tokenizer.json or *.model)");
}

}  // namespace upm
