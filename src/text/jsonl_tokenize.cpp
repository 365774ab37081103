#include "upm/text/jsonl_tokenize.h"

#include <functional>

#include <nlohmann/json.hpp>

#include "upm/core/atomic_file.h"
#include "upm/core/jsonl.h"
#include "upm/text/utf8.h"

namespace upm {
namespace {

using nlohmann::json;

// Reads every record of `input`, lets `convert` rewrite it, writes `output`.
std::size_t convert_jsonl(const std::string& input, const std::string& output,
                          const std::function<void(const JsonlRecord&, json&)>& convert) {
  JsonlReader reader(input);
  std::string out;
  std::size_t count = 0;
  while (auto record = reader.next_strict()) {
    json value = record->value;
    convert(*record, value);
    out += value.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '\n';
    ++count;
  }
  write_file_atomic(output, out);
  return count;
}

}  // namespace

std::size_t tokenize_jsonl(const Tokenizer& tokenizer, const std::string& input, const std::string& output,
                           const TokenizeFileOptions& options) {
  return convert_jsonl(input, output, [&](const JsonlRecord& record, json& value) {
    std::string text = get_field<std::string>(record, value, "text");
    value.erase("text");
    value["ids"] = tokenizer.encode(text, options.add_special);
  });
}

std::size_t detokenize_jsonl(const Tokenizer& tokenizer, const std::string& input, const std::string& output,
                             const TokenizeFileOptions& options) {
  return convert_jsonl(input, output, [&](const JsonlRecord& record, json& value) {
    const json ids_json = get_field<json>(record, value, "ids");
    if (!ids_json.is_array()) record.fail("ids", "expected an array of token ids");
    std::vector<TokenId> ids;
    for (std::size_t i = 0; i < ids_json.size(); ++i) {
      const json& id = ids_json[i];
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= tokenizer.vocab_size())
        record.fail("ids[" + std::to_string(i) + "]", "not a token id of this tokenizer (vocabulary size " +
                                                          std::to_string(tokenizer.vocab_size()) + ")");
      ids.push_back(id.get<TokenId>());
    }
    value.erase("ids");
    value["text"] = text::utf8_lossy(tokenizer.decode(ids, options.skip_special));
  });
}

}  // namespace upm
