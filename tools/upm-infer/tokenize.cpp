// upm-infer tokenize: {"text": ...} lines -> {"ids": [...]} lines.
#include <memory>

#include "upm/core/cli.h"
#include "upm/core/log.h"
#include "upm/text/jsonl_tokenize.h"

namespace {

struct TokenizeArgs {
  std::string tokenizer, input, output;
  upm::TokenizeFileOptions options;
};

}  // namespace

static upm::cli::RegisterSubcommand reg{
    "tokenize", "text JSONL -> token ids JSONL", [](CLI::App& cmd) {
      auto args = std::make_shared<TokenizeArgs>();
      cmd.add_option("--tokenizer", args->tokenizer, "tokenizer.json, tokenizer.model or a model folder")->required();
      cmd.add_option("--input", args->input, "JSONL with a \"text\" field per line ('-' = stdin)")->required();
      cmd.add_option("--output", args->output, "JSONL with \"ids\" instead of \"text\"")->required();
      cmd.add_flag("--add-special", args->options.add_special, "add the tokenizer's specials (e.g. bos)");
      return [args] {
        auto tokenizer = upm::load_tokenizer(args->tokenizer);
        auto count = upm::tokenize_jsonl(*tokenizer, args->input, args->output, args->options);
        spdlog::info("tokenized {} records into {}", count, args->output);
        return 0;
      };
    }};
