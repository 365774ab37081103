#pragma once
// Files of the embedding job.
//
// Queries (JSONL, one task query per line, applied to every user):
//   {"query_id": "buys_insurance", "text": "Will this user buy insurance?"}
// query_id: non-empty, unique, not starting with '@' (reserved for rows the
// embedder adds itself, such as "@history_mean"); text: non-empty.
//
// Output EMB (a path prefix; a trailing ".safetensors" is dropped):
//   EMB.safetensors    tensor "embeddings", float32 [n, d], plus metadata
//                      (upm.kind = user_embeddings, rows, dim, model, marker, ...)
//   EMB.index.jsonl    line r: {"row": r, "user_id": ..., "query_id": ...}
// Both are written atomically (temporary + rename), the index last.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

namespace upm {

// The query id of the query-free baseline row (mean-pooled history).
inline constexpr const char* kHistoryMeanQueryId = "@history_mean";

struct EmbeddingQuery {
  std::string query_id;
  std::string text;
};

// Reads and validates a queries file; InputError "file:line: field: problem".
std::vector<EmbeddingQuery> read_embedding_queries(const std::string& path);

struct EmbeddingRow {
  std::string user_id;
  std::string query_id;
};

struct EmbeddingTable {
  torch::Tensor embeddings;  // [n, d] float32
  std::vector<EmbeddingRow> rows;
  std::map<std::string, std::string> metadata;
};

// "EMB" or "EMB.safetensors" -> the two file paths.
std::string embeddings_path(const std::string& prefix);
std::string embedding_index_path(const std::string& prefix);
// Where an interrupted job keeps its finished users (embedding_partial.h).
std::string embedding_partial_dir(const std::string& prefix);

void write_embedding_table(const std::string& prefix, const EmbeddingTable& table);
// Reads both files back; InputError when they disagree (row count, row
// numbers) or are malformed.
EmbeddingTable read_embedding_table(const std::string& prefix);

}  // namespace upm
