#include "upm/model/lora_merge.h"

#include <filesystem>

#include "upm/core/atomic_file.h"
#include "upm/model/causal_lm.h"
#include "upm/model/lora.h"
#include "upm/model/model_runtime.h"
#include "upm/model/weights_loader.h"

namespace upm {

namespace fs = std::filesystem;

void merge_lora_folder(const std::string& base, const std::string& adapter, const std::string& output,
                       const std::string& dtype) {
  ModelRuntime runtime;
  runtime.dtype = dtype;
  auto model = load_pretrained(base, runtime);
  Lora::load(*model, adapter)->merge_and_detach();
  const std::string temp = output + ".tmp";
  fs::remove_all(temp);
  save_pretrained(*model, temp);
  copy_tokenizer_files(base, temp);
  fs::remove_all(output);
  fs::rename(temp, output);
}

void copy_tokenizer_files(const std::string& tokenizer_path, const std::string& dir) {
  if (tokenizer_path.empty()) return;
  if (fs::is_regular_file(tokenizer_path)) {
    const std::string name = fs::path(tokenizer_path).extension() == ".model" ? "tokenizer.model" : "tokenizer.json";
    write_file_atomic((fs::path(dir) / name).string(), read_file(tokenizer_path));
    return;
  }
  for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path source = fs::path(tokenizer_path) / name;
    if (fs::exists(source)) write_file_atomic((fs::path(dir) / name).string(), read_file(source.string()));
  }
}

}  // namespace upm
