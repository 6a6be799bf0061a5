// A small persistent thread pool: parallel_for splits [0, n) into one contiguous range per thread
// (the calling thread takes the first), so kernels use every core without per-call thread start-up.
#pragma once
#include <cstddef>
#include <functional>

namespace gptw {

int thread_count();
void set_thread_count(int n);
// fn(begin, end, thread_index) over disjoint ranges covering [0, n).
void parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn);

}  // namespace gptw
