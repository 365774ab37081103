#include "upm/serve/token_text.h"

#include "upm/text/tokenizer.h"

namespace upm::serve {

std::string token_text(const Tokenizer& tokenizer, int64_t id) {
  std::string text = tokenizer.decode({TokenId(id)}, false);
  static const std::string kWordStart = "\xE2\x96\x81";  // U+2581, SentencePiece's space
  const std::string piece = tokenizer.id_to_token(TokenId(id));
  if (piece.rfind(kWordStart, 0) == 0 && (text.empty() || text[0] != ' ')) text = " " + text;
  return text;
}

}  // namespace upm::serve
