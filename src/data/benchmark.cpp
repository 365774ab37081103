#include "upm/data/benchmark.h"

#include "field_reader.h"
#include "upm/core/atomic_file.h"

namespace upm::data {

namespace {

std::optional<std::vector<std::string>> read_options(detail::FieldReader& f) {
  f.mark_known("options");
  if (!f.has("options")) {
    f.problem("options", "required field is missing");
    return std::nullopt;
  }
  const auto& list = f.at("options");
  if (!list.is_array()) {
    f.problem("options", std::string("expected an array, got ") + list.type_name());
    return std::nullopt;
  }
  if (list.size() < 2) {
    f.problem("options", "needs at least 2 options, got " + std::to_string(list.size()));
    return std::nullopt;
  }
  std::vector<std::string> options;
  bool ok = true;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string key = "options[" + std::to_string(i) + "]";
    if (!list[i].is_string()) {
      f.problem(key, std::string("expected a string, got ") + list[i].type_name());
      ok = false;
    } else if (list[i].get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos) {
      f.problem(key, "must not be empty");
      ok = false;
    } else {
      options.push_back(list[i].get<std::string>());
    }
  }
  if (!ok) return std::nullopt;
  return options;
}

}  // namespace

std::optional<BenchmarkTask> parse_benchmark_task(const JsonlRecord& record, Problems& problems) {
  const std::size_t before = problems.size();
  detail::FieldReader f(record, record.value, "", problems);
  auto user_id = f.string("user_id", true);
  auto task_id = f.string("task_id", true);
  auto context = f.string("context", false, false);
  auto options = read_options(f);
  auto label = f.integer("label", true);
  if (label && options && (*label < 0 || *label >= static_cast<int64_t>(options->size()))) {
    f.problem("label", "label " + std::to_string(*label) + " is out of range for " + std::to_string(options->size()) +
                           " options (0.." + std::to_string(options->size() - 1) + ")");
  }
  if (problems.size() != before) return std::nullopt;
  BenchmarkTask task;
  task.user_id = *user_id;
  task.task_id = *task_id;
  task.context = context.value_or("");
  task.options = std::move(*options);
  task.label = static_cast<int>(*label);
  task.extra = f.unknown_fields();
  return task;
}

nlohmann::json to_json(const BenchmarkTask& task) {
  nlohmann::json j = task.extra;
  j["user_id"] = task.user_id;
  j["task_id"] = task.task_id;
  j["context"] = task.context;
  j["options"] = task.options;
  j["label"] = task.label;
  return j;
}

std::vector<BenchmarkTask> read_benchmark(const std::string& path, const ReadOptions& options, ReadReport* report) {
  return read_unique_records<BenchmarkTask>(
      path, options, report, parse_benchmark_task,
      [](const BenchmarkTask& task) { return "task id \"" + task.task_id + "\""; }, "task_id");
}

void write_benchmark(const std::string& path, const std::vector<BenchmarkTask>& tasks) {
  AtomicFileWriter out(path);
  for (const auto& task : tasks) out.write(to_json(task).dump() + "\n");
  out.commit();
}

}  // namespace upm::data
