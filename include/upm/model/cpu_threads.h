#pragma once
// CPU thread count for torch and for the BLAS library behind it.
//
// torch::set_num_threads sets torch's OpenMP pool (and MKL's), but Debian's
// LibTorch calls OpenBLAS built with its own pthread pool, which keeps one
// thread per CPU whatever torch is told: under a 1-thread setting fp32
// GEMMs (prefill, training) still ran on 2 threads on the 2-CPU box, so they
// used a second core when it happened to be free and waited on a straggler
// when it was not (fp32 prefill measured 0.49-0.72 of "peak" from run to
// run). set_cpu_threads keeps both pools at the same count.

namespace upm {

// torch::set_num_threads(n) and, when the process uses OpenBLAS,
// openblas_set_num_threads(n) (looked up at run time: other BLAS
// libraries, MKL included, follow torch's setting or are left alone).
void set_cpu_threads(int n);

// OpenBLAS's pool size, or 0 when the process has no OpenBLAS.
int blas_threads();

}  // namespace upm
