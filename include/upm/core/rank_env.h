#pragma once
// Where this process stands in a data-parallel launch, read from the
// variables torchrun sets. The one reader of them: sharded jobs, the process
// group and progress logging all agree on the rank.
//
// An empty variable counts as unset. Rules:
//   WORLD_SIZE   integer in [1, 2^20]; unset: 1
//   RANK         integer in [0, WORLD_SIZE); required when WORLD_SIZE > 1; unset: 0
//   LOCAL_RANK   integer in [0, WORLD_SIZE); unset: RANK (torchrun always sets
//                it; a launcher that sets only RANK starts every rank on one
//                node, where the two agree, and a lone process is 0 either way)
//   MASTER_ADDR  default 127.0.0.1; read only when WORLD_SIZE > 1 (only a
//                process group uses it)
//   MASTER_PORT  integer in [1, 65535]; default 29500; read only when
//                WORLD_SIZE > 1
// A malformed or inconsistent value is an InputError naming the variable.

#include <string>

namespace upm {

struct RankEnv {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int local_rank = 0;

  bool distributed() const { return world_size > 1; }
};

RankEnv rank_env_from_environment();

}  // namespace upm
