// upm-infer score: per-token log-probs of given token sequences.
//   in:  {"ids": [...]} or {"text": "..."} per line (text: encoded by the model
//        folder's tokenizer, with the special tokens it adds, e.g. a BOS)
//   out: {"ids": [...], "logprobs": [...]}, logprobs[i] = log p(ids[i+1] | ids[0..i])
#include <memory>

#include "model_options.h"
#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/infer/padded_batch.h"
#include "upm/infer/token_logprobs.h"
#include "upm/text/tokenizer.h"

namespace upm::infer_tool {
namespace {

struct ScoreCommand {
  ModelOptions model;
  std::string input, output;
  int64_t batch = 8;
};

// The tokenizer of the model folder, loaded on the first {"text"} line.
struct LazyTokenizer {
  std::string dir;
  std::unique_ptr<Tokenizer> tokenizer;
  const Tokenizer& get() {
    if (!tokenizer) tokenizer = load_tokenizer(dir);
    return *tokenizer;
  }
};

std::vector<int64_t> ids_from_array(const JsonlRecord& record) {
  const nlohmann::json& ids = record.value["ids"];
  if (!ids.is_array()) record.fail("ids", std::string("expected an array of token ids, got ") + ids.type_name());
  std::vector<int64_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer()) record.fail("ids[" + std::to_string(i) + "]", "expected an integer token id");
    out.push_back(ids[i].get<int64_t>());
  }
  return out;
}

std::vector<int64_t> read_ids(const JsonlRecord& record, int64_t vocab_size, LazyTokenizer& tokenizer) {
  const nlohmann::json& v = record.value;
  const bool from_text = !v.contains("ids") && v.contains("text");
  if (!from_text && !v.contains("ids")) record.fail("ids", "required but missing (or give \"text\")");
  std::vector<int64_t> out;
  if (from_text) {
    std::vector<TokenId> encoded = tokenizer.get().encode(get_field<std::string>(record, v, "text"), /*add_special=*/true);
    out.assign(encoded.begin(), encoded.end());
  } else {
    out = ids_from_array(record);
  }
  try {
    check_token_ids(out, vocab_size, "");
  } catch (const InputError& e) {
    record.fail(from_text ? "text" : "ids", e.what());
  }
  return out;
}

int run_score(const ScoreCommand& c) {
  auto model = load_model(c.model);
  std::vector<std::vector<int64_t>> sequences;
  LazyTokenizer tokenizer{c.model.model, nullptr};
  JsonlReader reader(c.input);
  while (auto record = reader.next_strict()) {
    sequences.push_back(read_ids(*record, model->config().vocab_size, tokenizer));
  }
  ScoreOptions options;
  options.max_batch_sequences = c.batch;
  auto logprobs = token_logprobs(*model, sequences, options);
  std::string text;
  for (size_t s = 0; s < sequences.size(); ++s) {
    text += nlohmann::json{{"ids", sequences[s]}, {"logprobs", logprobs[s]}}.dump() + "\n";
  }
  write_file_atomic(c.output, text);
  return kExitOk;
}

cli::RegisterSubcommand score_command{
    "score", "per-token log-probs of token sequences (JSONL in, JSONL out)", [](CLI::App& cmd) {
      auto c = std::make_shared<ScoreCommand>();
      add_model_options(cmd, c->model);
      cmd.add_option("--input", c->input, "JSONL, one {\"ids\": [...]} or {\"text\": \"...\"} per line")->required();
      cmd.add_option("--output", c->output, "JSONL of {\"ids\", \"logprobs\"}")->required();
      cmd.add_option("--batch", c->batch, "sequences per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
      return [c] { return run_score(*c); };
    }};

}  // namespace
}  // namespace upm::infer_tool
