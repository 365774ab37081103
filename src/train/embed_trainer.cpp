#include "upm/train/embed_trainer.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/data/user_log.h"
#include "upm/dist/process_group.h"
#include "upm/model/causal_lm.h"
#include "upm/model/lora.h"
#include "upm/embed/embedder.h"
#include "upm/embed/embedding_projection.h"
#include "upm/embed/kmeans.h"
#include "upm/embed/soft_prompts.h"
#include "upm/text/tokenizer.h"
#include "upm/train/batch_plan.h"
#include "upm/train/checkpoint.h"
#include "upm/train/embed_data.h"
#include "upm/train/info_nce.h"
#include "upm/train/optimizer.h"
#include "upm/train/sft_step.h"
#include "upm/train/train_loop.h"
#include "upm/train/trainable.h"

namespace upm {

namespace fs = std::filesystem;

namespace {

const char* kHeadFile = "projection.safetensors";
const char* kSoftPromptFile = "soft_prompts.safetensors";

struct Example {
  int64_t user = 0;  // index into the run's users
  const std::vector<int64_t>* query = nullptr;
  std::vector<int64_t> positive;  // the positive tower's input: [BOS] + text
  std::vector<int64_t> answer;    // lm_target answer: text + [EOS], the next-token loss's targets
};

}  // namespace

struct EmbedSession {
  std::unique_ptr<Trainable> trainable;  // the LM (full or LoRA), the optimizer and the model files
  std::shared_ptr<CausalLM> model;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::unique_ptr<Lora> frozen_adapter;  // soft-prompt mode: config.adapter, applied but not trained
  std::shared_ptr<EmbeddingProjection> head;
  std::vector<std::vector<int64_t>> histories;            // per user (only users with pairs)
  std::map<std::string, std::vector<int64_t>> query_ids;  // query text -> ids
  std::vector<int64_t> answer_prefix;                     // ids of config.answer_prefix
  std::vector<Example> examples;
  SoftPrompts soft;               // soft-prompt mode: prompts (trainable) and centroids
  std::vector<int64_t> clusters;  // soft-prompt mode: cluster of each user
};

namespace {

void check_vocab(const EmbedTrainConfig& config, const std::vector<int64_t>& ids, int64_t vocab) {
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab) {
      throw InputError(
          Location{config.tokenizer.empty() ? config.model : config.tokenizer, 0, "tokenizer"},
          "token id " + std::to_string(id) + " is outside the model's vocabulary of " + std::to_string(vocab));
    }
  }
}

void load_data(const EmbedTrainConfig& config, EmbedSession& s) {
  data::ReadOptions strict;
  strict.strict = true;
  std::vector<data::UserLog> logs = data::read_user_logs(config.data.logs, strict);
  std::vector<EmbedPair> pairs = read_embed_pairs(config.data.pairs);
  std::map<std::string, const data::UserLog*> by_id;
  for (const auto& log : logs) by_id[log.user_id] = &log;

  s.tokenizer = load_tokenizer(s.trainable->tokenizer_path());
  EmbeddingPrompts prompts(s.tokenizer, config.text);
  if (!prompts.has_marker_token()) {
    spdlog::warn("tokenizer has no '{}' token: training the embedding at each query's last token",
                 config.text.marker_token);
  }
  const int64_t vocab = s.model->config().vocab_size;
  std::map<std::string, int64_t> user_index;
  for (const auto& pair : pairs) {
    auto log = by_id.find(pair.user_id);
    if (log == by_id.end()) {
      throw InputError(Location{config.data.pairs, pair.line, "user_id"},
                       "user \"" + pair.user_id + "\" is not in " + config.data.logs);
    }
    auto [it, fresh] = user_index.emplace(pair.user_id, int64_t(s.histories.size()));
    if (fresh) {
      s.histories.push_back(prompts.history(*log->second).ids);
      if (s.histories.back().empty())
        throw InputError(Location{config.data.logs, 0, "events"}, "user \"" + pair.user_id + "\" has an empty history");
      check_vocab(config, s.histories.back(), vocab);
    }
    auto query = s.query_ids.find(pair.query);
    if (query == s.query_ids.end()) {
      query = s.query_ids.emplace(pair.query, prompts.query(pair.query)).first;
      check_vocab(config, query->second, vocab);
    }
    Example ex;
    ex.user = it->second;
    ex.query = &query->second;
    const auto& special = s.tokenizer->special_tokens();
    const std::vector<TokenId> text = s.tokenizer->encode(pair.positive, false);
    if (config.text.add_bos && special.bos) ex.positive.push_back(*special.bos);
    ex.positive.insert(ex.positive.end(), text.begin(), text.end());
    if (int64_t(ex.positive.size()) > config.data.max_positive_tokens)
      ex.positive.resize(size_t(config.data.max_positive_tokens));
    if (ex.positive.empty()) throw InputError(Location{config.data.pairs, pair.line, "positive"}, "no tokens");
    check_vocab(config, ex.positive, vocab);
    // The answer ends like an SFT completion (with EOS), so the model also
    // learns where the answer stops.
    ex.answer.assign(text.begin(),
                     text.begin() + std::min<int64_t>(int64_t(text.size()), config.data.max_positive_tokens));
    if (special.eos) ex.answer.push_back(*special.eos);
    check_vocab(config, ex.answer, vocab);
    s.examples.push_back(std::move(ex));
  }
  for (TokenId id : s.tokenizer->encode(config.answer_prefix, false)) s.answer_prefix.push_back(id);
  check_vocab(config, s.answer_prefix, vocab);
  if (int64_t(s.examples.size()) < config.batch_size) {
    throw InputError(
        Location{config.data.pairs, 0, "batch_size"},
        std::to_string(s.examples.size()) + " pairs cannot fill one batch of " + std::to_string(config.batch_size));
  }
}

void freeze(const std::vector<std::pair<std::string, torch::Tensor>>& params) {
  for (const auto& [name, p] : params) p.set_requires_grad(false);
}

std::vector<std::pair<std::string, torch::Tensor>> head_params(const EmbeddingProjection& head) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : head.named_parameters()) out.emplace_back("projection." + item.key(), item.value());
  return out;
}

torch::TensorOptions model_options(const CausalLM& model) {
  return torch::TensorOptions().dtype(model.dtype()).device(model.device());
}

// Users' query-free embeddings -> k-means clusters (fresh run) or the
// checkpoint's centroids (resume); each user goes to its nearest centroid, as
// the Embedder assigns at inference.
void assign_clusters(const EmbedTrainConfig& config, EmbedSession& s, const std::optional<std::string>& resume_from) {
  EmbedderSettings settings;
  settings.normalize = true;
  Embedder embedder(s.model, s.head, settings);
  std::vector<torch::Tensor> points;
  for (const auto& history : s.histories) points.push_back(embedder.history_embedding(history));
  torch::Tensor all = torch::stack(points);
  const int64_t hidden = s.model->config().hidden_size;
  if (resume_from) {
    s.soft = load_soft_prompts((fs::path(*resume_from) / kSoftPromptFile).string(), hidden, all.size(1));
  } else {
    if (int64_t(points.size()) < config.soft_prompt.clusters) {
      throw InputError(Location{config.data.pairs, 0, "soft_prompt.clusters"},
                       std::to_string(points.size()) + " users cannot form " +
                           std::to_string(config.soft_prompt.clusters) + " clusters");
    }
    KMeansConfig kc;
    kc.k = config.soft_prompt.clusters;
    kc.max_iterations = config.soft_prompt.kmeans_iterations;
    kc.seed = config.seed;
    s.soft.centroids = kmeans(all, kc).centroids.to(torch::kCPU);
    // Each cluster's vectors start as the embeddings of random vocabulary
    // tokens (a common prompt-tuning init: inputs the LM has seen).
    auto generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
    torch::Tensor ids =
        torch::randint(s.model->config().vocab_size, {config.soft_prompt.clusters * config.soft_prompt.tokens},
                       generator, torch::kLong);
    torch::NoGradGuard no_grad;
    s.soft.prompts = s.model->model->embed_tokens->weight.index_select(0, ids.to(s.model->device()))
                         .to(torch::kFloat)
                         .reshape({config.soft_prompt.clusters, config.soft_prompt.tokens, hidden})
                         .clone();
  }
  s.soft.prompts = s.soft.prompts.to(s.model->device()).detach().set_requires_grad(true);
  s.clusters = nearest_centroids(all, s.soft.centroids);
  std::vector<int64_t> sizes(size_t(s.soft.clusters()), 0);
  for (int64_t c : s.clusters) ++sizes[size_t(c)];
  std::string text;
  for (int64_t n : sizes) text += (text.empty() ? "" : " ") + std::to_string(n);
  spdlog::info("soft prompts: {} clusters of {} vectors; users per cluster: {}", s.soft.clusters(), s.soft.tokens(),
               text);
}

void build_trainable(const EmbedTrainConfig& config, EmbedSession& s, const std::optional<std::string>& resume_from) {
  const int64_t hidden = s.model->config().hidden_size;
  const auto options = model_options(*s.model);
  if (config.soft_prompt.enabled) {
    freeze(s.model->hf_tensors());
    if (!config.adapter.empty()) {
      s.frozen_adapter = Lora::load(*s.model, config.adapter);
      freeze(s.frozen_adapter->parameters());
      s.frozen_adapter->train(false);
    }
    if (config.projection.enabled) {
      s.head = load_embedding_projection(config.projection.init, hidden, options);
      freeze(head_params(*s.head));
    }
    assign_clusters(config, s, resume_from);
    s.trainable->make_optimizer({{"soft_prompts", s.soft.prompts}});
    return;
  }
  s.trainable->attach_weights(resume_from);
  NamedTensors params = s.trainable->weights();
  if (config.projection.enabled) {
    const std::string head_file = resume_from ? (fs::path(*resume_from) / kHeadFile).string() : config.projection.init;
    if (!head_file.empty()) {
      s.head = load_embedding_projection(head_file, hidden, options);
    } else {
      const int64_t inner = config.projection.inner > 0 ? config.projection.inner : hidden;
      s.head = std::make_shared<EmbeddingProjection>(hidden, inner, config.projection.out,
                                                     options);  // seeded by manual_seed
    }
    for (auto& p : head_params(*s.head)) params.push_back(p);
    s.trainable->extra_files = [head = s.head](const std::string& dir) {
      save_embedding_projection(*head, (fs::path(dir) / kHeadFile).string());
    };
  }
  s.trainable->make_optimizer(std::move(params));
}

// Soft-prompt mode's output is the prompts alone: the LM, adapter and head
// it ran with are inputs named in its config.
void write_model_files(const EmbedTrainConfig& config, const EmbedSession& s, const std::string& dir) {
  if (config.soft_prompt.enabled) {
    save_soft_prompts(s.soft, (fs::path(dir) / kSoftPromptFile).string());
    return;
  }
  s.trainable->write_model_files(dir);
}

// Right-padded rows of ids -> [B, T] ids and mask.
std::pair<torch::Tensor, torch::Tensor> pad_rows(const std::vector<std::vector<int64_t>>& rows) {
  int64_t T = 0;
  for (const auto& r : rows) T = std::max<int64_t>(T, int64_t(r.size()));
  torch::Tensor ids = torch::zeros({int64_t(rows.size()), T}, torch::kLong);
  torch::Tensor mask = torch::zeros({int64_t(rows.size()), T}, torch::kLong);
  for (size_t b = 0; b < rows.size(); ++b) {
    ids[int64_t(b)].narrow(0, 0, int64_t(rows[b].size())).copy_(torch::tensor(rows[b], torch::kLong));
    mask[int64_t(b)].narrow(0, 0, int64_t(rows[b].size())).fill_(1);
  }
  return {ids, mask};
}

struct AnchorOutput {
  torch::Tensor hidden;  // [B, hidden] at each row's embedding position
  torch::Tensor lm_nll;  // summed next-token NLL over the LM targets (undefined without the LM term)
};

bool answer_target(const EmbedTrainConfig& config) { return config.lm_target == "answer"; }

// The tokens of `ex` the next-token loss predicts: its answer, or every
// history token after the first.
int64_t lm_token_count(const EmbedTrainConfig& config, const EmbedSession& s, const Example& ex) {
  if (answer_target(config)) return int64_t(ex.answer.size());
  return std::max<int64_t>(0, int64_t(s.histories[size_t(ex.user)].size()) - 1);
}

// history + [soft prompt +] query [+ answer prefix + answer], one forward with
// gradients. The embedding is read at the query's last token (or marker);
// the answer after it cannot change it (causal attention), so the answer's
// next-token loss shares the forward at no cost to the anchors.
AnchorOutput anchor_forward(const EmbedTrainConfig& config, const EmbedSession& s, const std::vector<int64_t>& batch,
                            bool lm) {
  const bool soft = s.soft.prompts.defined();
  const bool answers = lm && answer_target(config);
  const int64_t P = soft ? s.soft.tokens() : 0;
  std::vector<std::vector<int64_t>> rows;
  std::vector<int64_t> last, target_start;
  for (int64_t i : batch) {
    const Example& ex = s.examples[size_t(i)];
    std::vector<int64_t> row = s.histories[size_t(ex.user)];
    row.insert(row.end(), size_t(P), 0);  // placeholders replaced by the prompt vectors
    row.insert(row.end(), ex.query->begin(), ex.query->end());
    last.push_back(int64_t(row.size()) - 1);
    if (answers) {
      row.insert(row.end(), s.answer_prefix.begin(), s.answer_prefix.end());
      target_start.push_back(int64_t(row.size()));
      row.insert(row.end(), ex.answer.begin(), ex.answer.end());
    } else {
      target_start.push_back(1);  // the history's tokens after the first
    }
    rows.push_back(std::move(row));
  }
  auto [ids, mask] = pad_rows(rows);
  const c10::Device device = s.model->device();
  ForwardInput in;
  in.input_ids = ids.to(device);
  in.attention_mask = mask.to(device);
  in.logits_for = LogitsFor::none;
  if (soft) {
    torch::Tensor embeds = s.model->model->embed_tokens->forward(in.input_ids).to(torch::kFloat);
    std::vector<torch::Tensor> with_prompts;
    for (size_t b = 0; b < batch.size(); ++b) {
      const Example& ex = s.examples[size_t(batch[b])];
      const int64_t H = int64_t(s.histories[size_t(ex.user)].size());
      const int64_t rest = embeds.size(1) - H - P;
      with_prompts.push_back(
          torch::cat({embeds[int64_t(b)].narrow(0, 0, H), s.soft.prompts[s.clusters[size_t(ex.user)]],
                      embeds[int64_t(b)].narrow(0, H + P, rest)}));
    }
    in.inputs_embeds = torch::stack(with_prompts);
  }
  ForwardOutput out = s.model->forward(in);
  AnchorOutput result;
  torch::Tensor index = torch::tensor(last, torch::kLong).to(device).view({-1, 1, 1});
  result.hidden = out.hidden.gather(1, index.expand({-1, 1, out.hidden.size(2)})).squeeze(1);
  if (lm && !soft) {
    torch::Tensor targets = torch::zeros(ids.sizes(), torch::kBool);
    int64_t tokens = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      const int64_t n = lm_token_count(config, s, s.examples[size_t(batch[b])]);
      if (n > 0) targets[int64_t(b)].narrow(0, target_start[b], n).fill_(true);
      tokens += n;
    }
    if (tokens > 0) result.lm_nll = target_nll_from_hidden(*s.model, out.hidden, in.input_ids, targets.to(device));
  }
  return result;
}

torch::Tensor positive_forward(const EmbedTrainConfig& config, const EmbedSession& s,
                               const std::vector<int64_t>& batch) {
  std::vector<std::vector<int64_t>> rows;
  for (int64_t i : batch) rows.push_back(s.examples[size_t(i)].positive);
  auto [ids, mask] = pad_rows(rows);
  ForwardInput in;
  in.input_ids = ids.to(s.model->device());
  in.attention_mask = mask.to(s.model->device());
  in.logits_for = LogitsFor::none;
  torch::Tensor hidden = s.model->forward(in).hidden.to(torch::kFloat);  // [B, T, H]
  torch::Tensor m = in.attention_mask.to(torch::kFloat).unsqueeze(2);
  if (config.positive_pooling == "mean") return (hidden * m).sum(1) / m.sum(1);
  torch::Tensor last = (in.attention_mask.sum(1) - 1).view({-1, 1, 1});
  return hidden.gather(1, last.expand({-1, 1, hidden.size(2)})).squeeze(1);
}

torch::Tensor apply_head(const EmbedSession& s, const torch::Tensor& h) {
  if (!s.head) return h.to(torch::kFloat);
  return s.head->forward(h.to(s.head->fc1->weight.scalar_type())).to(torch::kFloat);
}

// One step on this rank's share of the global `batch`. The loss each rank
// differentiates is scaled so that gradients summed over ranks are those of
// one process on the whole batch (with gathered negatives) or of the mean of
// the ranks' own InfoNCE (without):
//   gathered:  InfoNCE over all ranks' rows, identical on every rank, with
//              gradients only into the local rows (all_gather_rows)
//   local:     InfoNCE over the rank's rows / world
//   LM term:   the rank's summed NLL / the whole batch's LM tokens
StepReport embed_step(const EmbedTrainConfig& config, EmbedSession& s, const std::vector<int64_t>& batch, double lr,
                      Distributed* dist) {
  const bool soft = config.soft_prompt.enabled;
  const int world = dist ? dist->world_size() : 1;
  const bool gather = dist && config.gather_negatives;
  const std::vector<int64_t> share = dist ? rank_share(batch, dist->rank(), world) : batch;
  AdamW& optimizer = s.trainable->optimizer();
  optimizer.zero_grad();
  const bool lm = config.lm_weight > 0 && !soft;
  AnchorOutput anchor = anchor_forward(config, s, share, lm);
  torch::Tensor positives;
  if (soft) {
    torch::NoGradGuard frozen;  // nothing trainable in the positives' path
    positives = apply_head(s, positive_forward(config, s, share));
  } else {
    positives = apply_head(s, positive_forward(config, s, share));
  }
  torch::Tensor anchors = apply_head(s, anchor.hidden);
  if (gather) {
    anchors = all_gather_rows(dist, anchors);
    positives = all_gather_rows(dist, positives);
  }
  InfoNceTerms nce = info_nce_loss(anchors, positives, config.info_nce);
  torch::Tensor loss = gather ? nce.loss : nce.loss / double(world);
  // Every rank holds the whole batch's ids, so the LM normaliser needs no collective.
  int64_t lm_tokens = 0;
  if (lm) {
    for (int64_t i : batch) lm_tokens += lm_token_count(config, s, s.examples[size_t(i)]);
  }
  const double lm_nll = anchor.lm_nll.defined() ? anchor.lm_nll.item<double>() : 0.0;
  if (anchor.lm_nll.defined()) loss = loss + config.lm_weight * (anchor.lm_nll / double(lm_tokens));
  loss.backward();
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : optimizer.params()) params.push_back(p);
  all_reduce_grads(dist, params);
  const double grad_norm = clip_grad_norm(params, config.optimizer.max_grad_norm);
  optimizer.step(lr);

  // Local InfoNCE terms are averaged over ranks; gathered ones are already whole.
  std::vector<double> sums =
      sum_over_ranks(dist, {gather ? 0.0 : nce.loss.item<double>(), gather ? 0.0 : double(nce.masked), lm_nll});
  const double info_nce = gather || !dist ? nce.loss.item<double>() : sums[0] / double(world);
  const int64_t masked = gather || !dist ? nce.masked : int64_t(sums[1]);
  const double lm_loss = lm_tokens > 0 ? sums[2] / double(lm_tokens) : 0.0;
  StepReport report;
  report.loss = info_nce + config.lm_weight * lm_loss;
  report.fields = {{"info_nce", info_nce},
                   {"lm_loss", lm_loss},
                   {"masked", masked},
                   {"grad_norm", grad_norm},
                   {"pairs", int64_t(batch.size())}};
  return report;
}

}  // namespace

EmbedTrainer::EmbedTrainer(const EmbedTrainConfig& config, const std::optional<std::string>& resume_from,
                           Distributed* dist)
    : config_(config), s_(std::make_unique<EmbedSession>()), dist_(dist) {
  if (dist && config.batch_size % dist->world_size() != 0) {
    // Every rank embeds the same number of rows: the all-gather and the
    // per-rank averages assume equal shares.
    throw InputError("batch_size " + std::to_string(config.batch_size) + " is not a multiple of the " +
                     std::to_string(dist->world_size()) + " ranks (WORLD_SIZE)");
  }
  s_->trainable = std::make_unique<Trainable>(trainable_settings(config), build_model(trainable_settings(config)));
  s_->model = s_->trainable->shared_model();
  load_data(config, *s_);
  torch::manual_seed(config.seed);  // the fresh head's init (a resumed run loads it, then restores the RNG)
  build_trainable(config, *s_, resume_from);
}

EmbedTrainer::~EmbedTrainer() = default;

StepReport EmbedTrainer::step(const std::vector<int64_t>& batch, double lr) {
  return embed_step(config_, *s_, batch, lr, dist_);
}

void EmbedTrainer::write_model_files(const std::string& dir) const { upm::write_model_files(config_, *s_, dir); }

int64_t EmbedTrainer::pairs() const { return int64_t(s_->examples.size()); }
CausalLM& EmbedTrainer::model() { return *s_->model; }
AdamW& EmbedTrainer::optimizer() { return s_->trainable->optimizer(); }

std::vector<std::pair<std::string, torch::Tensor>> EmbedTrainer::head_tensors() const {
  return s_->head ? head_params(*s_->head) : std::vector<std::pair<std::string, torch::Tensor>>{};
}

EmbedTrainResult run_embed_training(const EmbedTrainConfig& config, const EmbedRunOptions& options) {
  Distributed* dist = options.dist;
  const bool writer = !dist || dist->rank() == 0;
  const int world = dist ? dist->world_size() : 1;
  const RunStart run = start_run(config.run_dir, config_to_json(config), config.threads, options.resume, writer);
  EmbedTrainer trainer(config, run.resume_from, dist);
  // The trainer seeded before building its head: a fresh run keeps that RNG.
  const TrainerState state = start_state(trainer.optimizer(), run.resume_from, std::nullopt, dist);

  // No length bucketing: a batch's rows are its negatives, and sorting by
  // history length would put one user's pairs together.
  BatchPlan plan(std::vector<int64_t>(size_t(trainer.pairs()), 1), config.batch_size, config.seed, 1);
  TrainLoopSettings settings = loop_settings(config, plan.batches_per_epoch(), options.stop_after_steps, "embed");
  settings.writer = writer;
  spdlog::info("embedding training ({}): {} pairs, {} per step over {} rank(s){}, {} steps, {} trainable tensors",
               config.soft_prompt.enabled ? "soft prompts" : (config.lora.enabled ? "LoRA" : "full"), trainer.pairs(),
               config.batch_size, world, world > 1 && config.gather_negatives ? " (negatives gathered)" : "",
               settings.total_steps, trainer.optimizer().params().size());

  TrainLoopHooks hooks;
  hooks.step = [&](const std::vector<int64_t>& batch, double lr, int64_t) { return trainer.step(batch, lr); };
  hooks.write_model = [&](const std::string& dir) { trainer.write_model_files(dir); };
  TrainLoopResult loop = run_train_loop(settings, plan, state, trainer.optimizer(), hooks);
  EmbedTrainResult result;
  result.steps = loop.steps;
  result.last_loss = loop.last_loss;
  result.output_dir = loop.output_dir;
  if (dist && !loop.stopped) dist->barrier();
  return result;
}

}  // namespace upm
