#pragma once
// Shared by the embedding-training tests: synthetic users (data/synth.h)
// with held-out positives as training pairs, a tiny model folder whose
// tokenizer has <USER_EMB>, and a small config for them.

#include <string>

#include "pipeline/embed_test_util.h"
#include "upm/data/event_format.h"
#include "upm/data/synth.h"
#include "upm/text/tokenizer.h"
#include "upm/text/sentencepiece_trainer.h"
#include "upm/data/user_log.h"
#include "upm/train/embed_config.h"
#include "upm/train/embed_data.h"

namespace upm::test {

inline const std::string kItemQuery = "Which titles would this user enjoy?";
inline const std::string kStyleQuery = "How does this user like answers to be written?";

struct SynthEmbedData {
  std::string logs;   // histories (held-out events removed)
  std::string pairs;  // (user, query, positive)
  data::SynthWorld world;
};

// Item behaviour (ratings, clicks, survey choices) answers the item query,
// chat-answer choices the style query.
inline SynthEmbedData write_synth_embed_data(const std::string& dir, const data::SynthConfig& sc,
                                             int64_t per_user = 4) {
  SynthEmbedData out;
  out.world = data::make_synthetic_world(sc);
  HoldoutOptions ho;
  ho.per_user = per_user;
  ho.queries = {{"reviews", kItemQuery}, {"store", kItemQuery}, {"survey", kItemQuery}, {"assistant", kStyleQuery}};
  HeldOut held = hold_out_positives(out.world.logs, ho);
  out.logs = dir + "/histories.jsonl";
  out.pairs = dir + "/pairs.jsonl";
  data::write_user_logs(out.logs, held.histories);
  write_embed_pairs(out.pairs, held.pairs);
  return out;
}

inline data::SynthConfig small_synth_config(int64_t users, int64_t seed, int64_t min_events = 14,
                                            int64_t max_events = 20) {
  data::SynthConfig sc;
  sc.users = users;
  sc.seed = seed;
  sc.items = 60;
  sc.min_events = min_events;
  sc.max_events = max_events;
  return sc;
}

inline SynthEmbedData write_synth_embed_data(const std::string& dir, int64_t users, int64_t seed, int64_t per_user = 4,
                                             int64_t min_events = 14, int64_t max_events = 20) {
  return write_synth_embed_data(dir, small_synth_config(users, seed, min_events, max_events), per_user);
}

inline EmbedTrainConfig tiny_embed_config(const std::string& run_dir, const std::string& model_dir,
                                          const SynthEmbedData& data) {
  EmbedTrainConfig c;
  c.run_dir = run_dir;
  c.model = model_dir;
  c.data.logs = data.logs;
  c.data.pairs = data.pairs;
  c.text.prompts.max_prompt_tokens = 256;
  c.batch_size = 8;
  c.max_steps = 4;
  c.optimizer.lr = 3e-3;
  c.schedule.kind = "constant";
  c.projection.out = 16;
  c.lora.rank = 4;
  c.lora.alpha = 8;
  c.seed = 3;
  c.threads = 1;
  return c;
}

// A tiny random Qwen3 model folder whose tokenizer is a SentencePiece BPE
// trained on the synthetic world's own text (its events as the history
// renders them, cut at `field_chars`, plus the queries), with <USER_EMB> as a
// piece. The character-level test tokenizer (tiny_bpe) spends ~120 tokens on
// one event, so a history of ~17 events would not fit any budget a CPU test
// can train on; with pieces learned from the world's repetitive text an event
// costs a few tens of tokens and the whole history fits.
inline void write_synth_model_folder(const std::string& dir, const data::SynthWorld& world, int64_t field_chars,
                                     int vocab_size, uint64_t seed) {
  std::filesystem::create_directories(dir);
  std::string corpus;
  for (const auto& log : world.logs) {
    for (const auto& e : log.events) corpus += data::format_event(e, size_t(field_chars)) + "\n";
  }
  corpus += kItemQuery + "\n" + kStyleQuery + "\n";
  const std::string corpus_path = dir + "/corpus.txt";
  write_text_file(corpus_path, corpus);
  SentencePieceTrainOptions spm;
  spm.input = corpus_path;
  spm.output_dir = dir;
  spm.vocab_size = vocab_size;
  spm.num_threads = 1;
  spm.user_defined_symbols = {"<USER_EMB>"};
  train_sentencepiece(spm);
  std::filesystem::remove(corpus_path);
  ModelConfig config = tiny_config("qwen3");
  config.vocab_size = load_tokenizer(dir)->vocab_size();
  save_pretrained(CausalLM(config, ModelRuntime{}, InitMode::random, seed), dir);
}

}  // namespace upm::test
