#pragma once
// Trains a SentencePiece model (BPE, by Debian's `spm_train`) for the small
// models UPM trains itself, with settings that make decode(encode(x)) == x: identity
// normalization, whitespace kept, byte fallback for unseen characters, and
// the chat markers as user-defined pieces.

#include <cstdint>
#include <string>
#include <vector>

#include "upm/core/config.h"

namespace upm {

struct SentencePieceTrainOptions {
  std::string input;       // UTF-8 text, one sentence per line
  std::string output_dir;  // gets tokenizer.model, tokenizer.vocab, tokenizer_config.json
  int vocab_size = 8000;
  std::string model_type = "bpe";  // only BPE models can be loaded (see SentencePieceTokenizer)
  double character_coverage = 0.9995;
  bool byte_fallback = true;  // unseen characters become <0xNN> pieces, never <unk>
  int64_t max_sentences = 0;  // sample this many lines (0 = all)
  int num_threads = 2;
  std::vector<std::string> user_defined_symbols{"<|im_start|>", "<|im_end|>", "<think>", "</think>"};
};

inline void describe(ConfigIO& io, SentencePieceTrainOptions& o) {
  io.field("input", o.input).required();
  io.field("output_dir", o.output_dir).required();
  io.field("vocab_size", o.vocab_size).at_least(8);
  io.field("model_type", o.model_type).one_of({"bpe"});
  io.field("character_coverage", o.character_coverage).greater_than(0.0).at_most(1.0);
  io.field("byte_fallback", o.byte_fallback);
  io.field("max_sentences", o.max_sentences).at_least(0);
  io.field("num_threads", o.num_threads).at_least(1);
  io.field("user_defined_symbols", o.user_defined_symbols);
}

// Writes the model into options.output_dir (created if missing). Bad
// options or input are InputErrors naming the flag or file.
void train_sentencepiece(const SentencePieceTrainOptions& options);

}  // namespace upm
