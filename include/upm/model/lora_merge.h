#pragma once
// `upm-train merge-lora`: a PEFT LoRA adapter folded into its base model, as
// a plain Hugging Face folder that loads without adapters (peft's
// merge_and_unload followed by save_pretrained).

#include <string>

namespace upm {

// Loads `base` (compute dtype `dtype`: float32 | bfloat16 | float16 | auto),
// merges the adapter folder `adapter` (Lora::load's rules) and writes the
// weights, config.json and the base's tokenizer files to `output`. The
// folder is built beside as `output`.tmp and renamed over, so `output` is
// never half written.
void merge_lora_folder(const std::string& base, const std::string& adapter, const std::string& output,
                       const std::string& dtype = "auto");

// Copies tokenizer.json / tokenizer.model / tokenizer_config.json /
// special_tokens_map.json from `tokenizer_path` (a file or a folder) into `dir`.
void copy_tokenizer_files(const std::string& tokenizer_path, const std::string& dir);

}  // namespace upm
