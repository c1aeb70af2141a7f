#include "proto/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/fd_io.hpp"
#include "core/util.hpp"
#include "json/json.hpp"
#include "proto/message.hpp"

namespace lsm::proto {

using Clock = std::chrono::steady_clock;

Progress::Progress(std::string phase, bool json)
    : phase_(std::move(phase)), json_(json), tty_(::isatty(STDERR_FILENO) == 1),
      start_(Clock::now()), last_sample_(start_) {}

void Progress::update(std::uint64_t done, std::uint64_t total, const std::string& note) {
  auto now = Clock::now();
  double dt = std::chrono::duration<double>(now - last_sample_).count();
  if (dt >= 0.5) {
    double r = done >= last_done_ ? (done - last_done_) / dt : 0;
    rate_ = rate_ == 0 ? r : 0.7 * rate_ + 0.3 * r;
    last_done_ = done;
    last_sample_ = now;
  }
  // JSON lines feed lsm-progress's view, which a second keeps current.
  auto every = tty_ && !json_ ? std::chrono::milliseconds(250)
               : json_        ? std::chrono::milliseconds(1000)
                              : std::chrono::milliseconds(2000);
  if (now - last_print_ < every) return;
  last_print_ = now;
  print(done, total, note, false);
}

void Progress::finish(std::uint64_t done, std::uint64_t total, const std::string& note) {
  print(done, total, note, true);
}

void Progress::set(const std::string& field, std::uint64_t value) {
  for (auto& [name, v] : figures_)
    if (name == field) {
      v = value;
      return;
    }
  figures_.emplace_back(field, value);
}

void Progress::print(std::uint64_t done, std::uint64_t total, const std::string& note,
                     bool last) {
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  double rate = last && elapsed > 0 ? done / elapsed : rate_;
  double eta = rate > 0 && total > done ? (total - done) / rate : 0;
  std::string line;
  if (json_) {
    Message m = make_message("progress");
    auto& d = m.doc;
    auto& a = d.GetAllocator();
    json::add(d, "phase", phase_, a);
    json::add(d, "done", done, a);
    json::add(d, "total", total, a);
    json::add(d, "rate", json::Value(rate), a);
    json::add(d, "eta", json::Value(eta), a);
    json::add(d, "elapsed", json::Value(elapsed), a);
    json::add(d, "final", last, a);
    if (!note.empty()) json::add(d, "note", note, a);
    for (const auto& [name, v] : figures_) d.AddMember(json::str(name, a), json::Value(v), a);
    line = json::to_string(d) + "\n";
  } else {
    char buf[256];
    int pct = total ? static_cast<int>(100.0 * std::min(done, total) / total) : 0;
    std::string rate_s = format_bytes(static_cast<std::uint64_t>(rate)) + "/s";
    const char* sep = note.empty() ? "" : ", ";
    // A receiver does not know the total: it reports what arrived.
    if (total)
      std::snprintf(buf, sizeof buf, "%s: %3d%% %s / %s, %s, ETA %ds%s%s", phase_.c_str(),
                    pct, format_bytes(done).c_str(), format_bytes(total).c_str(),
                    rate_s.c_str(), static_cast<int>(eta), sep, note.c_str());
    else
      std::snprintf(buf, sizeof buf, "%s: %s, %s%s%s", phase_.c_str(),
                    format_bytes(done).c_str(), rate_s.c_str(), sep, note.c_str());
    if (tty_) {
      std::string bar(20, ' ');
      for (int i = 0; i < pct / 5; ++i) bar[i] = '#';
      line = "\r\033[K[" + bar + "] " + buf + (last ? "\n" : "");
    } else {
      line = std::string(buf) + "\n";
    }
  }
  try {
    write_all(STDERR_FILENO, line, "stderr");
  } catch (const Error&) {
    // Nobody is watching any more; the work itself goes on.
  }
}

}  // namespace lsm::proto
