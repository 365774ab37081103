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

std::vector<ChatMessage> read_messages(const JsonlRecord& record) {
  const auto& messages = record.value["messages"];
  if (!messages.is_array() || messages.empty()) record.fail("messages", "must be a non-empty array");
  std::vector<ChatMessage> out;
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
    out.push_back({role, m["content"].get<std::string>()});
  }
  return out;
}

bool is_prefix(const std::string& prefix, const std::string& text) {
  return prefix.size() <= text.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// The conversation is rendered once by the model's chat template; each
// assistant turn's span is what the template adds between the generation
// prompt before it and the end of that turn, which is exactly what the model
// writes at inference (reply, think block where the template adds one, end
// marker). Trailing whitespace after the end marker stays context. Spans are
// tokenized separately, as prompt and generation are at inference.
SftExample encode_messages(const JsonlRecord& record, const Tokenizer& tokenizer, const ChatTemplate& chat) {
  const std::vector<ChatMessage> messages = read_messages(record);
  const std::string text = chat.render(messages);
  ChatOptions with_prompt;
  with_prompt.add_generation_prompt = true;
  SftExample ex;
  size_t done = 0;  // characters of `text` already tokenized
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role != "assistant") continue;
    const std::vector<ChatMessage> before(messages.begin(), messages.begin() + i);
    const std::vector<ChatMessage> through(messages.begin(), messages.begin() + i + 1);
    const std::string context = before.empty() ? std::string() : chat.render(before, with_prompt);
    const std::string turn = chat.render(through);
    if (before.empty() || !is_prefix(context, turn) || !is_prefix(turn, text) || context.size() < done) {
      record.fail("messages[" + std::to_string(i) + "]",
                  "the " + chat.name() +
                      " chat template does not render this conversation turn by turn "
                      "(an assistant turn must follow another turn, and earlier turns must render the same "
                      "when later ones are added); use a single-turn row or prompt/completion");
    }
    size_t end = turn.find_last_not_of(" \n") + 1;
    append(ex, tokenizer.encode(text.substr(done, context.size() - done), false), false);
    append(ex, tokenizer.encode(text.substr(context.size(), end - context.size()), false), true);
    done = end;
  }
  if (done == 0) record.fail("messages", "has no assistant message: nothing to train on");
  append(ex, tokenizer.encode(text.substr(done), false), false);
  return ex;
}

// Position 0 has no preceding token, so it is never a target.
SftExample finish(SftExample ex) {
  if (!ex.target.empty()) ex.target[0] = 0;
  return ex;
}

}  // namespace

SftExample encode_sft_record(const JsonlRecord& record, const Tokenizer& tokenizer, const SftDataOptions& options) {
  if (!record.ok()) throw InputError(record.where(), record.error);
  const auto& row = record.value;
  if (row.contains("messages")) {
    if (row.contains("prompt") || row.contains("completion")) {
      record.fail("messages", "a row has either messages or prompt/completion, not both");
    }
    return finish(encode_messages(record, tokenizer,
                                  options.chat_template ? *options.chat_template : ChatTemplate::named("plain")));
  }
  if (!row.contains("prompt") && !row.contains("completion")) {
    record.fail("", "expected {\"prompt\", \"completion\"} or {\"messages\"}");
  }
  return finish(encode_prompt_completion(record, tokenizer, options.eos));
}

SftDataset read_sft_file(const std::string& path, const Tokenizer& tokenizer, const SftDataOptions& options) {
  SftDataset data;
  JsonlReader reader(path);
  while (auto record = reader.next_strict()) {
    SftExample ex = encode_sft_record(*record, tokenizer, options);
    if (int64_t(ex.ids.size()) > options.max_length) {
      if (options.too_long == "error") {
        record->fail(
            "", std::to_string(ex.ids.size()) + " tokens, more than max_length " + std::to_string(options.max_length));
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
    spdlog::warn("{}: {} examples; {} truncated to {} tokens, {} skipped", path, data.examples.size(), data.truncated,
                 options.max_length, data.skipped);
  }
  return data;
}

}  // namespace upm
