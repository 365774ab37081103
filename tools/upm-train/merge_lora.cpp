// upm-train merge-lora --base DIR --adapter DIR --output DIR
#include <memory>

#include "upm/core/cli.h"
#include "upm/model/lora_merge.h"

namespace {

struct MergeOptions {
  std::string base, adapter, output, dtype = "auto";
};

int merge(const MergeOptions& o) {
  upm::merge_lora_folder(o.base, o.adapter, o.output, o.dtype);
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
