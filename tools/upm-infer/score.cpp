// upm-infer score: per-token log-probs of given token sequences.
//   in:  {"ids": [...]} per line
//   out: {"ids": [...], "logprobs": [...]}, logprobs[i] = log p(ids[i+1] | ids[0..i])
#include <memory>

#include "model_options.h"
#include "upm/core/atomic_file.h"
#include "upm/core/cli.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/infer/padded_batch.h"
#include "upm/infer/token_logprobs.h"

namespace upm::infer_tool {
namespace {

struct ScoreCommand {
  ModelOptions model;
  std::string input, output;
  int64_t batch = 8;
};

std::vector<int64_t> read_ids(const JsonlRecord& record, int64_t vocab_size) {
  const nlohmann::json& v = record.value;
  if (!v.contains("ids")) {
    record.fail(v.contains("text") ? "text" : "ids",
                v.contains("text") ? "text input needs a tokenizer; give token ids as \"ids\"" : "required but missing");
  }
  const nlohmann::json& ids = v["ids"];
  if (!ids.is_array()) record.fail("ids", std::string("expected an array of token ids, got ") + ids.type_name());
  std::vector<int64_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer()) record.fail("ids[" + std::to_string(i) + "]", "expected an integer token id");
    out.push_back(ids[i].get<int64_t>());
  }
  try {
    check_token_ids(out, vocab_size, "ids");
  } catch (const InputError& e) {
    record.fail("ids", e.what());
  }
  return out;
}

int run_score(const ScoreCommand& c) {
  auto model = load_model(c.model);
  std::vector<std::vector<int64_t>> sequences;
  JsonlReader reader(c.input);
  while (auto record = reader.next_strict()) sequences.push_back(read_ids(*record, model->config().vocab_size));
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
      cmd.add_option("--input", c->input, "JSONL, one {\"ids\": [...]} per line")->required();
      cmd.add_option("--output", c->output, "JSONL of {\"ids\", \"logprobs\"}")->required();
      cmd.add_option("--batch", c->batch, "sequences per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
      return [c] { return run_score(*c); };
    }};

}  // namespace
}  // namespace upm::infer_tool
