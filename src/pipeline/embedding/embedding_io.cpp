#include "upm/pipeline/embedding/embedding_io.h"

#include <set>

#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"
#include "upm/model/safetensors.h"

namespace upm {

std::vector<EmbeddingQuery> read_embedding_queries(const std::string& path) {
  JsonlReader reader(path);
  std::vector<EmbeddingQuery> queries;
  std::map<std::string, size_t> first_line;
  while (auto record = reader.next_strict()) {
    EmbeddingQuery q;
    q.query_id = get_field<std::string>(*record, record->value, "query_id");
    q.text = get_field<std::string>(*record, record->value, "text");
    if (q.query_id.empty()) record->fail("query_id", "must not be empty");
    if (q.query_id[0] == '@')
      record->fail("query_id", "ids starting with '@' are reserved, got \"" + q.query_id + "\"");
    if (q.text.empty()) record->fail("text", "must not be empty");
    auto [it, fresh] = first_line.emplace(q.query_id, record->line);
    if (!fresh) {
      record->fail("query_id",
                   "duplicate query id \"" + q.query_id + "\" (first at line " + std::to_string(it->second) + ")");
    }
    queries.push_back(std::move(q));
  }
  if (queries.empty()) throw InputError(Location{path, 0, ""}, "no queries in the file");
  return queries;
}

namespace {

const std::string kSuffix = ".safetensors";

std::string strip_suffix(const std::string& prefix) {
  if (prefix.size() > kSuffix.size() && prefix.compare(prefix.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return prefix.substr(0, prefix.size() - kSuffix.size());
  }
  return prefix;
}

}  // namespace

std::string embeddings_path(const std::string& prefix) { return strip_suffix(prefix) + kSuffix; }
std::string embedding_index_path(const std::string& prefix) { return strip_suffix(prefix) + ".index.jsonl"; }
std::string embedding_partial_dir(const std::string& prefix) { return strip_suffix(prefix) + ".partial"; }

void write_embedding_table(const std::string& prefix, const EmbeddingTable& table) {
  const torch::Tensor& e = table.embeddings;
  if (!e.defined() || e.dim() != 2 || e.size(0) != int64_t(table.rows.size())) {
    throw Error("write_embedding_table: embeddings must be [rows, d] with one index row each");
  }
  std::map<std::string, std::string> metadata = table.metadata;
  metadata["format"] = "pt";
  metadata["upm.kind"] = "user_embeddings";
  metadata["rows"] = std::to_string(e.size(0));
  metadata["dim"] = std::to_string(e.size(1));
  write_safetensors(embeddings_path(prefix), {{"embeddings", e.to(torch::kCPU, torch::kFloat).contiguous()}}, metadata);
  std::string index;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    nlohmann::json line{{"row", r}, {"user_id", table.rows[r].user_id}, {"query_id", table.rows[r].query_id}};
    index += line.dump() + "\n";
  }
  write_file_atomic(embedding_index_path(prefix), index);
}

EmbeddingTable read_embedding_table(const std::string& prefix) {
  const std::string tensor_path = embeddings_path(prefix), index_path = embedding_index_path(prefix);
  EmbeddingTable table;
  {
    SafetensorsFile file(tensor_path);
    const SafetensorsEntry& entry = file.entry("embeddings");
    if (entry.dtype != "F32" || entry.shape.size() != 2) {
      throw InputError(Location{tensor_path, 0, "embeddings"}, "expected a float32 [n, d] tensor");
    }
    table.embeddings = file.tensor("embeddings").clone();
    table.metadata = file.header().metadata;
  }
  JsonlReader reader(index_path);
  while (auto record = reader.next_strict()) {
    const int64_t row = get_field<int64_t>(*record, record->value, "row");
    if (row != int64_t(table.rows.size())) {
      record->fail("row", "expected row " + std::to_string(table.rows.size()) + ", got " + std::to_string(row));
    }
    table.rows.push_back({get_field<std::string>(*record, record->value, "user_id"),
                          get_field<std::string>(*record, record->value, "query_id")});
  }
  if (int64_t(table.rows.size()) != table.embeddings.size(0)) {
    throw InputError(Location{index_path, 0, ""}, "has " + std::to_string(table.rows.size()) + " rows but " +
                                                      tensor_path + " holds " +
                                                      std::to_string(table.embeddings.size(0)));
  }
  return table;
}

}  // namespace upm
