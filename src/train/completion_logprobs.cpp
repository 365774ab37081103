#include "upm/train/completion_logprobs.h"

#include <algorithm>

#include <torch/torch.h>

#include "upm/core/error.h"
#include "upm/infer/padded_batch.h"
#include "upm/model/causal_lm.h"

namespace upm {

namespace {

int64_t longest_completion(const std::vector<CompletionRef>& rows) {
  int64_t longest = 0;
  for (const auto& r : rows) longest = std::max<int64_t>(longest, int64_t(r.completion->size()));
  return std::max<int64_t>(longest, 1);
}

// Rows laid out for one decoder pass. Rows with the same prompt (a GRPO
// group) share one packed row: the prompt once (segment 0), then each
// completion as its own segment that sees only the prompt and itself
// (CausalLM segment_ids), positions running on from the prompt's end. A
// completion's last token is left out: nothing is predicted from it.
struct PromptPacking {
  PaddedBatch batch;                                              // [R, T] ids + mask, right-padded
  torch::Tensor positions;                                        // [R, T] int64
  torch::Tensor segments;                                         // [R, T] int64
  std::vector<int64_t> packed_row, prompt_end, completion_start;  // per input row
};

PromptPacking pack_by_prompt(const std::vector<CompletionRef>& rows, bool share_prompts) {
  PromptPacking p;
  std::vector<std::vector<int64_t>> ids, positions, segments;
  std::vector<const std::vector<int64_t>*> packed_prompt;
  for (const auto& r : rows) {
    int64_t at = -1;
    for (size_t g = 0; share_prompts && g < packed_prompt.size() && at < 0; ++g) {
      if (packed_prompt[g] == r.prompt || *packed_prompt[g] == *r.prompt) at = int64_t(g);
    }
    const int64_t P = int64_t(r.prompt->size());
    if (at < 0) {
      at = int64_t(ids.size());
      packed_prompt.push_back(r.prompt);
      ids.push_back(*r.prompt);
      positions.emplace_back(size_t(P));
      for (int64_t i = 0; i < P; ++i) positions.back()[size_t(i)] = i;
      segments.emplace_back(size_t(P), 0);
    }
    auto& row_ids = ids[size_t(at)];
    const int64_t segment = int64_t(segments[size_t(at)].back()) + 1;
    p.packed_row.push_back(at);
    p.prompt_end.push_back(P);
    p.completion_start.push_back(int64_t(row_ids.size()));
    const auto& c = *r.completion;
    for (size_t j = 0; j + 1 < c.size(); ++j) {
      row_ids.push_back(c[j]);
      positions[size_t(at)].push_back(P + int64_t(j));
      segments[size_t(at)].push_back(segment);
    }
  }
  p.batch = pad_sequences(ids, PadSide::right);
  const int64_t R = int64_t(ids.size()), T = p.batch.ids.size(1);
  p.positions = torch::zeros({R, T}, torch::kLong);
  p.segments = torch::zeros({R, T}, torch::kLong);
  for (int64_t r = 0; r < R; ++r) {
    const int64_t n = int64_t(ids[size_t(r)].size());
    p.positions[r].narrow(0, 0, n).copy_(torch::tensor(positions[size_t(r)], torch::kLong));
    p.segments[r].narrow(0, 0, n).copy_(torch::tensor(segments[size_t(r)], torch::kLong));
  }
  return p;
}

}  // namespace

torch::Tensor completion_mask(const std::vector<CompletionRef>& rows, const c10::Device& device) {
  const int64_t B = int64_t(rows.size()), Tc = longest_completion(rows);
  torch::Tensor mask = torch::zeros({B, Tc}, torch::kFloat);
  for (int64_t b = 0; b < B; ++b) mask[b].narrow(0, 0, int64_t(rows[b].completion->size())).fill_(1.0);
  return mask.to(device);
}

torch::Tensor pad_token_values(const std::vector<const std::vector<float>*>& rows, const c10::Device& device) {
  int64_t Tc = 1;
  for (const auto* r : rows) Tc = std::max<int64_t>(Tc, int64_t(r->size()));
  torch::Tensor out = torch::zeros({int64_t(rows.size()), Tc}, torch::kFloat);
  for (size_t b = 0; b < rows.size(); ++b) {
    if (rows[b]->empty()) continue;
    out[int64_t(b)]
        .narrow(0, 0, int64_t(rows[b]->size()))
        .copy_(torch::from_blob(const_cast<float*>(rows[b]->data()), {int64_t(rows[b]->size())}, torch::kFloat));
  }
  return out.to(device);
}

CompletionLogprobs completion_logprobs(CausalLM& model, const std::vector<CompletionRef>& rows, bool with_entropy,
                                       bool entropy_grad, bool share_prompts) {
  if (rows.empty()) throw Error("completion_logprobs: no rows");
  const int64_t B = int64_t(rows.size()), Tc = longest_completion(rows);
  for (const auto& r : rows) {
    if (r.prompt->empty()) throw Error("completion_logprobs: empty prompt");
  }
  const PromptPacking packing = pack_by_prompt(rows, share_prompts);
  const int64_t T = packing.batch.ids.size(1);
  std::vector<int64_t> source_rows, target_slots, labels;  // one entry per completion token
  for (int64_t b = 0; b < B; ++b) {
    const auto& completion = *rows[size_t(b)].completion;
    const int64_t packed_row = packing.packed_row[size_t(b)];
    for (int64_t j = 0; j < int64_t(completion.size()); ++j) {
      // Token 0 is predicted by the prompt's last position, token j by the
      // completion's own token j-1.
      const int64_t at = j == 0 ? packing.prompt_end[size_t(b)] - 1 : packing.completion_start[size_t(b)] + j - 1;
      source_rows.push_back(packed_row * T + at);
      target_slots.push_back(b * Tc + j);
      labels.push_back(completion[size_t(j)]);
    }
  }
  const c10::Device device = model.device();
  CompletionLogprobs out;
  out.mask = completion_mask(rows, device);
  torch::Tensor flat = torch::zeros({B * Tc}, torch::TensorOptions().dtype(torch::kFloat).device(device));
  if (labels.empty()) {
    out.logprobs = flat.view({B, Tc});
    if (with_entropy) out.entropy = torch::zeros({B, Tc}, flat.options());
    return out;
  }
  ForwardInput in;
  in.input_ids = packing.batch.ids.to(device);
  in.attention_mask = packing.batch.mask.to(device);
  in.position_ids = packing.positions.to(device);
  in.segment_ids = packing.segments.to(device);
  in.logits_for = LogitsFor::none;
  torch::Tensor hidden = model.forward(in).hidden;  // [packed rows, T, H]
  auto index = [&](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).to(device); };
  torch::Tensor h = hidden.reshape({-1, hidden.size(2)}).index_select(0, index(source_rows));  // [N, H]
  torch::Tensor logp = torch::log_softmax(model.logits(h).to(torch::kFloat), -1);              // [N, V]
  torch::Tensor chosen = logp.gather(1, index(labels).unsqueeze(1)).squeeze(1);                // [N]
  out.logprobs = flat.index_put({index(target_slots)}, chosen).view({B, Tc});
  if (with_entropy) {
    torch::AutoGradMode grad_mode(entropy_grad && torch::GradMode::is_enabled());
    torch::Tensor entropy = -(logp.exp() * logp).sum(1);
    out.entropy = torch::zeros({B * Tc}, flat.options()).index_put({index(target_slots)}, entropy).view({B, Tc});
  }
  return out;
}

}  // namespace upm
