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
    out[int64_t(b)].narrow(0, 0, int64_t(rows[b]->size()))
        .copy_(torch::from_blob(const_cast<float*>(rows[b]->data()), {int64_t(rows[b]->size())}, torch::kFloat));
  }
  return out.to(device);
}

CompletionLogprobs completion_logprobs(CausalLM& model, const std::vector<CompletionRef>& rows, bool with_entropy,
                                       bool entropy_grad) {
  if (rows.empty()) throw Error("completion_logprobs: no rows");
  const int64_t B = int64_t(rows.size()), Tc = longest_completion(rows);
  std::vector<std::vector<int64_t>> sequences;
  std::vector<int64_t> source_rows, target_slots, labels;  // one entry per completion token
  for (int64_t b = 0; b < B; ++b) {
    const auto& prompt = *rows[b].prompt;
    const auto& completion = *rows[b].completion;
    if (prompt.empty()) throw Error("completion_logprobs: empty prompt");
    std::vector<int64_t> ids = prompt;
    ids.insert(ids.end(), completion.begin(), completion.end());
    sequences.push_back(std::move(ids));
  }
  PaddedBatch batch = pad_sequences(sequences, PadSide::right);
  const int64_t T = batch.ids.size(1);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t p = int64_t(rows[b].prompt->size());
    for (int64_t j = 0; j < int64_t(rows[b].completion->size()); ++j) {
      source_rows.push_back(b * T + p - 1 + j);  // position predicting completion token j
      target_slots.push_back(b * Tc + j);
      labels.push_back((*rows[b].completion)[size_t(j)]);
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
  in.input_ids = batch.ids.to(device);
  in.attention_mask = batch.mask.to(device);
  in.logits_for = LogitsFor::none;
  torch::Tensor hidden = model.forward(in).hidden;  // [B, T, H]
  auto index = [&](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).to(device); };
  torch::Tensor h = hidden.reshape({B * T, hidden.size(2)}).index_select(0, index(source_rows));  // [N, H]
  torch::Tensor logp = torch::log_softmax(model.logits(h).to(torch::kFloat), -1);                 // [N, V]
  torch::Tensor chosen = logp.gather(1, index(labels).unsqueeze(1)).squeeze(1);                   // [N]
  out.logprobs = flat.index_put({index(target_slots)}, chosen).view({B, Tc});
  if (with_entropy) {
    torch::AutoGradMode grad_mode(entropy_grad && torch::GradMode::is_enabled());
    torch::Tensor entropy = -(logp.exp() * logp).sum(1);
    out.entropy = torch::zeros({B * Tc}, flat.options()).index_put({index(target_slots)}, entropy).view({B, Tc});
  }
  return out;
}

}  // namespace upm
