#include "upm/pipeline/embedding_job.h"

#include <chrono>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/core/log.h"
#include "upm/core/progress.h"
#include "upm/data/user_log.h"
#include "upm/model/lora.h"
#include "upm/model/weights_loader.h"
#include "upm/pipeline/embedding_io.h"
#include "upm/pipeline/embedding_projection.h"
#include "upm/pipeline/soft_prompts.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

std::map<std::string, std::string> job_metadata(const EmbedJobPaths& paths, const EmbedJobConfig& config,
                                                const std::string& marker) {
  return {{"model", paths.model},
          {"input", paths.input},
          {"queries", paths.queries},
          {"marker", marker},
          {"normalized", config.embedder.normalize ? "true" : "false"},
          {"projection", config.projection},
          {"adapter", config.adapter},
          {"soft_prompts", config.soft_prompts},
          {"config", config_to_json(config).dump()}};
}

}  // namespace

EmbedJobReport run_embedding_job(const EmbedJobPaths& paths, const EmbedJobConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  // Inputs first: bad files fail before the model is loaded.
  std::vector<EmbeddingQuery> queries = read_embedding_queries(paths.queries);
  data::ReadOptions strict;
  strict.strict = true;
  std::vector<data::UserLog> users = data::read_user_logs(paths.input, strict);
  if (users.empty()) throw InputError(Location{paths.input, 0, ""}, "no users in the file");

  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(paths.model);
  EmbeddingPrompts prompts(tokenizer, config.text);
  if (!prompts.has_marker_token()) {
    spdlog::warn("tokenizer has no '{}' token: embedding at each query's last token instead",
                 config.text.marker_token);
  }
  std::shared_ptr<CausalLM> model = load_pretrained(paths.model, config.runtime);
  std::shared_ptr<EmbeddingProjection> head;
  if (!config.projection.empty()) {
    head = load_embedding_projection(config.projection, model->config().hidden_size,
                                     torch::TensorOptions().dtype(model->dtype()).device(model->device()));
  }
  std::unique_ptr<Lora> adapter;
  if (!config.adapter.empty()) adapter = Lora::load(*model, config.adapter);  // kept attached while embedding
  Embedder embedder(model, head, config.embedder);
  if (!config.soft_prompts.empty()) {
    embedder.set_soft_prompts(std::make_shared<SoftPrompts>(
        load_soft_prompts(config.soft_prompts, model->config().hidden_size, embedder.dim())));
  }

  std::vector<std::vector<int64_t>> query_ids;
  for (const auto& q : queries) query_ids.push_back(prompts.query(q.text));

  EmbedJobReport report;
  report.marker = prompts.marker();
  EmbeddingTable table;
  std::vector<torch::Tensor> blocks;
  Progress progress("embed", int64_t(users.size()), "users");
  for (const auto& user : users) {
    HistoryTokens history = prompts.history(user);
    UserEmbeddings e = embedder.embed(history.ids, query_ids);
    blocks.push_back(e.queries);
    for (const auto& q : queries) table.rows.push_back({user.user_id, q.query_id});
    if (e.mean_pooled.defined()) {
      blocks.push_back(e.mean_pooled.unsqueeze(0));
      table.rows.push_back({user.user_id, kHistoryMeanQueryId});
    }
    report.history_tokens += int64_t(history.ids.size());
    report.events_dropped += history.events_dropped;
    progress.advance();
  }
  progress.finish();
  table.embeddings = torch::cat(blocks, 0);
  table.metadata = job_metadata(paths, config, report.marker);
  write_embedding_table(paths.output, table);

  report.users = int64_t(users.size());
  report.rows = int64_t(table.rows.size());
  report.dim = embedder.dim();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace upm
