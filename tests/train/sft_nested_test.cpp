// SFT rows are read strictly: a 200 KB nested row stops the read with its
// file:line:field, never a crash.
#include <fstream>

#include <gtest/gtest.h>

#include "../text/text_test_util.h"
#include "train_test_util.h"
#include "upm/core/error.h"
#include "upm/text/tokenizer.h"
#include "upm/train/sft_data.h"

namespace upm {
namespace {

TEST(SftNestedRows, ADeepRowIsAnInputErrorNamingLineAndField) {
  test::TempDir dir;
  auto tokenizer = load_tokenizer(test::tiny_tokenizer());
  const std::string path = dir.file("rows.jsonl");
  std::ofstream(path) << R"({"prompt": "a", "completion": "b"})"
                      << "\n"
                      << R"({"messages": [{"role": "user", "content": )" << std::string(100000, '[')
                      << std::string(100000, ']') << "}]}\n";
  SftDataOptions options;
  options.eos = *tokenizer->token_to_id("<|eos|>");
  UPM_EXPECT_THROW_WITH(read_sft_file(path, *tokenizer, options), InputError,
                        path + ":2: messages[0].content: nested deeper than 64 levels");
}

}  // namespace
}  // namespace upm
