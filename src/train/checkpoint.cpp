#include "upm/train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "upm/core/atomic_file.h"
#include "upm/core/config.h"
#include "upm/core/error.h"
#include "upm/model/safetensors.h"
#include "upm/train/optimizer.h"

namespace upm {

namespace fs = std::filesystem;

namespace {

std::string step_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
  return name;
}

std::vector<fs::path> checkpoint_folders(const std::string& checkpoints_dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(checkpoints_dir)) return out;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0 && fs::exists(entry.path() / "trainer_state.json")) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());  // zero-padded names sort by step
  return out;
}

}  // namespace

std::string save_checkpoint(const std::string& checkpoints_dir, const TrainerState& state, const AdamW& optimizer,
                            const std::function<void(const std::string& dir)>& write_model, int64_t keep) {
  make_directories(checkpoints_dir);
  const fs::path final_dir = fs::path(checkpoints_dir) / step_name(state.step);
  const fs::path temp_dir = fs::path(checkpoints_dir) / ("." + step_name(state.step) + ".tmp");
  fs::remove_all(temp_dir);
  make_directories(temp_dir.string());

  write_model(temp_dir.string());
  write_safetensors((temp_dir / "optimizer.safetensors").string(), optimizer.state());
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  torch::Tensor rng;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    rng = generator.get_state();
  }
  write_safetensors((temp_dir / "rng.safetensors").string(), {{"cpu", rng}});
  nlohmann::json trainer = {{"step", state.step},
                            {"epoch", state.position.epoch},
                            {"batch", state.position.batch},
                            {"optimizer_steps", optimizer.steps()}};
  write_file_atomic((temp_dir / "trainer_state.json").string(), trainer.dump(2) + "\n");

  fs::remove_all(final_dir);  // a rerun of the same step replaces it
  fs::rename(temp_dir, final_dir);

  auto folders = checkpoint_folders(checkpoints_dir);
  if (keep > 0) {
    for (size_t i = 0; i + size_t(keep) < folders.size(); ++i) fs::remove_all(folders[i]);
  }
  return final_dir.string();
}

std::string write_final_model(const std::string& run_dir,
                              const std::function<void(const std::string& dir)>& write_model) {
  const fs::path final_dir = fs::path(run_dir) / "final";
  const fs::path temp_dir = fs::path(run_dir) / ".final.tmp";
  fs::remove_all(temp_dir);
  make_directories(temp_dir.string());
  write_model(temp_dir.string());
  fs::remove_all(final_dir);
  fs::rename(temp_dir, final_dir);
  return final_dir.string();
}

std::optional<std::string> latest_checkpoint(const std::string& checkpoints_dir) {
  auto folders = checkpoint_folders(checkpoints_dir);
  if (folders.empty()) return std::nullopt;
  return folders.back().string();
}

std::optional<std::string> checkpoint_to_resume(const std::string& run_dir, bool resume) {
  const std::string checkpoints_dir = (fs::path(run_dir) / "checkpoints").string();
  std::optional<std::string> latest = latest_checkpoint(checkpoints_dir);
  if (resume && !latest) throw InputError(Location{run_dir, 0, ""}, "no checkpoint to resume from");
  if (!resume && latest) {
    throw InputError(Location{run_dir, 0, ""},
                     "holds checkpoints of an earlier run: resume it or pick another run_dir");
  }
  return resume ? latest : std::nullopt;
}

TrainerState load_checkpoint_state(const std::string& dir, AdamW& optimizer) {
  const std::string state_path = (fs::path(dir) / "trainer_state.json").string();
  nlohmann::json json = parse_json_text(read_file(state_path), state_path);
  TrainerState state;
  int64_t optimizer_steps = 0;
  try {
    state.step = json.at("step").get<int64_t>();
    state.position.epoch = json.at("epoch").get<int64_t>();
    state.position.batch = json.at("batch").get<int64_t>();
    optimizer_steps = json.at("optimizer_steps").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(Location{state_path, 0, ""}, std::string("bad trainer state: ") + e.what());
  }
  const std::string optimizer_path = (fs::path(dir) / "optimizer.safetensors").string();
  SafetensorsFile file(optimizer_path);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [name, entry] : file.header().tensors) tensors.emplace_back(name, file.tensor(name));
  optimizer.load_state(tensors, optimizer_steps, optimizer_path);

  SafetensorsFile rng((fs::path(dir) / "rng.safetensors").string());
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // shares the default generator
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng.tensor("cpu").clone());
  return state;
}

}  // namespace upm
