#include <fstream>

#include <gtest/gtest.h>

#include "../text/text_test_util.h"
#include "train_test_util.h"
#include "upm/core/error.h"
#include "upm/text/tokenizer.h"
#include "upm/train/batch_plan.h"
#include "upm/train/sft_data.h"

namespace upm {
namespace {

using test::TempDir;

class SftDataTest : public ::testing::Test {
 protected:
  void SetUp() override { tokenizer = load_tokenizer(test::tiny_tokenizer()); }
  std::string write(const std::string& text) {
    const std::string path = dir.file("data.jsonl");
    std::ofstream(path) << text;
    return path;
  }
  std::vector<int64_t> ids(const std::string& text) {
    auto v = tokenizer->encode(text, false);
    return {v.begin(), v.end()};
  }
  TempDir dir;
  std::unique_ptr<Tokenizer> tokenizer;
};

TEST_F(SftDataTest, PromptCompletionTrainsOnlyCompletionAndEos) {
  const std::string path = write(R"({"prompt": "Ratings: Heat: 5.", "completion": " likes crime."})"
                                 "\n");
  // A bare tokenizer.json names no EOS: the model config's id is the fallback.
  ASSERT_FALSE(tokenizer->special_tokens().eos.has_value());
  UPM_EXPECT_THROW_WITH(read_sft_file(path, *tokenizer, {}), InputError,
                        path + ":1: completion: the tokenizer has no EOS");
  SftDataOptions options;
  options.eos = *tokenizer->token_to_id("<|eos|>");
  auto data = read_sft_file(path, *tokenizer, options);
  ASSERT_EQ(data.examples.size(), 1u);
  const SftExample& ex = data.examples[0];
  const auto eos = options.eos;
  // This tokenizer's template adds <|bos|> before a sequence (and an EOS after, which must not follow the prompt).
  std::vector<int64_t> expected{*tokenizer->token_to_id("<|bos|>")};
  auto prompt = ids("Ratings: Heat: 5."), completion = ids(" likes crime.");
  expected.insert(expected.end(), prompt.begin(), prompt.end());
  const size_t prompt_len = expected.size();
  expected.insert(expected.end(), completion.begin(), completion.end());
  expected.push_back(*eos);
  EXPECT_EQ(ex.ids, expected);
  for (size_t i = 0; i < ex.target.size(); ++i) EXPECT_EQ(ex.target[i], i >= prompt_len ? 1 : 0) << "position " << i;
  EXPECT_EQ(ex.target_count(), int64_t(completion.size() + 1));
}

TEST_F(SftDataTest, MessagesTrainOnlyAssistantContentAndEndMarker) {
  auto data = read_sft_file(write(R"({"messages": [{"role": "user", "content": "hi"},)"
                                  R"( {"role": "assistant", "content": "hello"}]})"
                                  "\n"),
                            *tokenizer, {});
  const SftExample& ex = data.examples[0];
  // Unset template = "plain" ChatML. The prompt is tokenized as one string
  // (as at inference), the reply and its end marker are the only targets.
  std::vector<int64_t> expected, target;
  auto add = [&](const std::vector<int64_t>& part, int t) {
    expected.insert(expected.end(), part.begin(), part.end());
    target.insert(target.end(), part.size(), t);
  };
  add(ids("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"), 0);
  add(ids("hello<|im_end|>"), 1);
  add(ids("\n"), 0);
  EXPECT_EQ(ex.ids, expected);
  EXPECT_EQ(std::vector<int64_t>(ex.target.begin(), ex.target.end()), target);
  std::vector<TokenId> as_tokens(ex.ids.begin(), ex.ids.end());
  EXPECT_EQ(tokenizer->decode(as_tokens), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n");
}

// The decoded targets of `ex`, one string per contiguous run.
std::vector<std::string> target_runs(const SftExample& ex, const Tokenizer& tokenizer) {
  std::vector<std::string> runs;
  std::vector<TokenId> run;
  for (size_t i = 0; i <= ex.ids.size(); ++i) {
    if (i < ex.ids.size() && ex.target[i]) {
      run.push_back(TokenId(ex.ids[i]));
    } else if (!run.empty()) {
      runs.push_back(tokenizer.decode(run));
      run.clear();
    }
  }
  return runs;
}

const char* kTwoTurns =
    R"({"messages": [{"role": "system", "content": "Be brief."},)"
    R"( {"role": "user", "content": "Profile?"}, {"role": "assistant", "content": "Likes jazz."},)"
    R"( {"role": "user", "content": "More?"}, {"role": "assistant", "content": "Avoids horror."}]})";

TEST_F(SftDataTest, MessagesFollowTheLlama3TemplateWithItsOwnMarkers) {
  UPM_REFERENCE_FILE(path, test::kLlama3TokenizerJson);
  auto llama = load_tokenizer(path);
  SftDataOptions options;
  options.chat_template = ChatTemplate::named("llama3");
  auto data = read_sft_file(write(std::string(kTwoTurns) + "\n"), *llama, options);
  const SftExample& ex = data.examples[0];
  // The whole example is the template's text, begin-of-text included, tokenized as HF would.
  std::vector<ChatMessage> chat{{"system", "Be brief."},
                                {"user", "Profile?"},
                                {"assistant", "Likes jazz."},
                                {"user", "More?"},
                                {"assistant", "Avoids horror."}};
  std::vector<TokenId> as_tokens(ex.ids.begin(), ex.ids.end());
  EXPECT_EQ(llama->decode(as_tokens, false), ChatTemplate::named("llama3").render(chat));
  EXPECT_EQ(ex.ids.front(), *llama->token_to_id("<|begin_of_text|>"));
  EXPECT_EQ(target_runs(ex, *llama), (std::vector<std::string>{"Likes jazz.<|eot_id|>", "Avoids horror.<|eot_id|>"}));
}

TEST_F(SftDataTest, MessagesFollowTheQwen3TemplateIncludingItsThinkBlock) {
  UPM_REFERENCE_FILE(path, std::string(test::kQwen3Folder) + "/tokenizer.json");
  auto qwen = load_tokenizer(path);
  SftDataOptions options;
  options.chat_template = ChatTemplate::named("qwen3");
  auto data = read_sft_file(write(R"({"messages": [{"role": "user", "content": "Profile?"},)"
                                  R"( {"role": "assistant", "content": "<think>jazz ratings</think>Likes jazz."}]})"
                                  "\n"),
                            *qwen, options);
  // What the model writes after "<|im_start|>assistant\n" at inference with thinking on.
  EXPECT_EQ(target_runs(data.examples[0], *qwen),
            (std::vector<std::string>{"<think>\njazz ratings\n</think>\n\nLikes jazz.<|im_end|>"}));
  // Qwen3 drops earlier turns' think blocks once a later user turn follows:
  // no turn-by-turn rendering exists, and the row says so.
  const std::string two = write(std::string(kTwoTurns) + "\n");
  UPM_EXPECT_THROW_WITH(read_sft_file(two, *qwen, options), InputError,
                        two + ":1: messages[2]: the qwen3 chat template does not render");
}

TEST_F(SftDataTest, BadRowsNameFileLineAndField) {
  const std::string good = R"({"prompt": "a", "completion": "b"})";
  struct Case {
    std::string row, needle;
  };
  SftDataOptions options;
  options.eos = 857;
  for (const Case& c : std::vector<Case>{
           {R"({"prompt": "a"})", ":2: completion"},
           {R"({"prompt": 3, "completion": "b"})", ":2: prompt"},
           {R"({"messages": [{"role": "bot", "content": "x"}]})", ":2: messages[0].role"},
           {R"({"messages": [{"role": "assistant", "content": 5}]})", ":2: messages[0].content"},
           {R"({"messages": [{"role": "user", "content": "x"}]})", ":2: messages: has no assistant"},
           {R"({"messages": []})", ":2: messages"},
           {R"({"text": "x"})", ":2: expected"},
           {R"({"prompt": "a", "completion": "b")", ":2"},
       }) {
    const std::string path = write(good + "\n" + c.row + "\n");
    UPM_EXPECT_THROW_WITH(read_sft_file(path, *tokenizer, options), InputError, path + c.needle);
  }
}

TEST_F(SftDataTest, TooLongRowsAreTruncatedSkippedOrRejected) {
  const std::string path = write(R"({"prompt": "a b c d e f g h", "completion": " i j k l m n o p"})"
                                 "\n"
                                 R"({"prompt": "a", "completion": " b"})"
                                 "\n");
  SftDataOptions options;
  options.eos = 857;
  options.max_length = 6;
  // The first row's prompt alone is longer than 6: cutting it leaves no target, so it is dropped.
  auto cut_in_prompt = read_sft_file(path, *tokenizer, options);
  EXPECT_EQ(cut_in_prompt.truncated, 0);
  EXPECT_EQ(cut_in_prompt.skipped, 1);
  EXPECT_EQ(cut_in_prompt.examples.size(), 1u);
  const int64_t prompt_length = 1 + int64_t(ids("a b c d e f g h").size());  // <|bos|> + prompt
  options.max_length = prompt_length + 3;  // cuts inside the completion: kept, shortened
  auto truncated = read_sft_file(path, *tokenizer, options);
  EXPECT_EQ(truncated.truncated, 1);
  ASSERT_EQ(truncated.examples.size(), 2u);
  EXPECT_EQ(int64_t(truncated.examples[0].ids.size()), prompt_length + 3);
  EXPECT_EQ(truncated.examples[0].target_count(), 3);
  options.max_length = 6;
  options.too_long = "skip";
  auto skipped = read_sft_file(path, *tokenizer, options);
  EXPECT_EQ(skipped.examples.size(), 1u);
  EXPECT_EQ(skipped.skipped, 1);
  options.too_long = "error";
  UPM_EXPECT_THROW_WITH(read_sft_file(path, *tokenizer, options), InputError, path + ":1");
}

TEST(BatchPlanTest, EveryExampleOncePerEpochDeterministicAndBucketed) {
  std::vector<int64_t> lengths;
  for (int i = 0; i < 50; ++i) lengths.push_back((i * 37) % 23 + 1);
  BatchPlan plan(lengths, 4, 11, 3);
  ASSERT_EQ(plan.batches_per_epoch(), 12);  // 50 / 4, the remainder dropped
  BatchPlan again(lengths, 4, 11, 3);
  BatchPlan other_seed(lengths, 4, 12, 3);
  std::vector<int> seen(50, 0);
  bool differs = false;
  DataPosition pos;
  for (int b = 0; b < 12; ++b, pos = plan.next(pos)) {
    auto batch = plan.batch_at(pos);
    EXPECT_EQ(batch, again.batch_at(pos));
    differs = differs || batch != other_seed.batch_at(pos);
    for (size_t i = 1; i < batch.size(); ++i) EXPECT_LE(lengths[batch[i - 1]], lengths[batch[i]]);
    for (int64_t i : batch) ++seen[i];
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(pos.epoch, 1);
  EXPECT_EQ(pos.batch, 0);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 48);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 0), 2);
  EXPECT_NE(plan.batch_at({0, 0}), plan.batch_at({1, 0}));  // a new order each epoch
  EXPECT_THROW(BatchPlan(std::vector<int64_t>{1, 2}, 4, 0), InputError);
}

TEST(BatchPlanTest, RankSharesPartitionTheBatch) {
  std::vector<int64_t> batch{5, 3, 9, 1, 7, 2};
  EXPECT_EQ(rank_share(batch, 0, 2), (std::vector<int64_t>{5, 9, 7}));
  EXPECT_EQ(rank_share(batch, 1, 2), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(rank_share(batch, 0, 1), batch);
}

}  // namespace
}  // namespace upm
