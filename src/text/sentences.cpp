#include "upm/text/sentences.h"

namespace upm {

namespace {

void add_sentence(const std::string& piece, std::vector<std::string>& out) {
  const size_t first = piece.find_first_not_of(" \n");
  if (first != std::string::npos) out.push_back(piece.substr(first));
}

}  // namespace

std::vector<std::string> split_sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    current += text[i];
    const bool end = (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
                     (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (!end) continue;
    add_sentence(current, out);
    current.clear();
  }
  add_sentence(current, out);
  return out;
}

}  // namespace upm
