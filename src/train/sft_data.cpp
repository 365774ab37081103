#include "upm/train/sft_data.h"

#include <algorithm>
#include <numeric>

#include <spdlog/spdlog.h>

#include "upm/core/error.h"

namespace upm {

int64_t SftExample::target_count() const { return std::accumulate(target.begin(), target.end(), int64_t(0)); }

namespace {

void append(SftExample& ex, const std::vector<TokenId>& ids, bool is_target) {
  for (TokenId id : ids) {
    ex.ids.push_back(id);
    ex.target.push_back(is_target ? 1 : 0);
  }
}

TokenId required_token(const Tokenizer& tokenizer, const char* token, const JsonlRecord& record) {
  auto id = tokenizer.token_to_id(token);
  if (!id) record.fail("messages", std::string("the tokenizer has no ") + token + " token (ChatML needs it)");
  return *id;
}

// What the tokenizer puts before a sequence (Llama's BOS; nothing for Qwen):
// the tokens of encode(text, true) ahead of encode(text, false). Whatever it
// appends after (an EOS of a TemplateProcessing) is left out: the completion
// follows the prompt, and the EOS comes after the completion.
std::vector<TokenId> special_prefix(const Tokenizer& tokenizer, const std::string& text) {
  const std::vector<TokenId> with = tokenizer.encode(text, true);
  const std::vector<TokenId> without = tokenizer.encode(text, false);
  auto at = std::search(with.begin(), with.end(), without.begin(), without.end());
  if (at == with.end()) return {};
  return std::vector<TokenId>(with.begin(), at);
}

SftExample encode_prompt_completion(const JsonlRecord& record, const Tokenizer& tokenizer,
                                    std::optional<TokenId> fallback_eos) {
  const auto& row = record.value;
  auto prompt = get_field<std::string>(record, row, "prompt");
  auto completion = get_field<std::string>(record, row, "completion");
  if (completion.empty()) record.fail("completion", "is empty: nothing to train on");
  auto eos = tokenizer.special_tokens().eos ? tokenizer.special_tokens().eos : fallback_eos;
  if (!eos) record.fail("completion", "the tokenizer has no EOS token to end the completion with");
  SftExample ex;
  append(ex, special_prefix(tokenizer, prompt), false);
  append(ex, tokenizer.encode(prompt, false), false);
  append(ex, tokenizer.encode(completion, false), true);
  append(ex, {*eos}, true);
  return ex;
}

SftExample encode_messages(const JsonlRecord& record, const Tokenizer& tokenizer) {
  const auto& messages = record.value["messages"];
  if (!messages.is_array() || messages.empty()) record.fail("messages", "must be a non-empty array");
  const TokenId im_start = required_token(tokenizer, "<|im_start|>", record);
  const TokenId im_end = required_token(tokenizer, "<|im_end|>", record);
  const std::vector<TokenId> newline = tokenizer.encode("\n", false);
  SftExample ex;
  bool any_assistant = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string field = "messages[" + std::to_string(i) + "]";
    const auto& m = messages[i];
    if (!m.is_object()) record.fail(field, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) record.fail(field + ".role", "must be a string");
    if (!m.contains("content") || !m["content"].is_string()) record.fail(field + ".content", "must be a string");
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant") {
      record.fail(field + ".role", "must be system, user or assistant, got \"" + role + "\"");
    }
    const bool trained = role == "assistant";
    any_assistant = any_assistant || trained;
    // The role header is context; the reply and its end marker are what the model learns to write.
    append(ex, {im_start}, false);
    append(ex, tokenizer.encode(role + "\n", false), false);
    append(ex, tokenizer.encode(m["content"].get<std::string>(), false), trained);
    append(ex, {im_end}, trained);
    append(ex, newline, false);
  }
  if (!any_assistant) record.fail("messages", "has no assistant message: nothing to train on");
  return ex;
}

// Position 0 has no preceding token, so it is never a target.
SftExample finish(SftExample ex) {
  if (!ex.target.empty()) ex.target[0] = 0;
  return ex;
}

}  // namespace

SftExample encode_sft_record(const JsonlRecord& record, const Tokenizer& tokenizer,
                             std::optional<TokenId> fallback_eos) {
  if (!record.ok()) throw InputError(record.where(), record.error);
  const auto& row = record.value;
  if (row.contains("messages")) {
    if (row.contains("prompt") || row.contains("completion")) {
      record.fail("messages", "a row has either messages or prompt/completion, not both");
    }
    return finish(encode_messages(record, tokenizer));
  }
  if (!row.contains("prompt") && !row.contains("completion")) {
    record.fail("", "expected {\"prompt\", \"completion\"} or {\"messages\"}");
  }
  return finish(encode_prompt_completion(record, tokenizer, fallback_eos));
}

SftDataset read_sft_file(const std::string& path, const Tokenizer& tokenizer, const SftDataOptions& options) {
  SftDataset data;
  JsonlReader reader(path);
  while (auto record = reader.next_strict()) {
    SftExample ex = encode_sft_record(*record, tokenizer, options.eos);
    if (int64_t(ex.ids.size()) > options.max_length) {
      if (options.too_long == "error") {
        record->fail("", std::to_string(ex.ids.size()) + " tokens, more than max_length " +
                             std::to_string(options.max_length));
      }
      if (options.too_long == "skip") {
        ++data.skipped;
        continue;
      }
      ex.ids.resize(options.max_length);
      ex.target.resize(options.max_length);
      // Cut inside the prompt: nothing left to train on.
      if (ex.target_count() == 0) {
        ++data.skipped;
        continue;
      }
      ++data.truncated;
    }
    data.examples.push_back(std::move(ex));
  }
  if (data.examples.empty()) throw InputError(Location{path, 0, ""}, "no usable SFT example");
  if (data.truncated || data.skipped) {
    spdlog::warn("{}: {} examples; {} truncated to {} tokens, {} skipped", path, data.examples.size(),
                 data.truncated, options.max_length, data.skipped);
  }
  return data;
}

}  // namespace upm
