#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gptw {
namespace {

class Pool {
 public:
  explicit Pool(int threads) { resize(threads); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    stopping_ = false;
    // A new worker starts at the current generation: the last task, long finished, is not its to run.
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i, seen = generation_] { loop(i, seen); });
  }

  void run(size_t n, const std::function<void(size_t, size_t, int)>& fn) {
    const int t = size();
    if (t == 1 || n < 2) {
      fn(0, n, 0);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      task_ = &fn;
      n_ = n;
      pending_ = t - 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(0, chunk_end(0, n, t), 0);
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
    task_ = nullptr;
  }

 private:
  static size_t chunk_end(int i, size_t n, int t) { return n * static_cast<size_t>(i + 1) / static_cast<size_t>(t); }

  void loop(int index, size_t seen) {
    for (;;) {
      const std::function<void(size_t, size_t, int)>* task;
      size_t n;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        task = task_;
        n = n_;
      }
      const int t = size();
      const size_t begin = n * static_cast<size_t>(index) / static_cast<size_t>(t);
      const size_t end = chunk_end(index, n, t);
      if (begin < end) (*task)(begin, end, index);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(size_t, size_t, int)>* task_ = nullptr;
  size_t n_ = 0;
  int pending_ = 0;
  size_t generation_ = 0;
  bool stopping_ = false;
};

Pool& pool() {
  static Pool p(std::max(1u, std::thread::hardware_concurrency()));
  return p;
}

}  // namespace

int thread_count() { return pool().size(); }
void set_thread_count(int n) { pool().resize(n < 1 ? 1 : n); }
void parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn) { pool().run(n, fn); }

}  // namespace gptw
