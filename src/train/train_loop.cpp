#include "upm/train/train_loop.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/progress.h"
#include "upm/train/metrics_log.h"

namespace upm {

namespace fs = std::filesystem;

std::string checkpoints_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

TrainLoopResult run_train_loop(const TrainLoopSettings& settings, const BatchPlan& plan, TrainerState state,
                               const AdamW& optimizer, const TrainLoopHooks& hooks) {
  std::unique_ptr<MetricsLog> metrics;
  if (settings.writer) {
    metrics = std::make_unique<MetricsLog>((fs::path(settings.run_dir) / "metrics.jsonl").string(), state.step);
  }
  auto checkpoint = [&] {
    if (!settings.writer) return std::string();
    return save_checkpoint(checkpoints_dir(settings.run_dir), state, optimizer, hooks.write_model,
                           settings.keep_checkpoints);
  };

  TrainLoopResult result;
  if (hooks.eval && settings.eval_at_start && state.step == 0) {
    result.initial_eval = hooks.eval();
    nlohmann::json record = result.initial_eval;
    record["step"] = 0;
    if (metrics) metrics->write(record);
  }
  Progress progress(settings.name, settings.total_steps - state.step, "steps");
  while (state.step < settings.total_steps) {
    const auto start = std::chrono::steady_clock::now();
    const double lr = settings.peak_lr * lr_multiplier(settings.schedule, state.step, settings.total_steps);
    StepReport report = hooks.step(plan.batch_at(state.position), lr, state.step);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.position = plan.next(state.position);
    ++state.step;
    result.last_loss = report.loss;
    progress.advance();

    nlohmann::json record = report.fields;
    record["step"] = state.step;
    record["epoch"] = state.position.epoch;
    record["loss"] = report.loss;
    record["lr"] = lr;
    record["step_time_s"] = seconds;
    if (report.tokens > 0) record["tokens_per_s"] = double(report.tokens) / seconds;
    const bool last = state.step == settings.total_steps;
    const bool eval = hooks.eval && (last || (settings.eval_every > 0 && state.step % settings.eval_every == 0));
    if (eval) {
      result.last_eval = hooks.eval();
      record.update(result.last_eval);
    }
    if (metrics && (last || state.step % settings.log_every == 0 || eval)) metrics->write(record);
    if (settings.stop_after_steps > 0 && state.step == settings.stop_after_steps && !last) {
      result.output_dir = checkpoint();
      result.steps = state.step;
      result.stopped = true;
      return result;
    }
    if (last || (settings.save_every > 0 && state.step % settings.save_every == 0)) checkpoint();
  }
  progress.finish();
  result.steps = state.step;
  if (settings.writer) result.output_dir = write_final_model(settings.run_dir, hooks.write_model);
  return result;
}

}  // namespace upm
