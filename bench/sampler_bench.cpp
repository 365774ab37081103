// Sampler cost per decode step beside the machine's memory bandwidth: the
// sampler reads the [B, V] logits a few times, so its time should be a small
// multiple of one pass over them.
#include <iostream>

#include <torch/torch.h>

#include "baseline.h"
#include "upm/infer/sampler.h"

int main() {
  c10::InferenceMode guard;
  torch::Device device(torch::kCPU);
  nlohmann::json out;
  out["baseline"] = upm::bench::machine_baseline(device);
  const int64_t vocab = 151936;  // Qwen3
  for (int64_t batch : {1, 16}) {
    // LM logits are peaked (the best ~1k tokens hold most of the mass);
    // scaled normal noise gives that shape.
    auto logits = torch::randn({batch, vocab}) * 5.0;
    std::vector<int64_t> rows(batch);
    for (int64_t i = 0; i < batch; ++i) rows[i] = i;
    for (const char* mode : {"greedy", "top_p"}) {
      upm::SamplingConfig config;
      if (std::string(mode) == "greedy")
        config.temperature = 0;
      else
        config.top_p = 0.9;
      upm::TokenSampler sampler(config, batch);
      double s = upm::bench::time_median([&] { sampler.sample(logits, rows); }, 21, 3, device);
      double one_pass = double(batch * vocab * 4) / (out["baseline"]["memory_read_gbps"].get<double>() * 1e9);
      out["sample"].push_back(
          {{"batch", batch}, {"mode", mode}, {"ms_per_step", s * 1e3}, {"logit_passes_equivalent", s / one_pass}});
    }
  }
  std::cout << out.dump(2) << std::endl;
}
