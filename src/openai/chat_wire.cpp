#include "upm/openai/chat_wire.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "upm/text/utf8.h"
#include "wire_fields.h"

namespace upm::openai {

using nlohmann::json;
using wire::Field;

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxTopLogprobs = 20;  // OpenAI's limit

// Generated text may end inside a UTF-8 character: JSON strings must be valid.
std::string wire_text(const std::string& s) { return text::utf8_lossy(s); }

double wire_logprob(double lp) { return std::isfinite(lp) ? std::max(lp, kMinWireLogprob) : kMinWireLogprob; }

// The exact bytes of a token: its text may be a partial character.
json token_bytes(const std::string& token) {
  json bytes = json::array();
  for (unsigned char c : token) bytes.push_back(int(c));
  return bytes;
}

// ---- request ----

// OpenAI content: a string, or an array of parts of which we read the text ones.
std::string message_content(const Field& f) {
  if (f.present() && f.value->is_array()) {
    std::string text;
    for (size_t i = 0; i < f.value->size(); ++i) {
      Field part = wire::element(f, i);
      const json& p = wire::object_at(part);
      wire::one_of(wire::member(p, "type", part.source, part.path), {"text"});
      text += wire::string_at(wire::member(p, "text", part.source, part.path));
    }
    return text;
  }
  return wire::string_at(f);
}

std::vector<ChatMessage> read_messages(const Field& f) {
  const json& array = wire::array_at(f);
  if (array.empty()) f.fail("expected at least one message");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < array.size(); ++i) {
    Field m = wire::element(f, i);
    const json& object = wire::object_at(m);
    ChatMessage message;
    message.role = wire::one_of(wire::member(object, "role", m.source, m.path), {"system", "user", "assistant"});
    message.content = message_content(wire::member(object, "content", m.source, m.path));
    out.push_back(std::move(message));
  }
  return out;
}

// "stop": a string or an array of non-empty strings.
std::vector<std::string> read_stop(const Field& f) {
  if (!f.present()) return {};
  std::vector<std::string> out;
  if (f.value->is_string()) {
    out.push_back(f.value->get<std::string>());
  } else if (f.value->is_array()) {
    for (size_t i = 0; i < f.value->size(); ++i) out.push_back(wire::string_at(wire::element(f, i)));
  } else {
    f.fail("expected a string or an array of strings, got " + std::string(f.value->type_name()));
  }
  for (const auto& s : out) {
    if (s.empty()) f.fail("stop strings must not be empty");
  }
  return out;
}

// Seeds are any 64-bit integer (negative ones wrap, as numpy's do not: we only need determinism).
std::optional<uint64_t> read_seed(const Field& f) {
  if (!f.present()) return std::nullopt;
  if (f.value->is_number_unsigned()) return f.value->get<uint64_t>();
  return uint64_t(wire::integer_at(f, 0, std::numeric_limits<int64_t>::min(), kMaxInt));
}

// ---- response ----

TopLogprob read_top_logprob(const Field& f) {
  const json& object = wire::object_at(f);
  TopLogprob out;
  Field bytes = wire::member(object, "bytes", f.source, f.path);
  if (bytes.present()) {
    // The exact bytes when given (the token text may be a repaired partial character).
    const json& array = wire::array_at(bytes);
    for (size_t i = 0; i < array.size(); ++i) out.token += char(wire::integer_at(wire::element(bytes, i), 0, 0, 255));
  } else {
    out.token = wire::string_at(wire::member(object, "token", f.source, f.path));
  }
  if (bytes.present()) wire::string_at(wire::member(object, "token", f.source, f.path));
  Field lp = wire::member(object, "logprob", f.source, f.path);
  if (!lp.present()) lp.fail("missing (expected a number)");
  // A hair above 0 is rounding in the server's log-softmax, not a malformed answer.
  out.logprob = std::min(0.0, wire::number_at(lp, 0.0, -std::numeric_limits<double>::infinity(), 1e-4));
  return out;
}

TokenLogprob read_token_logprob(const Field& f) {
  TopLogprob chosen = read_top_logprob(f);
  TokenLogprob out{chosen.token, chosen.logprob, {}};
  Field top = wire::member(*f.value, "top_logprobs", f.source, f.path);
  if (top.present()) {
    const json& array = wire::array_at(top);
    for (size_t i = 0; i < array.size(); ++i) out.top_logprobs.push_back(read_top_logprob(wire::element(top, i)));
  }
  return out;
}

std::vector<TokenLogprob> read_choice_logprobs(const Field& f) {
  if (!f.present()) return {};
  const json& object = wire::object_at(f);
  Field content = wire::member(object, "content", f.source, f.path);
  if (!content.present()) return {};
  const json& array = wire::array_at(content);
  std::vector<TokenLogprob> out;
  for (size_t i = 0; i < array.size(); ++i) out.push_back(read_token_logprob(wire::element(content, i)));
  return out;
}

ChatChoice read_choice(const Field& f, size_t position) {
  const json& object = wire::object_at(f);
  ChatChoice choice;
  choice.index = wire::integer_at(wire::member(object, "index", f.source, f.path), int64_t(position), 0, kMaxInt);
  Field message = wire::member(object, "message", f.source, f.path);
  const json& m = wire::object_at(message);
  Field content = wire::member(m, "content", message.source, message.path);
  if (content.present()) choice.content = message_content(content);  // null content = empty
  Field finish = wire::member(object, "finish_reason", f.source, f.path);
  if (finish.present()) choice.finish_reason = wire::string_at(finish);
  choice.logprobs = read_choice_logprobs(wire::member(object, "logprobs", f.source, f.path));
  return choice;
}

json top_logprob_json(const std::string& token, double logprob) {
  return json{{"token", wire_text(token)}, {"logprob", wire_logprob(logprob)}, {"bytes", token_bytes(token)}};
}

json choice_logprobs_json(const std::vector<TokenLogprob>& logprobs) {
  json content = json::array();
  for (const auto& t : logprobs) {
    json entry = top_logprob_json(t.token, t.logprob);
    entry["top_logprobs"] = json::array();
    for (const auto& alt : t.top_logprobs) entry["top_logprobs"].push_back(top_logprob_json(alt.token, alt.logprob));
    content.push_back(std::move(entry));
  }
  return json{{"content", std::move(content)}};
}

}  // namespace

json to_json(const ChatRequest& request) {
  json messages = json::array();
  for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", wire_text(m.content)}});
  json out{{"model", request.model}, {"messages", std::move(messages)},  {"temperature", request.temperature},
           {"top_p", request.top_p}, {"max_tokens", request.max_tokens}, {"n", request.n}};
  if (request.seed) out["seed"] = *request.seed;
  if (!request.stop.empty()) out["stop"] = request.stop;
  if (request.logprobs) {
    out["logprobs"] = true;
    if (request.top_logprobs > 0) out["top_logprobs"] = request.top_logprobs;
  }
  if (request.enable_thinking) out["chat_template_kwargs"] = {{"enable_thinking", *request.enable_thinking}};
  return out;
}

ChatRequest chat_request_from_json(const json& body, const std::string& source) {
  const Field doc = wire::root(body, source);
  const json& object = wire::object_at(doc);
  auto field = [&](const std::string& key) { return wire::member(object, key, source, ""); };
  ChatRequest r;
  Field model = field("model");
  if (model.present()) r.model = wire::string_at(model);
  r.messages = read_messages(field("messages"));
  r.temperature = wire::number_at(field("temperature"), r.temperature, 0.0, 2.0);
  Field top_p = field("top_p");
  r.top_p = wire::number_at(top_p, r.top_p, 0.0, 1.0);
  if (r.top_p <= 0.0) top_p.fail("expected a number in (0, 1], got 0");
  // max_completion_tokens is OpenAI's newer name for max_tokens.
  Field max_completion = field("max_completion_tokens");
  r.max_tokens =
      wire::integer_at(max_completion.present() ? max_completion : field("max_tokens"), r.max_tokens, 1, kMaxInt);
  r.n = wire::integer_at(field("n"), r.n, 1, kMaxInt);
  r.seed = read_seed(field("seed"));
  r.stop = read_stop(field("stop"));
  r.logprobs = wire::bool_at(field("logprobs"), false);
  Field top = field("top_logprobs");
  r.top_logprobs = wire::integer_at(top, 0, 0, kMaxTopLogprobs);
  if (r.top_logprobs > 0 && !r.logprobs) top.fail("needs \"logprobs\": true");
  Field stream = field("stream");
  if (wire::bool_at(stream, false)) stream.fail("streaming is not supported (send \"stream\": false)");
  Field kwargs = field("chat_template_kwargs");
  if (kwargs.present()) {
    Field thinking = wire::member(wire::object_at(kwargs), "enable_thinking", source, kwargs.path);
    if (thinking.present()) r.enable_thinking = wire::bool_at(thinking, true);
  }
  return r;
}

json to_json(const ChatResponse& response) {
  json choices = json::array();
  for (const auto& c : response.choices) {
    json choice{{"index", c.index},
                {"message", {{"role", "assistant"}, {"content", wire_text(c.content)}}},
                {"finish_reason", c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason)},
                {"logprobs", nullptr}};
    if (!c.logprobs.empty()) choice["logprobs"] = choice_logprobs_json(c.logprobs);
    choices.push_back(std::move(choice));
  }
  return json{{"id", response.id},
              {"object", "chat.completion"},
              {"created", response.created},
              {"model", response.model},
              {"choices", std::move(choices)},
              {"usage",
               {{"prompt_tokens", response.prompt_tokens},
                {"completion_tokens", response.completion_tokens},
                {"total_tokens", response.prompt_tokens + response.completion_tokens}}}};
}

ChatResponse chat_response_from_json(const json& body, const std::string& source) {
  const Field doc = wire::root(body, source);
  const json& object = wire::object_at(doc);
  auto field = [&](const std::string& key) { return wire::member(object, key, source, ""); };
  ChatResponse r;
  if (field("id").present()) r.id = wire::string_at(field("id"));
  if (field("model").present()) r.model = wire::string_at(field("model"));
  r.created = wire::integer_at(field("created"), 0, 0, kMaxInt);
  Field choices = field("choices");
  const json& array = wire::array_at(choices);
  for (size_t i = 0; i < array.size(); ++i) r.choices.push_back(read_choice(wire::element(choices, i), i));
  Field usage = field("usage");
  if (usage.present()) {
    const json& u = wire::object_at(usage);
    r.prompt_tokens = wire::integer_at(wire::member(u, "prompt_tokens", source, "usage"), 0, 0, kMaxInt);
    r.completion_tokens = wire::integer_at(wire::member(u, "completion_tokens", source, "usage"), 0, 0, kMaxInt);
  }
  return r;
}

std::optional<double> top_logprob(const ChatChoice& choice, size_t position, const std::string& token) {
  if (position >= choice.logprobs.size()) return std::nullopt;
  const TokenLogprob& at = choice.logprobs[position];
  for (const auto& alt : at.top_logprobs) {
    if (alt.token == token) return alt.logprob;
  }
  if (at.token == token) return at.logprob;
  return std::nullopt;
}

}  // namespace upm::openai
