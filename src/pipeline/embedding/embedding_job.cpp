#include "upm/pipeline/embedding/embedding_job.h"

#include <chrono>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/core/log.h"
#include "upm/core/progress.h"
#include "upm/data/user_log.h"
#include "upm/model/lora.h"
#include "upm/model/weights_loader.h"
#include "upm/pipeline/embedding/embedding_io.h"
#include "upm/pipeline/embedding/embedding_partial.h"
#include "upm/embed/embedding_projection.h"
#include "upm/embed/soft_prompts.h"
#include "upm/text/tokenizer.h"

namespace upm {

namespace {

// The paths and the knobs the embeddings depend on; a resumed run must match
// them (EMB.partial/settings.json). EMB itself is not among them.
std::map<std::string, std::string> job_metadata(const EmbedJobConfig& config, const std::string& marker) {
  nlohmann::json knobs = config_to_json(config);
  for (const char* path : {"model", "input", "queries", "output"}) knobs.erase(path);
  return {{"model", config.model},
          {"input", config.input},
          {"queries", config.queries},
          {"marker", marker},
          {"normalized", config.embedder.normalize ? "true" : "false"},
          {"projection", config.projection},
          {"adapter", config.adapter},
          {"soft_prompts", config.soft_prompts},
          {"config", knobs.dump()}};
}

}  // namespace

EmbedJobReport run_embedding_job(const EmbedJobConfig& config, const EmbedJobControl& control) {
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"model", config.model},
                                   {"input", config.input},
                                   {"queries", config.queries},
                                   {"output", config.output}}) {
    if (value.empty()) {
      throw InputError(Location{"", 0, key}, std::string("required: give --") + key + " or --set " + key + "=...");
    }
  }
  const auto start = std::chrono::steady_clock::now();
  // Inputs first: bad files fail before the model is loaded.
  std::vector<EmbeddingQuery> queries = read_embedding_queries(config.queries);
  data::ReadOptions strict;
  strict.strict = true;
  std::vector<data::UserLog> users = data::read_user_logs(config.input, strict);
  if (users.empty()) throw InputError(Location{config.input, 0, ""}, "no users in the file");

  std::shared_ptr<const Tokenizer> tokenizer = load_tokenizer(config.model);
  EmbeddingPrompts prompts(tokenizer, config.text);
  if (!prompts.has_marker_token()) {
    spdlog::warn("tokenizer has no '{}' token: embedding at each query's last token instead", config.text.marker_token);
  }
  std::shared_ptr<CausalLM> model = load_pretrained(config.model, config.runtime);
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
  const std::map<std::string, std::string> metadata = job_metadata(config, report.marker);
  EmbeddingPartial partial(config.output, metadata);
  const std::vector<std::string>& saved = partial.users();
  for (size_t u = 0; u < saved.size(); ++u) {
    if (u >= users.size() || users[u].user_id != saved[u]) {
      throw InputError(Location{config.input, 0, "user_id"},
                       "user " + std::to_string(u + 1) + " is not \"" + saved[u] + "\" as when " + partial.dir() +
                           " was saved; the input changed: remove the folder to start over");
    }
  }
  const size_t resumed = saved.size();
  report.resumed_users = int64_t(resumed);
  if (resumed > 0) spdlog::info("resuming: {} users already embedded in {}", resumed, partial.dir());

  // The users since the last saved chunk; saved every chunk_users users.
  EmbeddingTable chunk;
  std::vector<torch::Tensor> chunk_blocks;
  int64_t chunk_users = 0, saved_this_run = 0;
  Progress progress("embed", int64_t(users.size() - resumed), "users");
  for (size_t u = resumed; u < users.size(); ++u) {
    const data::UserLog& user = users[u];
    HistoryTokens history = prompts.history(user);
    UserEmbeddings e = embedder.embed(history.ids, query_ids);
    chunk_blocks.push_back(e.queries.to(torch::kCPU, torch::kFloat));
    for (const auto& q : queries) chunk.rows.push_back({user.user_id, q.query_id});
    if (e.mean_pooled.defined()) {
      chunk_blocks.push_back(e.mean_pooled.unsqueeze(0).to(torch::kCPU, torch::kFloat));
      chunk.rows.push_back({user.user_id, kHistoryMeanQueryId});
    }
    report.history_tokens += int64_t(history.ids.size());
    report.events_dropped += history.events_dropped;
    ++chunk_users;
    progress.advance();
    if (config.chunk_users > 0 && chunk_users == config.chunk_users && u + 1 < users.size()) {
      chunk.embeddings = torch::cat(chunk_blocks, 0);
      partial.save(chunk);
      saved_this_run += chunk_users;
      chunk = EmbeddingTable{};
      chunk_blocks.clear();
      chunk_users = 0;
      if (control.stop_after_users > 0 && saved_this_run >= control.stop_after_users) {
        report.stopped = true;
        report.users = int64_t(resumed) + saved_this_run;
        return report;
      }
    }
  }
  progress.finish();

  // EMB: every saved chunk (earlier runs' and this one's), then the rest.
  EmbeddingTable table;
  std::vector<torch::Tensor> blocks;
  for (const auto& saved_chunk : partial.chunks()) {
    blocks.push_back(saved_chunk.embeddings);
    table.rows.insert(table.rows.end(), saved_chunk.rows.begin(), saved_chunk.rows.end());
  }
  blocks.insert(blocks.end(), chunk_blocks.begin(), chunk_blocks.end());
  table.rows.insert(table.rows.end(), chunk.rows.begin(), chunk.rows.end());
  table.embeddings = torch::cat(blocks, 0);
  table.metadata = metadata;
  write_embedding_table(config.output, table);
  partial.remove();

  report.users = int64_t(users.size());
  report.rows = int64_t(table.rows.size());
  report.dim = embedder.dim();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

EmbedJobReport run_embedding_job(const EmbedJobPaths& paths, const EmbedJobConfig& config,
                                 const EmbedJobControl& control) {
  EmbedJobConfig with_paths = config;
  with_paths.model = paths.model;
  with_paths.input = paths.input;
  with_paths.queries = paths.queries;
  with_paths.output = paths.output;
  return run_embedding_job(with_paths, control);
}

nlohmann::json embed_job_summary(const EmbedJobReport& report) {
  return {{"users", report.users},
          {"rows", report.rows},
          {"dim", report.dim},
          {"history_tokens", report.history_tokens},
          {"events_dropped", report.events_dropped},
          {"marker", report.marker},
          {"seconds", report.seconds},
          {"resumed_users", report.resumed_users},
          {"stopped", report.stopped}};
}

}  // namespace upm
