// upm-train merge-lora --base DIR --adapter DIR --output DIR
#include <filesystem>
#include <memory>

#include "upm/core/cli.h"
#include "upm/model/lora.h"
#include "upm/model/weights_loader.h"
#include "upm/train/checkpoint.h"

namespace {

struct MergeOptions {
  std::string base, adapter, output, dtype = "auto";
};

int merge(const MergeOptions& o) {
  upm::ModelRuntime runtime;
  runtime.dtype = o.dtype;
  auto model = upm::load_pretrained(o.base, runtime);
  upm::Lora::load(*model, o.adapter)->merge_and_detach();
  upm::save_pretrained(*model, o.output);
  upm::copy_tokenizer_files(o.base, o.output);
  return 0;
}

upm::cli::RegisterSubcommand reg{"merge-lora", "merge a PEFT LoRA adapter into its base model folder",
                                 [](CLI::App& cmd) {
                                   auto o = std::make_shared<MergeOptions>();
                                   cmd.add_option("--base", o->base, "base model folder")->required();
                                   cmd.add_option("--adapter", o->adapter, "PEFT adapter folder")->required();
                                   cmd.add_option("--output", o->output, "merged model folder")->required();
                                   cmd.add_option("--dtype", o->dtype, "float32 | bfloat16 | float16 | auto");
                                   return [o] { return merge(*o); };
                                 }};

}  // namespace
