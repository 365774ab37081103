// upm-data tokenizer-train: a SentencePiece model for our own small models.
// The knobs are SentencePieceTrainOptions' keys (--config F, --set k=v;
// --vocab-size N is --set vocab_size=N).
#include <memory>

#include "upm/core/cli.h"
#include "upm/text/sentencepiece_trainer.h"

namespace {

struct TokenizerTrainArgs {
  upm::cli::ConfigOptions config;
  std::vector<std::string> user_symbols;  // replaces the config's list when given
};

}  // namespace

static upm::cli::RegisterSubcommand reg{
    "tokenizer-train", "train a SentencePiece tokenizer (tokenizer.model) from a text corpus", [](CLI::App& cmd) {
      auto args = std::make_shared<TokenizerTrainArgs>();
      upm::cli::add_config_options(cmd, args->config, /*config_required=*/false);
      upm::cli::add_config_shortcuts(
          cmd, args->config,
          {{"--input", "input", "UTF-8 text, one sentence per line"},
           {"--output", "output_dir", "folder for tokenizer.model + tokenizer_config.json"},
           {"--vocab-size", "vocab_size", "vocabulary size (default 8000)"},
           {"--character-coverage", "character_coverage", "share of characters covered (default 0.9995)"},
           {"--max-sentences", "max_sentences", "sample this many lines (0 = all, the default)"},
           {"--threads", "num_threads", "trainer threads (default 2)"}});
      auto* symbols =
          cmd.add_option("--user-symbols", args->user_symbols,
                         "pieces never split (chat markers; default <|im_start|> <|im_end|> <think> </think>)");
      return [args, symbols] {
        auto options = upm::cli::load_job_config<upm::SentencePieceTrainOptions>(args->config);
        if (symbols->count() > 0) options.user_defined_symbols = args->user_symbols;
        upm::train_sentencepiece(options);
        return 0;
      };
    }};
