#include "proto/progress_filter.hpp"

#include <chrono>

#include "core/fd_io.hpp"

namespace lsm::proto {

namespace {

using namespace std::chrono_literals;

// How long the start of a line waits for its end before it is printed.
constexpr auto kFragmentWait = 200ms;
// Nor does a line without end grow the buffer beyond this.
constexpr std::size_t kMaxPending = 64 * 1024;

class Filter {
 public:
  Filter(StatusLine& out, const ViewOptions& o) : out_(out), view_(o) {}

  void feed(std::string_view bytes) {
    pending_ += bytes;
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      line(std::string_view(pending_).substr(start, nl + 1 - start));
    pending_.erase(0, start);
    if (pending_.size() > kMaxPending) flush_fragment();
  }

  bool has_fragment() const { return !pending_.empty(); }

  void flush_fragment() {
    if (pending_.empty()) return;
    out_.print(pending_);
    pending_.clear();
    midline_ = true;
  }

 private:
  // One line, its newline included.
  void line(std::string_view text) {
    if (midline_) {
      // The end of a line printed in part already.
      out_.print(text);
      midline_ = false;
      return;
    }
    switch (view_.take(text.substr(0, text.size() - 1))) {
      case ProgressView::Took::kNotProgress:
        out_.print(text);
        break;
      case ProgressView::Took::kShown:
        if (std::string s = view_.line(); !s.empty() && (s != shown_ || !out_.showing())) {
          out_.show(s);
          shown_ = s;
        }
        break;
      case ProgressView::Took::kIgnored:
        break;
    }
  }

  StatusLine& out_;
  ProgressView view_;
  std::string pending_;  // the start of a line, without its newline yet
  bool midline_ = false;
  std::string shown_;
};

}  // namespace

void filter_progress(int in_fd, StatusLine& out, const ViewOptions& o) {
  Filter filter(out, o);
  FdReader in(in_fd, "the tools' stderr");
  for (;;) {
    std::string bytes;
    try {
      bytes = in.read_some(1 << 16, filter.has_fragment() ? Deadline::in(kFragmentWait)
                                                          : Deadline::never());
    } catch (const TimeoutError&) {
      filter.flush_fragment();
      continue;
    }
    if (bytes.empty()) break;
    filter.feed(bytes);
  }
  filter.flush_fragment();
  out.end();
}

}  // namespace lsm::proto
