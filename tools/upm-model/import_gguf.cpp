// upm-model import-gguf --input F.gguf --output DIR [--dtype fp32|bf16]
#include <memory>

#include <spdlog/spdlog.h>

#include "upm/core/cli.h"
#include "upm/model/gguf_import.h"

namespace {

struct ImportOptions {
  std::string input, output;
  upm::GgufImportOptions import;
};

int import_gguf(const ImportOptions& o) {
  upm::ModelConfig config = upm::import_gguf(o.input, o.output, o.import);
  spdlog::info("wrote {} ({}, {} layers, hidden {}, vocab {}, {})", o.output, config.model_type,
               config.num_hidden_layers, config.hidden_size, config.vocab_size, config.torch_dtype);
  return 0;
}

upm::cli::RegisterSubcommand reg{
    "import-gguf", "GGUF file -> Hugging Face model folder (config, safetensors, tokenizer, chat template)",
    [](CLI::App& cmd) {
      auto o = std::make_shared<ImportOptions>();
      cmd.add_option("--input", o->input, "GGUF file (llama, qwen2 or qwen3)")->required();
      cmd.add_option("--output", o->output, "model folder to write")->required();
      cmd.add_option("--dtype", o->import.dtype, "weights stored as fp32 (exact) or bf16")
          ->check(CLI::IsMember({"fp32", "bf16"}));
      return [o] { return import_gguf(*o); };
    }};

}  // namespace
