#pragma once
// Text in, text out: prompts as text (plain, or chats rendered through the
// model's chat template) are encoded, generated from and decoded.
//
//   Generator gen(model, &tokenizer);
//   auto outs = generate_text(gen, {"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"}, config);
//   outs[0].text
//
// generate_texts() is the jobs' form (profiles, updates, local teachers): the
// prompts reach a LanguageModel in its own prompt format (encode_prompt).

#include <string>
#include <vector>

#include "upm/infer/generator.h"
#include "upm/text/chat_template.h"

namespace upm {

struct LanguageModel;

// One continuation per prompt. `add_special` adds what the tokenizer adds
// around a sequence (e.g. Llama's BOS); a rendered chat prompt already has it.
// InputError if the generator has no tokenizer or a prompt encodes to nothing.
std::vector<Generation> generate_text(Generator& generator, const std::vector<std::string>& prompts,
                                      const GenerationConfig& config, bool add_special = false);

// group_size continuations of one prompt (a GRPO group), computed from one prefill.
std::vector<Generation> generate_text_group(Generator& generator, const std::string& prompt, int64_t group_size,
                                            const GenerationConfig& config, bool add_special = false);

// Messages in, text out: each chat is rendered by `chat_template` with the
// assistant's generation prompt (options.add_generation_prompt is forced on),
// then continued by generate_text. The rendered prompt carries its own
// special tokens (bos), so none are added.
std::vector<Generation> generate_chat(Generator& generator, const ChatTemplate& chat_template,
                                      const std::vector<std::vector<ChatMessage>>& chats,
                                      const GenerationConfig& config, ChatOptions options = {});

// One text per prompt of `lm`, each prompt encoded by encode_prompt (raw or a
// chat turn); config.max_batch_sequences prompts are decoded together, and
// prompt i draws from sequence_seed(config.sampling.seed, i). Invalid UTF-8
// (a generation cut inside a character) is replaced by U+FFFD, as Hugging
// Face's decode does, so that every text can be written to JSONL.
std::vector<std::string> generate_texts(LanguageModel& lm, const std::vector<std::string>& prompts,
                                        const GenerationConfig& config);

}  // namespace upm
