#include "upm/train/sft_trainer.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/dist/process_group.h"
#include "upm/model/causal_lm.h"
#include "upm/text/tokenizer.h"
#include "upm/train/batch_plan.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"
#include "upm/train/train_loop.h"
#include "upm/train/trainable.h"

namespace upm {

namespace fs = std::filesystem;

double sft_eval_loss(CausalLM& model, const std::vector<SftExample>& examples, int64_t batch_size, Distributed* dist) {
  const int rank = dist ? dist->rank() : 0, world = dist ? dist->world_size() : 1;
  std::vector<int64_t> mine;
  for (int64_t i = rank; i < int64_t(examples.size()); i += world) mine.push_back(i);
  std::stable_sort(mine.begin(), mine.end(),
                   [&](int64_t a, int64_t b) { return examples[a].ids.size() < examples[b].ids.size(); });
  torch::NoGradGuard no_grad;
  double nll = 0.0, targets = 0.0;
  for (size_t start = 0; start < mine.size(); start += size_t(batch_size)) {
    std::vector<const SftExample*> group;
    for (size_t i = start; i < std::min(mine.size(), start + size_t(batch_size)); ++i)
      group.push_back(&examples[mine[i]]);
    SftBatch batch = collate_sft(group, model.device());
    nll += target_nll_sum(model, batch).item<double>();
    targets += double(batch.target_tokens);
  }
  const std::vector<double> sums = sum_over_ranks(dist, {nll, targets});
  nll = sums[0];
  targets = sums[1];
  return targets > 0 ? nll / targets : std::numeric_limits<double>::quiet_NaN();
}

namespace {

// Everything a run holds besides the loop's counters.
struct SftSession {
  std::unique_ptr<Trainable> trainable;
  std::unique_ptr<Tokenizer> tokenizer;
  SftDataset train, eval;
};

// The model config's eos_token_id (an id or a list: the first).
std::optional<TokenId> config_eos(const ModelConfig& config) {
  const auto& eos = config.eos_token_id;
  if (eos.is_number_integer()) return eos.get<TokenId>();
  if (eos.is_array() && !eos.empty() && eos[0].is_number_integer()) return eos[0].get<TokenId>();
  return std::nullopt;
}

// Where the chat template is read from: the tokenizer's folder when one is
// named (tokenizer_config.json lives beside tokenizer.json), else the model's.
std::string template_folder(const SftConfig& config) {
  namespace fs = std::filesystem;
  fs::path path = config.tokenizer.empty() ? config.model : config.tokenizer;
  return fs::is_directory(path) ? path.string() : path.parent_path().string();
}

void load_data(const SftConfig& config, SftSession& s) {
  s.tokenizer = load_tokenizer(s.trainable->tokenizer_path());
  SftDataOptions options;
  options.max_length = config.data.max_length;
  options.too_long = config.data.too_long;
  options.eos = config_eos(s.trainable->model().config());
  options.chat_template = ChatTemplate::for_model(template_folder(config), config.data.chat_template);
  s.train = read_sft_file(config.data.train_file, *s.tokenizer, options);
  if (!config.data.eval_file.empty()) s.eval = read_sft_file(config.data.eval_file, *s.tokenizer, options);
}

void check_vocab(const SftConfig& config, const SftSession& s) {
  const int64_t model_vocab = s.trainable->model().config().vocab_size;
  for (const auto* data : {&s.train, &s.eval}) {
    for (const auto& ex : data->examples) {
      for (int64_t id : ex.ids) {
        if (id >= model_vocab) {
          throw InputError(Location{config.tokenizer.empty() ? config.model : config.tokenizer, 0, "tokenizer"},
                           "token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                               std::to_string(model_vocab));
        }
      }
    }
  }
}

std::vector<SftBatch> micro_batches(const SftConfig& config, const SftSession& s, const std::vector<int64_t>& share) {
  std::vector<SftBatch> out;
  for (size_t start = 0; start < share.size(); start += size_t(config.micro_batch_size)) {
    std::vector<const SftExample*> group;
    for (size_t i = start; i < std::min(share.size(), start + size_t(config.micro_batch_size)); ++i) {
      group.push_back(&s.train.examples[share[i]]);
    }
    out.push_back(collate_sft(group, s.trainable->model().device()));
  }
  return out;
}

}  // namespace

SftResult run_sft(const SftConfig& config, const SftRunOptions& options) {
  Distributed* dist = options.dist;
  const bool writer = !dist || dist->rank() == 0;
  const int world = dist ? dist->world_size() : 1, rank = dist ? dist->rank() : 0;
  const RunStart run = start_run(config.run_dir, config_to_json(config), config.threads, options.resume, writer);

  SftSession s;
  s.trainable = std::make_unique<Trainable>(trainable_settings(config), build_model(trainable_settings(config)));
  Trainable& t = *s.trainable;
  load_data(config, s);
  check_vocab(config, s);
  t.attach_weights(run.resume_from);
  t.make_optimizer(t.weights());
  const TrainerState state = start_state(t.optimizer(), run.resume_from, config.seed, dist);

  std::vector<int64_t> lengths;
  for (const auto& ex : s.train.examples) lengths.push_back(int64_t(ex.ids.size()));
  const int64_t global_batch = config.micro_batch_size * config.grad_accum * world;
  BatchPlan plan(lengths, global_batch, config.seed, config.data.bucket_batches);
  TrainLoopSettings settings = loop_settings(config, plan.batches_per_epoch(), options.stop_after_steps, "sft");
  settings.eval_every = config.eval_every;
  settings.writer = writer;
  spdlog::info("SFT: {} train examples, {} per step over {} rank(s), {} steps, {} trainable tensors",
               s.train.examples.size(), global_batch, world, settings.total_steps, t.optimizer().params().size());

  TrainLoopHooks hooks;
  hooks.step = [&](const std::vector<int64_t>& batch, double lr, int64_t) {
    int64_t global_targets = 0;
    for (int64_t i : batch) global_targets += s.train.examples[i].target_count();
    StepStats stats = sft_train_step(t.model(), t.optimizer(), micro_batches(config, s, rank_share(batch, rank, world)),
                                     global_targets, lr, config.optimizer.max_grad_norm, dist);
    StepReport report;
    report.loss = stats.loss;
    report.tokens = stats.tokens * world;
    report.fields = {{"grad_norm", stats.grad_norm}, {"target_tokens", global_targets}};
    return report;
  };
  if (!s.eval.examples.empty()) {
    hooks.eval = [&] {
      t.set_training(false);
      const double loss = sft_eval_loss(t.model(), s.eval.examples, config.eval_batch_size, dist);
      t.set_training(true);
      return nlohmann::json{{"eval_loss", loss}};
    };
  }
  hooks.write_model = [&](const std::string& dir) { t.write_model_files(dir); };

  TrainLoopResult loop = run_train_loop(settings, plan, state, t.optimizer(), hooks);
  SftResult result;
  result.steps = loop.steps;
  result.last_loss = loop.last_loss;
  if (loop.last_eval.contains("eval_loss")) result.eval_loss = loop.last_eval["eval_loss"].get<double>();
  result.output_dir = loop.output_dir;
  if (dist && !loop.stopped) dist->barrier();
  return result;
}

}  // namespace upm
