#include "upm/infer/score_job.h"

#include <memory>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/infer/padded_batch.h"
#include "upm/infer/token_logprobs.h"
#include "upm/model/weights_loader.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

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
    std::vector<TokenId> encoded =
        tokenizer.get().encode(get_field<std::string>(record, v, "text"), /*add_special=*/true);
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

}  // namespace

void run_score_job(const ScoreJob& job) {
  std::shared_ptr<CausalLM> model = load_pretrained(job.model, job.runtime);
  std::vector<std::vector<int64_t>> sequences;
  LazyTokenizer tokenizer{job.model, nullptr};
  JsonlReader reader(job.input);
  while (auto record = reader.next_strict()) {
    sequences.push_back(read_ids(*record, model->config().vocab_size, tokenizer));
  }
  ScoreOptions options;
  options.max_batch_sequences = job.batch;
  auto logprobs = token_logprobs(*model, sequences, options);
  std::string text;
  for (size_t s = 0; s < sequences.size(); ++s) {
    text += nlohmann::json{{"ids", sequences[s]}, {"logprobs", logprobs[s]}}.dump() + "\n";
  }
  write_file_atomic(job.output, text);
}

}  // namespace upm
