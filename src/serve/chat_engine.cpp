#include "upm/serve/chat_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/infer/generator.h"
#include "upm/model/causal_lm.h"
#include "upm/model/weights_loader.h"
#include "upm/serve/token_alternatives.h"
#include "upm/serve/token_text.h"
#include "upm/text/tokenizer.h"

namespace upm::serve {

namespace {

std::string folder_name(const std::string& dir) {
  std::filesystem::path path(dir);
  while (!path.empty() && path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

std::string finish_reason(FinishReason reason) {
  return reason == FinishReason::length || reason == FinishReason::deadline ? "length" : "stop";
}

// Capped at ~30 years: a larger budget would overflow the clock's nanosecond count.
std::chrono::steady_clock::time_point deadline_after(double seconds) {
  const std::chrono::duration<double> budget(std::min(seconds, 1e9));
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(budget);
}

bool any_cut_at_deadline(const std::vector<Generation>& outs) {
  return std::any_of(outs.begin(), outs.end(),
                     [](const Generation& g) { return g.finish_reason == FinishReason::deadline; });
}

GenerationConfig generation_config(const openai::ChatRequest& request, int64_t prompt_tokens) {
  GenerationConfig config;
  config.sampling.temperature = request.temperature;
  config.sampling.top_p = request.top_p;
  // No seed: a fresh one, as OpenAI samples differently on every call.
  config.sampling.seed = request.seed ? *request.seed : std::random_device{}() * 0x100000001ULL;
  config.max_new_tokens = request.max_tokens;
  config.max_length = prompt_tokens + request.max_tokens;
  config.stop_strings = request.stop;
  config.max_batch_sequences = std::max<int64_t>(request.n, 1);
  return config;
}

std::vector<openai::TokenLogprob> choice_logprobs(const Tokenizer& tokenizer, const Generation& generation,
                                                  const std::vector<PositionAlternatives>* alternatives) {
  std::vector<openai::TokenLogprob> out;
  for (size_t j = 0; j < generation.tokens.size(); ++j) {
    openai::TokenLogprob t;
    t.token = token_text(tokenizer, generation.tokens[j]);
    t.logprob = generation.logprobs[j];
    if (alternatives) {
      // The recomputed value, so that the chosen token and its alternatives come from one pass.
      t.logprob = (*alternatives)[j].chosen;
      for (const auto& [id, lp] : (*alternatives)[j].top) t.top_logprobs.push_back({token_text(tokenizer, id), lp});
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

ChatModel load_chat_model(const std::string& dir, const ModelRuntime& runtime, const std::string& id,
                          const std::string& chat_template) {
  ChatModel m{id.empty() ? folder_name(dir) : id, load_pretrained(dir, runtime), load_tokenizer(dir),
              ChatTemplate::for_model(dir, chat_template)};
  // A tokenizer larger than the embedding table would index out of range.
  if (m.tokenizer->vocab_size() > m.model->config().vocab_size) {
    throw InputError(Location{dir, 0, "vocab_size"}, "tokenizer has " + std::to_string(m.tokenizer->vocab_size()) +
                                                         " tokens but the model's vocabulary holds " +
                                                         std::to_string(m.model->config().vocab_size));
  }
  return m;
}

ChatEngine::ChatEngine(ChatModel model) : model_(std::move(model)) {}

int64_t ChatEngine::context_window() const { return model_.model->config().max_position_embeddings; }

std::vector<int64_t> ChatEngine::prompt_ids(const openai::ChatRequest& request) const {
  std::vector<upm::ChatMessage> chat;
  for (const auto& m : request.messages) chat.push_back({m.role, m.content});
  ChatOptions options;
  options.add_generation_prompt = true;
  options.enable_thinking = request.enable_thinking.value_or(true);
  // The rendered chat carries its own special tokens (bos).
  std::vector<TokenId> ids = model_.tokenizer->encode(model_.chat_template.render(chat, options), false);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

openai::ChatResponse ChatEngine::complete(const openai::ChatRequest& request, double max_seconds) {
  const std::vector<int64_t> prompt = prompt_ids(request);
  const int64_t window = context_window();
  if (int64_t(prompt.size()) + request.max_tokens > window) {
    throw InputError(Location{"request body", 0, "max_tokens"},
                     "the prompt (" + std::to_string(prompt.size()) + " tokens) plus max_tokens (" +
                         std::to_string(request.max_tokens) + ") exceed the model's context window of " +
                         std::to_string(window) + " tokens");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  Generator generator(*model_.model, model_.tokenizer.get());
  if (max_seconds > 0) generator.set_deadline(deadline_after(max_seconds));
  std::vector<Generation> outs =
      generator.generate_groups({prompt}, request.n, generation_config(request, int64_t(prompt.size())));
  if (any_cut_at_deadline(outs)) {
    spdlog::warn("chat completion cut at its {} s budget after {} generated tokens", max_seconds,
                 generator.last_stats().generated_tokens);
  }

  std::vector<std::vector<PositionAlternatives>> alternatives;
  if (request.logprobs && request.top_logprobs > 0) {
    std::vector<std::vector<int64_t>> continuations;
    for (const auto& g : outs) continuations.push_back(g.tokens);
    alternatives = token_alternatives(*model_.model, prompt, continuations, request.top_logprobs);
  }
  openai::ChatResponse response;
  response.model = model_.id;
  response.prompt_tokens = int64_t(prompt.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    openai::ChatChoice choice;
    choice.index = int64_t(i);
    choice.content = outs[i].text;
    choice.finish_reason = finish_reason(outs[i].finish_reason);
    if (request.logprobs) {
      choice.logprobs = choice_logprobs(*model_.tokenizer, outs[i], alternatives.empty() ? nullptr : &alternatives[i]);
    }
    response.completion_tokens += int64_t(outs[i].tokens.size());
    response.choices.push_back(std::move(choice));
  }
  return response;
}

}  // namespace upm::serve
