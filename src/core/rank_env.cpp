#include "upm/core/rank_env.h"

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "upm/core/error.h"

namespace upm {

namespace {

std::optional<std::string> env_text(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

InputError env_error(const char* name, const std::string& problem) {
  return InputError(Location{"environment", 0, name}, problem);
}

int env_int(const char* name, int fallback, int low, int high) {
  auto text = env_text(name);
  if (!text) return fallback;
  try {
    size_t used = 0;
    const int value = std::stoi(*text, &used);
    if (used == text->size() && value >= low && value <= high) return value;
  } catch (const std::exception&) {}
  throw env_error(name, "expected an integer in [" + std::to_string(low) + ", " + std::to_string(high) + "], got \"" +
                            *text + "\"");
}

// RANK or LOCAL_RANK: a rank of the world, named as such when out of range.
int env_rank(const char* name, int fallback, int world_size) {
  const int rank = env_int(name, fallback, 0, 1 << 20);
  if (rank >= world_size) {
    throw env_error(
        name, std::string(name) + " " + std::to_string(rank) + " must be < WORLD_SIZE " + std::to_string(world_size));
  }
  return rank;
}

}  // namespace

RankEnv rank_env_from_environment() {
  RankEnv env;
  env.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  if (env.distributed() && !env_text("RANK")) throw env_error("RANK", "required when WORLD_SIZE > 1");
  env.rank = env_rank("RANK", 0, env.world_size);
  env.local_rank = env_rank("LOCAL_RANK", env.rank, env.world_size);
  if (env.distributed()) {
    env.master_addr = env_text("MASTER_ADDR").value_or(env.master_addr);
    env.master_port = env_int("MASTER_PORT", env.master_port, 1, 65535);
  }
  return env;
}

}  // namespace upm
