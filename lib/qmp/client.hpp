// A synchronous QMP client over a unix socket.
//
// One command at a time, each with its own id and deadline. Events that
// arrive while a reply is awaited are queued, never dropped, and can be
// awaited by name later. After a protocol error or a timeout the session is
// considered spoilt: later calls fail with DisconnectedError, because the
// stream can no longer be trusted to line up replies with commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "json/json.hpp"
#include "qmp/errors.hpp"
#include "qmp/event.hpp"

namespace lsm::qmp {

using std::chrono::milliseconds;

inline constexpr milliseconds kDefaultTimeout{30000};
// QEMU's longest replies (query-qmp-schema) are a few hundred KiB.
inline constexpr std::size_t kMaxMessage = 4 * 1024 * 1024;

class Client {
 public:
  // Connects, reads the greeting and negotiates capabilities.
  static Client connect(const std::string& socket_path,
                        milliseconds timeout = kDefaultTimeout);

  // Takes over an already connected socket (tests use a socketpair) and
  // performs the greeting and negotiation on it.
  Client(UniqueFd fd, std::string peer_name, milliseconds timeout);

  // Runs a command and returns its "return" member.
  json::Document execute(const std::string& command,
                         const json::Value* arguments = nullptr,
                         milliseconds timeout = kDefaultTimeout);

  // As execute(), passing fd to QEMU with SCM_RIGHTS alongside the command
  // (for getfd and add-fd).
  json::Document execute_with_fd(const std::string& command,
                                 const json::Value* arguments, int fd,
                                 milliseconds timeout = kDefaultTimeout);

  // getfd: QEMU keeps a duplicate of fd under name.
  void getfd(const std::string& name, int fd);

  // The first queued or arriving event called name for which match (if
  // given) is true; earlier non-matching events stay queued.
  Event wait_event(const std::string& name, milliseconds timeout,
                   const std::function<bool(const Event&)>& match = {});

  // Like wait_event, but returns nullopt instead of throwing on timeout.
  std::optional<Event> next_event(const std::string& name,
                                  milliseconds timeout,
                                  const std::function<bool(const Event&)>& match = {});

  // Every queued event, oldest first; the queue is left empty.
  std::deque<Event> take_events();

  // The pid of the process holding the other end of the socket.
  pid_t peer_pid() const;

  const std::string& peer_name() const { return peer_; }
  // QEMU's version from the greeting, e.g. "7.2.0".
  const std::string& qemu_version() const { return version_; }

 private:
  void handshake(Deadline deadline);
  void send(const std::string& command, const json::Value* arguments,
            const std::string& id, int fd);
  enum class Got { kEvent, kReply, kEof };
  // Reads one message: an event goes to the queue, a reply to last_reply_.
  Got read_one(Deadline deadline);
  // Reads until a reply (returned) or the end of the stream (nullopt).
  std::optional<json::Document> read_message(Deadline deadline);
  std::optional<Event> take_queued(const std::string& name,
                                   const std::function<bool(const Event&)>& match);
  [[noreturn]] void spoil(const std::exception& cause);
  void check_usable() const;

  UniqueFd fd_;
  std::string peer_;
  FdReader reader_;
  std::deque<Event> events_;
  json::Document last_reply_;
  std::string version_;
  std::uint64_t next_id_ = 0;
  std::string spoilt_;
};

}  // namespace lsm::qmp
