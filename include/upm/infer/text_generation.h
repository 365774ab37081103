#pragma once
// Text in, text out: prompts already rendered as text (a chat template's
// output, or plain text) are encoded, generated from and decoded.
//
//   Generator gen(model, &tokenizer);
//   auto outs = generate_text(gen, {"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"}, config);
//   outs[0].text

#include <string>
#include <vector>

#include "upm/infer/generator.h"

namespace upm {

// One continuation per prompt. `add_special` adds what the tokenizer adds
// around a sequence (e.g. Llama's BOS); a rendered chat prompt already has it.
// InputError if the generator has no tokenizer or a prompt encodes to nothing.
std::vector<Generation> generate_text(Generator& generator, const std::vector<std::string>& prompts,
                                      const GenerationConfig& config, bool add_special = false);

// group_size continuations of one prompt (a GRPO group), computed from one prefill.
std::vector<Generation> generate_text_group(Generator& generator, const std::string& prompt, int64_t group_size,
                                            const GenerationConfig& config, bool add_special = false);

}  // namespace upm
