#pragma once
// The contrastive objective of Q-Anchor training, as a pure tensor function:
// InfoNCE between user-query embeddings (anchors q_i) and the embeddings of
// each user's held-out positive behaviour (d_i), with in-batch negatives of
// up to four kinds and the paper's margin mask.
//
// Q-Anchor (Yuan et al. 2026, arXiv 2602.14492; its released modeling.py,
// contrastive_loss_with_masked_negatives) follows GTE's "improved
// contrastive loss" (Li et al. 2023, arXiv 2308.03281, sec. 3.3): a query is
// pushed away not only from the other rows' documents but also from the
// other queries, and its document from the other queries. With s = cos
// (dot product if !normalize) and t the temperature:
//
//   pos_i = s(q_i, d_i)
//   Z_i   = e^{pos_i/t}
//         + sum_{j != i} keep(i, s(q_i, d_j)) e^{s(q_i, d_j)/t}   query_document (classic in-batch negatives)
//         + sum_{j != i} keep(i, s(q_i, q_j)) e^{s(q_i, q_j)/t}   query_query
//         + sum_{j != i} keep(i, s(d_i, q_j)) e^{s(d_i, q_j)/t}   document_query (GTE's s(q_j, d_i))
//         + sum_{j != i} keep(i, s(d_i, d_j)) e^{s(d_i, d_j)/t}   document_document
//   keep(i, x) = x <= pos_i + margin          (margin < 0: keep every negative)
//   loss  = mean_i -log(e^{pos_i/t} / Z_i)
//
// The margin mask drops a negative of any kind that scores above the row's
// positive by more than `margin`: most likely a false negative (another user
// who did the same thing), as the paper's m_ij does for every kind.
// Q-Anchor's code keeps the first three kinds and leaves GTE's
// document-document term out (commented out of its Z); those are the
// defaults here. Read literally, GTE's sums run over every j for the
// query-document and document-query kinds, which counts the positive twice;
// Q-Anchor's code counts it once, as here. query_document alone is the
// classic InfoNCE (the loss before these kinds were added).
//
// Published defaults: temperature 0.07, margin 0.1. The joint objective adds
// the next-token loss with a configurable weight (the trainer's job).

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "upm/core/config.h"

namespace upm {

// Which similarities enter Z_i as negatives (j != i throughout).
struct InfoNceNegatives {
  bool query_document = true;      // s(q_i, d_j)
  bool query_query = true;         // s(q_i, q_j)
  bool document_query = true;      // s(d_i, q_j)
  bool document_document = false;  // s(d_i, d_j): GTE's fourth term, not in Q-Anchor's recipe
};

inline void describe(ConfigIO& io, InfoNceNegatives& c) {
  io.field("query_document", c.query_document);
  io.field("query_query", c.query_query);
  io.field("document_query", c.document_query);
  io.field("document_document", c.document_document);
  if (io.reading() && !(c.query_document || c.query_query || c.document_query || c.document_document)) {
    io.fail("query_document", "at least one kind of negative is needed (with none the loss is 0)");
  }
}

struct InfoNceConfig {
  double temperature = 0.07;
  double margin = 0.1;    // negatives above positive + margin are masked; < 0 disables the mask
  bool normalize = true;  // L2-normalise both sides (cosine similarity)
  InfoNceNegatives negatives;
};

inline void describe(ConfigIO& io, InfoNceConfig& c) {
  io.field("temperature", c.temperature).greater_than(0.0);
  io.field("margin", c.margin);
  io.field("normalize", c.normalize);
  io.section("negatives", c.negatives);
}

struct InfoNceTerms {
  at::Tensor loss;        // scalar, differentiable w.r.t. both inputs
  at::Tensor similarity;  // [B, B] s(q_i, d_j) (detached)
  int64_t masked = 0;     // negatives dropped by the margin mask, all kinds
};

// anchors, positives: [B, d] with B >= 1 (row i's positive is positives[i]).
InfoNceTerms info_nce_loss(const at::Tensor& anchors, const at::Tensor& positives, const InfoNceConfig& config);

}  // namespace upm
