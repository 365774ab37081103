// upm-infer detokenize: {"ids": [...]} lines -> {"text": ...} lines.
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/log.h"
#include "upm/text/jsonl_tokenize.h"

namespace {

struct DetokenizeArgs {
  std::string tokenizer, input, output;
  upm::TokenizeFileOptions options;
};

}  // namespace

static upm::cli::RegisterSubcommand reg{
    "detokenize", "token ids JSONL -> text JSONL", [](CLI::App& cmd) {
      auto args = std::make_shared<DetokenizeArgs>();
      cmd.add_option("--tokenizer", args->tokenizer, "tokenizer.json, tokenizer.model or a model folder")->required();
      cmd.add_option("--input", args->input, "JSONL with an \"ids\" field per line ('-' = stdin)")->required();
      cmd.add_option("--output", args->output, "JSONL with \"text\" instead of \"ids\"")->required();
      cmd.add_flag("--skip-special", args->options.skip_special, "drop special tokens");
      return [args] {
        auto tokenizer = upm::load_tokenizer(args->tokenizer);
        auto count = upm::detokenize_jsonl(*tokenizer, args->input, args->output, args->options);
        spdlog::info("detokenized {} records into {}", count, args->output);
        return 0;
      };
    }};
