// upm-data tokenizer-train: a SentencePiece model for our own small models.
#include <memory>

#include "upm/core/cli.h"
#include "upm/text/sentencepiece_trainer.h"

static upm::cli::RegisterSubcommand reg{
    "tokenizer-train", "train a SentencePiece tokenizer (tokenizer.model) from a text corpus",
    [](CLI::App& cmd) {
      auto opts = std::make_shared<upm::SentencePieceTrainOptions>();
      cmd.add_option("--input", opts->input, "UTF-8 text, one sentence per line")->required();
      cmd.add_option("--output", opts->output_dir, "folder for tokenizer.model + tokenizer_config.json")->required();
      cmd.add_option("--vocab-size", opts->vocab_size, "vocabulary size")->capture_default_str();
      cmd.add_option("--character-coverage", opts->character_coverage)->capture_default_str();
      cmd.add_option("--max-sentences", opts->max_sentences, "sample this many lines (0 = all)")
          ->capture_default_str();
      cmd.add_option("--threads", opts->num_threads)->capture_default_str();
      cmd.add_option("--user-symbols", opts->user_defined_symbols, "pieces never split (chat markers)")
          ->capture_default_str();
      return [opts] {
        upm::train_sentencepiece(*opts);
        return 0;
      };
    }};
