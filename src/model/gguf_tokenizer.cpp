#include "upm/model/gguf_tokenizer.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <set>
#include <unordered_map>
#include <vector>

#include "upm/core/error.h"
#include "upm/core/log.h"

namespace upm {
namespace {

using nlohmann::json;

enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& problem) {
  throw InputError(Location{source, 0, key}, "GGUF: " + problem);
}

// GPT-2's bytes_to_unicode(): printable bytes keep their code point, the
// other 68 map to 256, 257, ... in byte order.
std::vector<uint32_t> byte_alphabet() {
  std::vector<uint32_t> map(256);
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    map[b] = printable ? b : next++;
  }
  return map;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Code points of valid UTF-8 `text`; false if it is not valid UTF-8.
bool decode_utf8(const std::string& text, std::vector<uint32_t>& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return true;
}

class ByteLevelSpelling {
 public:
  ByteLevelSpelling() : alphabet_(byte_alphabet()), members_(alphabet_.begin(), alphabet_.end()) {}
  // Whether every character of `token` is in the byte alphabet.
  bool spelled(const std::string& token) const {
    std::vector<uint32_t> cps;
    if (!decode_utf8(token, cps)) return false;
    for (uint32_t cp : cps)
      if (!members_.count(cp)) return false;
    return true;
  }
  // The token as the vocabulary spells it: its UTF-8 bytes through the
  // alphabet, unless it is spelled so already (transformers' rule).
  std::string vocabulary_form(const std::string& token) const {
    if (spelled(token)) return token;
    std::string out;
    for (unsigned char b : token) append_utf8(out, alphabet_[b]);
    return out;
  }

 private:
  std::vector<uint32_t> alphabet_;
  std::set<uint32_t> members_;
};

// llama.cpp's pre-tokenizer regexes (llama-vocab.cpp), keyed by tokenizer.ggml.pre.
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json split_step(const std::string& regex) {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}};
}

json byte_level_step(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

json pre_tokenizer_for(const std::string& pre) {
  static const std::set<std::string> kDigitsThenGpt2{"smollm",    "starcoder", "refact",
                                                     "codeshell", "exaone",    "minerva-7b"};
  static const std::set<std::string> kLlama3{"llama3",    "llama-v3", "llama-bpe", "falcon3",
                                             "smaug-bpe", "dbrx",     "pixtral"};
  static const std::set<std::string> kQwen2{"qwen2", "deepseek-r1-qwen", "megrez"};
  if (kDigitsThenGpt2.count(pre))  // every digit its own piece, then GPT-2's split
    return {{"type", "Sequence"}, {"pretokenizers", json::array({split_step(R"(\p{N})"), byte_level_step(true)})}};
  if (kLlama3.count(pre))
    return {{"type", "Sequence"}, {"pretokenizers", json::array({split_step(kLlama3Split), byte_level_step(false)})}};
  if (kQwen2.count(pre))
    return {{"type", "Sequence"}, {"pretokenizers", json::array({split_step(kQwen2Split), byte_level_step(false)})}};
  if (pre != "gpt2" && pre != "default")
    spdlog::warn("GGUF tokenizer.ggml.pre \"{}\" is not known here; splitting text as GPT-2 does", pre);
  return byte_level_step(true);
}

std::vector<int64_t> token_types(const GgufHeader& header, const std::string& source, size_t count) {
  if (!header.find("tokenizer.ggml.token_type")) return std::vector<int64_t>(count, kNormal);
  std::vector<int64_t> types = gguf_integer_array(header, "tokenizer.ggml.token_type", source);
  if (types.size() != count)
    fail(source, "tokenizer.ggml.token_type",
         std::to_string(types.size()) + " types for " + std::to_string(count) + " tokens");
  return types;
}

std::optional<int64_t> special_id(const GgufHeader& header, const std::string& key, const std::string& source,
                                  size_t vocab) {
  auto id = gguf_unsigned(header, key, source);
  if (!id) return std::nullopt;
  if (*id >= vocab)
    fail(source, key,
         "token id " + std::to_string(*id) + " out of range (vocabulary of " + std::to_string(vocab) + ")");
  return static_cast<int64_t>(*id);
}

// `plain`: the post-processor when no special token is added.
json post_processor(std::optional<int64_t> bos, std::optional<int64_t> eos, bool add_bos, bool add_eos,
                    const std::vector<std::string>& tokens, const json& plain) {
  if (!(add_bos && bos) && !(add_eos && eos)) return plain;
  json single = json::array(), specials = json::object();
  auto special = [&](int64_t id) {
    single.push_back({{"SpecialToken", {{"id", tokens[id]}, {"type_id", 0}}}});
    specials[tokens[id]] = {{"id", tokens[id]}, {"ids", {id}}, {"tokens", {tokens[id]}}};
  };
  if (add_bos && bos) special(*bos);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (add_eos && eos) special(*eos);
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", single}, {"special_tokens", specials}};
}

// The parts of tokenizer.json that differ between the vocabulary families.
struct ModelParts {
  json model, pre_tokenizer, decoder, plain_post_processor;
  std::vector<bool> added, special;  // per id: an added token, and a special one
};

std::vector<json> added_token_list(const std::vector<std::string>& tokens, const ModelParts& parts) {
  std::vector<json> added;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!parts.added[i]) continue;
    added.push_back({{"id", static_cast<int64_t>(i)},
                     {"content", tokens[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", bool(parts.special[i])}});
  }
  return added;
}

// tokenizer.ggml.merges as [left, right] pairs, each naming tokens of `ids`.
json file_merges(const GgufHeader& header, const std::string& source,
                 const std::unordered_map<std::string, int64_t>& ids) {
  std::vector<std::string> merges = gguf_string_array(header, "tokenizer.ggml.merges", source);
  json merge_list = json::array();
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string key = "tokenizer.ggml.merges[" + std::to_string(i) + "]";
    auto space = merges[i].find(' ');
    if (space == std::string::npos || merges[i].find(' ', space + 1) != std::string::npos)
      fail(source, key, "expected \"left right\", got \"" + merges[i] + "\"");
    std::string left = merges[i].substr(0, space), right = merges[i].substr(space + 1);
    for (const std::string& token : {left, right, left + right}) {
      if (!ids.count(token))
        fail(source, key, "merge \"" + merges[i] + "\" names \"" + token + "\", which is not a token");
    }
    merge_list.push_back({left, right});
  }
  return merge_list;
}

ModelParts byte_level_parts(const GgufHeader& header, const std::string& source, const std::vector<std::string>& tokens,
                            const std::vector<int64_t>& types) {
  ByteLevelSpelling spelling;
  json vocab = json::object();
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string form = spelling.vocabulary_form(tokens[i]);
    if (!ids.emplace(form, static_cast<int64_t>(i)).second)
      fail(source, "tokenizer.ggml.tokens[" + std::to_string(i) + "]", "token \"" + tokens[i] + "\" appears twice");
    vocab[form] = static_cast<int64_t>(i);
  }
  ModelParts parts;
  parts.added.assign(tokens.size(), false);
  parts.special.assign(tokens.size(), false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    parts.special[i] = types[i] == kControl && spelling.spelled(tokens[i]);
    parts.added[i] = parts.special[i] || types[i] == kUserDefined;
  }
  std::string pre = gguf_string(header, "tokenizer.ggml.pre", source).value_or("default");
  parts.pre_tokenizer = pre_tokenizer_for(pre);
  parts.decoder = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  parts.plain_post_processor = {
      {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
  parts.model = {{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", nullptr},
                 {"continuing_subword_prefix", ""},
                 {"end_of_word_suffix", ""},
                 {"fuse_unk", false},
                 {"byte_fallback", false},
                 {"ignore_merges", false},
                 {"vocab", vocab},
                 {"merges", file_merges(header, source, ids)}};
  return parts;
}

// Byte offsets where each code point of valid UTF-8 `token` starts, and its size.
std::vector<size_t> code_point_starts(const std::string& token) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < token.size(); ++i)
    if ((static_cast<unsigned char>(token[i]) & 0xC0) != 0x80) starts.push_back(i);
  return starts;
}

std::vector<double> token_scores(const GgufHeader& header, const std::string& source, size_t count) {
  std::vector<double> scores = gguf_number_array(header, "tokenizer.ggml.scores", source);
  if (scores.size() != count)
    fail(source, "tokenizer.ggml.scores",
         std::to_string(scores.size()) + " scores for " + std::to_string(count) + " tokens");
  return scores;
}

// A SentencePiece vocabulary has no merges (transformers takes them from
// tokenizer.ggml.merges where a file has them); its generate_merges
// recovers them: every split of a token into two tokens is a merge, ranked by
// the whole token's score (higher first), then by the longer left part, then
// the longer right part (lengths in characters); ties keep the order of the
// token ids, and a token's own splits go by the ids of their parts.
json sentencepiece_merges(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                          const std::unordered_map<std::string, int64_t>& ids) {
  struct Merge {
    double score;
    size_t left_chars, right_chars;
    int64_t left_id, right_id;
    std::string left, right;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::vector<size_t> starts = code_point_starts(tokens[i]);
    size_t first = merges.size();
    for (size_t k = 1; k < starts.size(); ++k) {
      std::string left = tokens[i].substr(0, starts[k]), right = tokens[i].substr(starts[k]);
      auto l = ids.find(left), r = ids.find(right);
      if (l == ids.end() || r == ids.end()) continue;
      merges.push_back({scores[i], k, starts.size() - k, l->second, r->second, std::move(left), std::move(right)});
    }
    std::stable_sort(merges.begin() + first, merges.end(), [](const Merge& a, const Merge& b) {
      return std::tie(a.left_id, a.right_id) < std::tie(b.left_id, b.right_id);
    });
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(a.score, a.left_chars, a.right_chars) > std::tie(b.score, b.left_chars, b.right_chars);
  });
  json list = json::array();
  for (const Merge& merge : merges) list.push_back({merge.left, merge.right});
  return list;
}

// A "llama" vocabulary as HF converts a SentencePiece BPE model (Llama 2,
// Mistral): characters as symbols, <0xXX> byte fallback, unknown characters
// fused into one unk, spaces written U+2581 and one put before the text.
ModelParts sentencepiece_parts(const GgufHeader& header, const std::string& source,
                               const std::vector<std::string>& tokens, const std::vector<int64_t>& types,
                               const std::vector<std::optional<int64_t>>& special_ids, std::optional<int64_t> unk) {
  json vocab = json::object();
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!ids.emplace(tokens[i], static_cast<int64_t>(i)).second)
      fail(source, "tokenizer.ggml.tokens[" + std::to_string(i) + "]", "token \"" + tokens[i] + "\" appears twice");
    vocab[tokens[i]] = static_cast<int64_t>(i);
  }
  ModelParts parts;
  parts.added.assign(tokens.size(), false);
  parts.special.assign(tokens.size(), false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    parts.special[i] = types[i] == kControl || types[i] == kUnknown;
    parts.added[i] = parts.special[i] || types[i] == kUserDefined;
  }
  for (const auto& id : special_ids)  // bos/eos/unk/pad are special whatever their type
    if (id) parts.added[*id] = parts.special[*id] = true;

  // llama.cpp's add_space_prefix (default true); without it HF's
  // LlamaTokenizer(add_prefix_space=False) neither prepends nor strips.
  bool prefix_space = gguf_bool(header, "tokenizer.ggml.add_space_prefix", source).value_or(true);
  const std::string kSpace = "\xE2\x96\x81";  // U+2581
  parts.pre_tokenizer = {{"type", "Metaspace"},
                         {"replacement", kSpace},
                         {"prepend_scheme", prefix_space ? "first" : "never"},
                         {"split", false}};
  json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", kSpace}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (prefix_space) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  parts.decoder = {{"type", "Sequence"}, {"decoders", decoders}};
  parts.plain_post_processor = nullptr;
  parts.model = {{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", unk ? json(tokens[*unk]) : json()},
                 {"continuing_subword_prefix", nullptr},
                 {"end_of_word_suffix", nullptr},
                 {"fuse_unk", true},
                 {"byte_fallback", true},
                 {"ignore_merges", false},
                 {"vocab", vocab},
                 {"merges", header.find("tokenizer.ggml.merges")
                                ? file_merges(header, source, ids)
                                : sentencepiece_merges(tokens, token_scores(header, source, tokens.size()), ids)}};
  return parts;
}

}  // namespace

GgufTokenizerFiles tokenizer_files_from_gguf(const GgufHeader& header, const std::string& source,
                                             int64_t model_max_length) {
  std::string model = gguf_required_string(header, "tokenizer.ggml.model", source);
  if (model != "gpt2" && model != "llama")
    fail(source, "tokenizer.ggml.model",
         "tokenizer \"" + model +
             "\" is not supported (only \"gpt2\", byte-level BPE, and \"llama\", SentencePiece BPE)");
  std::vector<std::string> tokens = gguf_string_array(header, "tokenizer.ggml.tokens", source);
  if (tokens.empty()) fail(source, "tokenizer.ggml.tokens", "empty vocabulary");
  std::vector<int64_t> types = token_types(header, source, tokens.size());

  size_t n = tokens.size();
  auto bos = special_id(header, "tokenizer.ggml.bos_token_id", source, n);
  auto eos = special_id(header, "tokenizer.ggml.eos_token_id", source, n);
  auto unk = special_id(header, "tokenizer.ggml.unknown_token_id", source, n);
  auto pad = special_id(header, "tokenizer.ggml.padding_token_id", source, n);
  // llama.cpp adds a BOS to a SentencePiece vocabulary that does not say otherwise.
  bool add_bos = gguf_bool(header, "tokenizer.ggml.add_bos_token", source).value_or(model == "llama");
  bool add_eos = gguf_bool(header, "tokenizer.ggml.add_eos_token", source).value_or(false);
  ModelParts parts = model == "gpt2" ? byte_level_parts(header, source, tokens, types)
                                     : sentencepiece_parts(header, source, tokens, types, {bos, eos, unk, pad}, unk);

  GgufTokenizerFiles files;
  files.tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added_token_list(tokens, parts)},
      {"normalizer", nullptr},
      {"pre_tokenizer", parts.pre_tokenizer},
      {"post_processor", post_processor(bos, eos, add_bos, add_eos, tokens, parts.plain_post_processor)},
      {"decoder", parts.decoder},
      {"model", parts.model},
  };

  json& config = files.tokenizer_config;
  config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
            {"add_bos_token", add_bos},
            {"add_eos_token", add_eos},
            {"clean_up_tokenization_spaces", false},
            {"model_max_length", model_max_length}};
  auto name = [&](std::optional<int64_t> id) { return id ? json(tokens[*id]) : json(); };
  config["bos_token"] = name(bos);
  config["eos_token"] = name(eos);
  config["unk_token"] = name(unk);
  config["pad_token"] = name(pad);
  if (auto chat = gguf_string(header, "tokenizer.chat_template", source)) config["chat_template"] = *chat;

  json& generation = files.generation_config;
  generation = {{"_from_model_config", true}};
  if (bos) generation["bos_token_id"] = *bos;
  if (eos) generation["eos_token_id"] = *eos;
  if (pad) generation["pad_token_id"] = *pad;
  return files;
}

}  // namespace upm
