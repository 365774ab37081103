#include "tokenizer_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "upm/core/error.h"
#include "upm/text/utf8.h"

namespace upm::text {
namespace {

using nlohmann::json;

// GPT-2's pre-tokenizer regex, used by ByteLevel with use_regex = true.
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw InputError(Location{source_, 0, field}, problem);
  }
  [[noreturn]] void unsupported(const std::string& feature) const {
    throw InputError(Location{source_, 0, ""}, feature + " is not supported");
  }
  const json& object_field(const json& object, const char* key, const std::string& path) const {
    if (!object.is_object()) fail(path, "expected an object");
    auto it = object.find(key);
    if (it == object.end()) fail(path + "." + key, "missing");
    return *it;
  }
  std::string string_field(const json& object, const char* key, const std::string& path) const {
    const json& value = object_field(object, key, path);
    if (!value.is_string()) fail(path + "." + key, "expected a string");
    return value.get<std::string>();
  }
  bool flag(const json& object, const char* key, const std::string& path, bool fallback) const {
    if (!object.is_object()) fail(path, "expected an object");
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(path + "." + key, "expected true or false");
    return it->get<bool>();
  }
  TokenId id_value(const json& value, const std::string& path, int64_t limit) const {
    if (!value.is_number_integer()) fail(path, "expected an integer id");
    int64_t id = value.get<int64_t>();
    if (id < 0 || id >= limit) fail(path, "id " + std::to_string(id) + " out of range");
    return static_cast<TokenId>(id);
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

std::string string_pattern(const Reader& in, const json& node, const std::string& path) {
  const json& pattern = in.object_field(node, "pattern", path);
  if (!pattern.is_object() || !pattern.contains("String")) in.unsupported(path + ".pattern (only {\"String\": ...})");
  std::string literal = in.string_field(pattern, "String", path + ".pattern");
  if (literal.empty()) in.fail(path + ".pattern", "empty pattern");
  return literal;
}

void parse_normalizer(const Reader& in, const json& normalizer, const std::string& path,
                      std::vector<NormalizerStep>& steps) {
  if (normalizer.is_null()) return;
  std::string type = in.string_field(normalizer, "type", path);
  if (type == "Sequence") {
    const json& list = in.object_field(normalizer, "normalizers", path);
    if (!list.is_array()) in.fail(path + ".normalizers", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      parse_normalizer(in, list[i], path + ".normalizers[" + std::to_string(i) + "]", steps);
    return;
  }
  NormalizerStep step;
  if (type == "NFC") {
    step.kind = NormalizerStep::Kind::kNfc;
  } else if (type == "Prepend") {  // Llama 2 / Mistral files: the prefix space
    step.kind = NormalizerStep::Kind::kPrepend;
    step.content = in.string_field(normalizer, "prepend", path);
  } else if (type == "Replace") {
    step.kind = NormalizerStep::Kind::kReplace;
    step.pattern = string_pattern(in, normalizer, path);
    step.content = in.string_field(normalizer, "content", path);
  } else {
    in.unsupported(path + ".type=" + type);
  }
  steps.push_back(std::move(step));
}

void parse_pre_tokenizer(const Reader& in, const json& node, const std::string& path,
                         std::vector<PreTokenizerStep>& steps) {
  if (node.is_null()) return;
  std::string type = in.string_field(node, "type", path);
  if (type == "Sequence") {
    const json& list = in.object_field(node, "pretokenizers", path);
    if (!list.is_array()) in.fail(path + ".pretokenizers", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      parse_pre_tokenizer(in, list[i], path + ".pretokenizers[" + std::to_string(i) + "]", steps);
    return;
  }
  PreTokenizerStep step;
  if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    step.add_prefix_space = in.flag(node, "add_prefix_space", path, true);
    if (in.flag(node, "use_regex", path, true))
      step.splitter = std::make_shared<RegexSplitter>(kGpt2Pattern, in.source());
  } else if (type == "Split") {
    if (in.flag(node, "invert", path, false)) in.unsupported(path + ".invert=true");
    std::string behavior = in.string_field(node, "behavior", path);
    if (behavior != "Isolated" && behavior != "Removed") in.unsupported(path + ".behavior=" + behavior);
    step.drop_matches = behavior == "Removed";
    const json& pattern = in.object_field(node, "pattern", path);
    if (pattern.is_object() && pattern.contains("Regex")) {
      step.splitter =
          std::make_shared<RegexSplitter>(in.string_field(pattern, "Regex", path + ".pattern"), in.source());
    } else if (pattern.is_object() && pattern.contains("String")) {
      // A literal: quote it for PCRE2 (\Q...\E cannot hold "\E" itself).
      std::string literal = in.string_field(pattern, "String", path + ".pattern"), quoted;
      for (char c : literal) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) quoted += '\\';
        quoted += c;
      }
      step.splitter = std::make_shared<RegexSplitter>(quoted, in.source());
    } else {
      in.fail(path + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    }
  } else if (type == "Metaspace") {
    step.kind = PreTokenizerStep::Kind::kMetaspace;
    step.replacement = in.string_field(node, "replacement", path);
    if (step.replacement.empty()) in.fail(path + ".replacement", "empty replacement");
    step.split_at_replacement = in.flag(node, "split", path, true);
    auto scheme = node.find("prepend_scheme");
    if (scheme == node.end() || scheme->is_null()) {
      // Files older than prepend_scheme say add_prefix_space instead.
      step.prepend = in.flag(node, "add_prefix_space", path, true) ? PreTokenizerStep::Prepend::kAlways
                                                                   : PreTokenizerStep::Prepend::kNever;
    } else {
      std::string name = in.string_field(node, "prepend_scheme", path);
      if (name == "always")
        step.prepend = PreTokenizerStep::Prepend::kAlways;
      else if (name == "first")
        step.prepend = PreTokenizerStep::Prepend::kFirst;
      else if (name == "never")
        step.prepend = PreTokenizerStep::Prepend::kNever;
      else
        in.unsupported(path + ".prepend_scheme=" + name);
    }
  } else {
    in.unsupported(path + ".type=" + type);
  }
  steps.push_back(std::move(step));
}

// True for byte-level BPE, false for SentencePiece-style BPE (symbols are
// characters; spaces become U+2581 in a Metaspace step or, in older Llama 2
// files, a Replace normalizer beside a byte_fallback model).
bool check_pre_tokenizer_shape(const Reader& in, const std::vector<PreTokenizerStep>& steps, bool byte_fallback) {
  auto has = [&](PreTokenizerStep::Kind kind) {
    return std::any_of(steps.begin(), steps.end(), [&](const PreTokenizerStep& step) { return step.kind == kind; });
  };
  bool byte_level = has(PreTokenizerStep::Kind::kByteLevel), metaspace = has(PreTokenizerStep::Kind::kMetaspace);
  if (byte_level && metaspace) in.unsupported("pre_tokenizer with both ByteLevel and Metaspace");
  if (metaspace || (steps.empty() && byte_fallback)) return false;
  // Byte-level BPE needs exactly one ByteLevel step, and it must come last:
  // a Split after it would see byte-mapped text.
  if (steps.empty() || steps.back().kind != PreTokenizerStep::Kind::kByteLevel)
    in.unsupported("a pre_tokenizer that does not end with ByteLevel or hold Metaspace (other BPE families)");
  for (std::size_t i = 0; i + 1 < steps.size(); ++i)
    if (steps[i].kind == PreTokenizerStep::Kind::kByteLevel)
      in.unsupported("pre_tokenizer with ByteLevel before another step");
  return true;
}

std::vector<AddedToken> parse_added_tokens(const Reader& in, const json& root, int64_t id_limit) {
  std::vector<AddedToken> tokens;
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  if (!it->is_array()) in.fail("added_tokens", "expected an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    std::string path = "added_tokens[" + std::to_string(i) + "]";
    AddedToken token;
    token.id = in.id_value(in.object_field(entry, "id", path), path + ".id", id_limit);
    token.content = in.string_field(entry, "content", path);
    token.special = in.flag(entry, "special", path, false);
    token.lstrip = in.flag(entry, "lstrip", path, false);
    token.rstrip = in.flag(entry, "rstrip", path, false);
    token.single_word = in.flag(entry, "single_word", path, false);
    // HF's default: special tokens are matched on the raw text.
    token.normalized = in.flag(entry, "normalized", path, !token.special);
    if (token.content.empty()) in.fail(path + ".content", "empty added token");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

BpeModel::Options check_model_options(const Reader& in, const json& model, bool byte_level) {
  std::string type = model.is_object() && model.contains("type") ? in.string_field(model, "type", "model") : "";
  if (type != "BPE") in.unsupported("model.type=" + (type.empty() ? std::string("<missing>") : type));
  auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null() && !(dropout->is_number() && dropout->get<double>() == 0.0))
    in.unsupported("model.dropout");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      in.unsupported(std::string("model.") + key);
  }
  BpeModel::Options options;
  options.byte_level = byte_level;
  options.ignore_merges = in.flag(model, "ignore_merges", "model", false);
  options.byte_fallback = in.flag(model, "byte_fallback", "model", false);
  // A byte-level vocabulary spells every byte already; fallback there is
  // a combination no released tokenizer uses.
  if (byte_level && options.byte_fallback) in.unsupported("model.byte_fallback=true with a ByteLevel pre_tokenizer");
  options.fuse_unk = !byte_level && in.flag(model, "fuse_unk", "model", false);
  return options;
}

std::vector<BpeModel::Merge> parse_merges(const Reader& in, const json& model,
                                          const std::unordered_map<std::string, TokenId>& vocab) {
  const json& list = in.object_field(model, "merges", "model");
  if (!list.is_array()) in.fail("model.merges", "expected an array");
  auto lookup = [&](const std::string& token, const std::string& path) {
    auto it = vocab.find(token);
    if (it == vocab.end()) in.fail(path, "token '" + token + "' is not in the vocabulary");
    return it->second;
  };
  std::vector<BpeModel::Merge> merges;
  merges.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string path = "model.merges[" + std::to_string(i) + "]";
    std::string left, right;
    const json& entry = list[i];
    if (entry.is_string()) {
      // "a b": exactly one space, as HF requires.
      const std::string& text = entry.get_ref<const std::string&>();
      auto space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
        in.fail(path, "expected \"left right\"");
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else {
      in.fail(path, "expected \"left right\" or [left, right]");
    }
    merges.push_back({lookup(left, path), lookup(right, path), lookup(left + right, path)});
  }
  return merges;
}

void parse_post_processor(const Reader& in, const json& node, const std::string& path, TokenizerJsonSpec& spec,
                          int64_t id_limit) {
  if (node.is_null()) return;
  std::string type = in.string_field(node, "type", path);
  if (type == "ByteLevel") return;  // only trims offsets; ids unchanged
  if (type == "Sequence") {
    const json& list = in.object_field(node, "processors", path);
    if (!list.is_array()) in.fail(path + ".processors", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      parse_post_processor(in, list[i], path + ".processors[" + std::to_string(i) + "]", spec, id_limit);
    return;
  }
  if (type != "TemplateProcessing") in.unsupported(path + ".type=" + type);
  const json& single = in.object_field(node, "single", path);
  const json& specials = in.object_field(node, "special_tokens", path);
  if (!single.is_array()) in.fail(path + ".single", "expected an array");
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    std::string item_path = path + ".single[" + std::to_string(i) + "]";
    const json& item = single[i];
    if (item.is_object() && item.contains("Sequence")) {
      if (seen_sequence) in.fail(item_path, "more than one sequence");
      seen_sequence = true;
      continue;
    }
    const json& special = in.object_field(item, "SpecialToken", item_path);
    std::string name = in.string_field(special, "id", item_path + ".SpecialToken");
    const json& ids = in.object_field(in.object_field(specials, name.c_str(), path + ".special_tokens"), "ids",
                                      path + ".special_tokens." + name);
    if (!ids.is_array()) in.fail(path + ".special_tokens." + name + ".ids", "expected an array");
    for (const json& id : ids)
      (seen_sequence ? spec.suffix_ids : spec.prefix_ids).push_back(in.id_value(id, item_path, id_limit));
  }
  if (!seen_sequence) in.fail(path + ".single", "no $A sequence");
}

int count_field(const Reader& in, const json& node, const char* key, const std::string& path) {
  const json& value = in.object_field(node, key, path);
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 1024)
    in.fail(path + "." + key, "expected a small count");
  return value.get<int>();
}

void parse_decoder(const Reader& in, const json& node, const std::string& path, std::vector<DecoderStep>& steps) {
  if (node.is_null()) return;
  std::string type = in.string_field(node, "type", path);
  if (type == "Sequence") {
    const json& list = in.object_field(node, "decoders", path);
    if (!list.is_array()) in.fail(path + ".decoders", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i)
      parse_decoder(in, list[i], path + ".decoders[" + std::to_string(i) + "]", steps);
    return;
  }
  DecoderStep step;
  if (type == "ByteLevel") {
    step.kind = DecoderStep::Kind::kByteLevel;
  } else if (type == "ByteFallback") {
    step.kind = DecoderStep::Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = DecoderStep::Kind::kFuse;
  } else if (type == "Replace") {
    step.kind = DecoderStep::Kind::kReplace;
    step.pattern = string_pattern(in, node, path);
    step.content = in.string_field(node, "content", path);
  } else if (type == "Strip") {
    step.kind = DecoderStep::Kind::kStrip;
    step.content = in.string_field(node, "content", path);
    std::size_t pos = 0;
    if (step.content.empty() || (next_code_point(step.content, pos), pos != step.content.size()))
      in.fail(path + ".content", "expected one character");
    step.strip_start = count_field(in, node, "start", path);
    step.strip_stop = count_field(in, node, "stop", path);
  } else {
    in.unsupported(path + ".type=" + type);
  }
  steps.push_back(std::move(step));
}

void check_top_level(const Reader& in, const json& root) {
  if (!root.is_object()) in.fail("", "expected a JSON object");
  for (const char* key : {"truncation", "padding"}) {
    auto it = root.find(key);
    if (it != root.end() && !it->is_null()) in.unsupported(key);
  }
}

TokenizerJsonSpec build_spec(const Reader& in, const json& root) {
  check_top_level(in, root);
  TokenizerJsonSpec spec;
  const json& model = in.object_field(root, "model", "");
  auto node = [&](const char* key) -> const json& {
    static const json null_json;
    auto it = root.find(key);
    return it == root.end() ? null_json : *it;
  };
  parse_pre_tokenizer(in, node("pre_tokenizer"), "pre_tokenizer", spec.pre_tokenizer);
  bool byte_level = check_pre_tokenizer_shape(in, spec.pre_tokenizer, in.flag(model, "byte_fallback", "model", false));
  BpeModel::Options options = check_model_options(in, model, byte_level);
  const json& vocab_json = in.object_field(model, "vocab", "model");
  if (!vocab_json.is_object()) in.fail("model.vocab", "expected an object");
  auto added_it = root.find("added_tokens");
  std::size_t added_count = added_it != root.end() && added_it->is_array() ? added_it->size() : 0;
  // Ids index a table: bound them so that a corrupt file cannot ask for
  // gigabytes, while leaving room for the holes real vocabularies have.
  int64_t id_limit = 4 * static_cast<int64_t>(vocab_json.size() + added_count) + 1024;

  std::unordered_map<std::string, TokenId> vocab;
  vocab.reserve(vocab_json.size());
  TokenId max_id = -1;
  for (auto it = vocab_json.begin(); it != vocab_json.end(); ++it) {
    TokenId id = in.id_value(it.value(), "model.vocab." + it.key(), id_limit);
    vocab.emplace(it.key(), id);
    max_id = std::max(max_id, id);
  }
  spec.added_tokens = parse_added_tokens(in, root, id_limit);
  for (const auto& token : spec.added_tokens) max_id = std::max(max_id, token.id);
  spec.id_to_token.assign(static_cast<std::size_t>(max_id + 1), std::string());
  for (const auto& [token, id] : vocab) spec.id_to_token[id] = token;
  for (const auto& token : spec.added_tokens) spec.id_to_token[token.id] = token.content;

  std::optional<TokenId> unk;
  auto unk_it = model.find("unk_token");
  if (unk_it != model.end() && !unk_it->is_null()) {
    if (!unk_it->is_string()) in.fail("model.unk_token", "expected a string");
    auto found = vocab.find(unk_it->get<std::string>());
    if (found == vocab.end()) in.fail("model.unk_token", "not in the vocabulary");
    unk = found->second;
  }
  auto merges = parse_merges(in, model, vocab);
  parse_normalizer(in, node("normalizer"), "normalizer", spec.normalizer);
  parse_post_processor(in, node("post_processor"), "post_processor", spec, id_limit);
  for (TokenId id : spec.prefix_ids)
    if (id > max_id) in.fail("post_processor", "id " + std::to_string(id) + " has no token");
  for (TokenId id : spec.suffix_ids)
    if (id > max_id) in.fail("post_processor", "id " + std::to_string(id) + " has no token");
  parse_decoder(in, node("decoder"), "decoder", spec.decoder);
  spec.model = std::make_unique<BpeModel>(std::move(vocab), merges, unk, options);
  return spec;
}

}  // namespace

TokenizerJsonSpec parse_tokenizer_json(std::string_view json_text, const std::string& source) {
  Reader in(source);
  json root = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (root.is_discarded()) in.fail("", "not valid JSON");
  try {
    return build_spec(in, root);
  } catch (const json::exception& e) {
    // A type the checks above did not anticipate: still the file's fault.
    in.fail("", std::string("malformed tokenizer.json: ") + e.what());
  }
}

}  // namespace upm::text
