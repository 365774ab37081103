#include "token_decoder.h"

#include "byte_level.h"
#include "upm/text/utf8.h"

namespace upm::text {
namespace {

// The byte of a "<0xXX>" token (HF accepts either case of hex digit).
int fallback_byte(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int high = digit(token[3]), low = digit(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// A run of fallback tokens becomes one token of their bytes.
std::vector<std::string> fuse_fallback_bytes(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  std::string bytes;
  bool in_run = false;
  for (std::string& token : tokens) {
    int byte = fallback_byte(token);
    if (byte >= 0) {
      bytes += static_cast<char>(byte);
      in_run = true;
      continue;
    }
    if (in_run) out.push_back(std::move(bytes));
    bytes.clear();
    in_run = false;
    out.push_back(std::move(token));
  }
  if (in_run) out.push_back(std::move(bytes));
  return out;
}

// Removes up to `start` leading and `stop` trailing copies of the one-character `mark`.
void strip(std::string& token, const std::string& mark, int start, int stop) {
  std::size_t begin = 0, end = token.size();
  for (int i = 0; i < start && token.compare(begin, mark.size(), mark) == 0; ++i) begin += mark.size();
  for (int i = 0; i < stop && end >= begin + mark.size() && token.compare(end - mark.size(), mark.size(), mark) == 0;
       ++i)
    end -= mark.size();
  token = token.substr(begin, end - begin);
}

}  // namespace

void replace_all(std::string& token, const std::string& pattern, const std::string& content) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t at = token.find(pattern); at != std::string::npos; at = token.find(pattern, start)) {
    out.append(token, start, at - start).append(content);
    start = at + pattern.size();
  }
  if (start == 0) return;
  out.append(token, start);
  token.swap(out);
}

std::string decode_tokens(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens) {
  const auto& alphabet = ByteLevelAlphabet::get();
  for (const DecoderStep& step : steps) {
    switch (step.kind) {
      case DecoderStep::Kind::kByteLevel:
        // A token with characters outside the alphabet (an added token) keeps its own bytes.
        for (std::string& token : tokens)
          if (auto bytes = alphabet.decode(token)) token = std::move(*bytes);
        break;
      case DecoderStep::Kind::kReplace:
        for (std::string& token : tokens) replace_all(token, step.pattern, step.content);
        break;
      case DecoderStep::Kind::kByteFallback: tokens = fuse_fallback_bytes(std::move(tokens)); break;
      case DecoderStep::Kind::kFuse: {
        std::string joined;
        for (const std::string& token : tokens) joined += token;
        tokens.assign(1, std::move(joined));
        break;
      }
      case DecoderStep::Kind::kStrip:
        for (std::string& token : tokens) strip(token, step.content, step.strip_start, step.strip_stop);
        break;
    }
  }
  std::string out;
  for (const std::string& token : tokens) out += token;
  return out;
}

}  // namespace upm::text
