#pragma once
// Process-wide allocator settings for the executables (never called by the
// library itself). Inference and training on CPU allocate and free the same
// multi-megabyte activation buffers over and over; glibc's defaults hand each
// one back to the kernel (mmap above a dynamic threshold, trim of the heap
// top), so every step pays page faults and page clearing again. Measured with
// `perf stat` on upm-eval (48 history tasks, a 2M-parameter model): 2.21M -> 0.66M
// page faults, CPU time 11.5 s -> 7.2 s (system time 5.6 s -> 1.9 s).
namespace upm {

// Keeps freed blocks up to 32 MiB in the heap (glibc's largest fixed mmap
// threshold), grows the heap 256 MiB at a time and trims it only beyond 1 GiB
// of free top. A no-op on
// other C libraries, or when UPM_DEFAULT_MALLOC=1 is set.
void tune_allocator();

}  // namespace upm
