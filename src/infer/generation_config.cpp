#include "upm/infer/generation_config.h"

namespace upm {

void describe(ConfigIO& io, GenerationConfig& c) {
  io.section("sampling", c.sampling);
  io.field("max_new_tokens", c.max_new_tokens).at_least(0);
  io.field("max_length", c.max_length).at_least(0);
  io.field("stop_strings", c.stop_strings);
  io.field("stop_token_ids", c.stop_token_ids);
  io.field("stop_at_eos", c.stop_at_eos);
  io.field("skip_special_tokens", c.skip_special_tokens);
  io.field("max_batch_sequences", c.max_batch_sequences).at_least(1);
}

}  // namespace upm
