#include "upm/core/cli.h"

int main(int argc, char** argv) {
  return upm::cli::run_subcommands(
      "upm-train", "UPM training: SFT (full or LoRA), RL (GRPO), Q-Anchor embeddings, LoRA merge", argc, argv);
}
