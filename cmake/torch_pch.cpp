// The translation unit that builds the shared precompiled <torch/torch.h>
// (cmake/TorchPch.cmake); it defines nothing.
