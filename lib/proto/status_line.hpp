// One status line at the bottom of a terminal, rewritten in place ("\r",
// then erase to the end of the line), with every other line printed above
// it, as ninja's LinePrinter does. Not on a terminal, each status is a
// line of its own, so a log holds no "\r".
#pragma once

#include <string>
#include <string_view>

namespace lsm::proto {

class StatusLine {
 public:
  // smart: fd is a terminal that understands "\r" and erase-line.
  StatusLine(int fd, bool smart) : fd_(fd), smart_(smart) {}

  // Shows status in place of the one shown; on a terminal it is cut to
  // its width, since a wrapped line could not be rewritten.
  void show(const std::string& status);
  // Writes text, whole lines or a fragment, byte for byte: the status is
  // erased first and comes back only with the next show(), so what was
  // printed (an error, say) stays the last thing on screen until then.
  void print(std::string_view text);
  // Ends the line of the status shown, which stays on screen.
  void end();
  // Whether the last thing written is a status.
  bool showing() const { return showing_; }

 private:
  void write(std::string_view s);

  int fd_;
  bool smart_;
  bool showing_ = false;
  // The output is gone (a terminal hung up): nothing is written any more,
  // but the caller goes on reading, so that no writer to it is blocked.
  bool dead_ = false;
};

// True when fd is a terminal and TERM is not "dumb".
bool smart_terminal(int fd);

}  // namespace lsm::proto
