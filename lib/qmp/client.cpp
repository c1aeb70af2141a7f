#include "qmp/client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "core/unix_socket.hpp"

namespace lsm::qmp {

Client Client::connect(const std::string& socket_path, milliseconds timeout) {
  return Client(connect_unix(socket_path, "QMP socket"), "QMP socket " + socket_path, timeout);
}

Client::Client(UniqueFd fd, std::string peer_name, milliseconds timeout)
    : fd_(std::move(fd)), peer_(std::move(peer_name)), reader_(fd_.get(), peer_) {
  handshake(Deadline::in(timeout));
}

void Client::handshake(Deadline deadline) {
  std::optional<json::Document> greeting;
  try {
    greeting = read_message(deadline);
  } catch (const TimeoutError&) {
    // QEMU serves one monitor client at a time and greets the next only
    // when the current one leaves.
    throw TimeoutError(peer_ + ": no QMP greeting in time (is another client "
                       "connected to this monitor?)");
  }
  if (!greeting) throw DisconnectedError(peer_ + ": closed before greeting");
  const json::Value* qmp = json::find(*greeting, "QMP");
  if (!qmp || !qmp->IsObject())
    throw ProtocolError(peer_ + ": expected a QMP greeting, got " +
                        json::to_string(*greeting));
  const json::Value* v = json::find(*qmp, "version");
  const json::Value* q = v ? json::find(*v, "qemu") : nullptr;
  if (q && q->IsObject()) {
    auto part = [&](const char* k) {
      const json::Value* n = json::find(*q, k);
      return n && n->IsInt() ? std::to_string(n->GetInt()) : std::string("?");
    };
    version_ = part("major") + "." + part("minor") + "." + part("micro");
  }
  execute("qmp_capabilities", nullptr,
          milliseconds(std::max(1, deadline.poll_timeout_ms())));
}

void Client::check_usable() const {
  if (!spoilt_.empty())
    throw DisconnectedError(peer_ + ": session unusable after earlier error (" +
                            spoilt_ + ")");
}

void Client::spoil(const std::exception& cause) {
  spoilt_ = describe(cause);
  throw;
}

void Client::send(const std::string& command, const json::Value* arguments,
                  const std::string& id, int fd) {
  json::Document msg(rapidjson::kObjectType);
  auto& a = msg.GetAllocator();
  json::add(msg, "execute", command, a);
  if (arguments) {
    json::Value copy(*arguments, a);
    json::add(msg, "arguments", std::move(copy), a);
  }
  json::add(msg, "id", id, a);
  std::string line = json::to_string(msg) + "\n";
  if (fd < 0) {
    write_all(fd_.get(), line, peer_);
    return;
  }
  // The descriptor must ride on the command's own bytes: QEMU attaches
  // received fds to the command being parsed.
  iovec iov{line.data(), line.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw SystemError("sending " + command + " to " + peer_, errno);
  if (static_cast<std::size_t>(n) < line.size())
    write_all(fd_.get(), std::string_view(line).substr(n), peer_);
}

std::optional<json::Document> Client::read_message(Deadline deadline) {
  for (;;) {
    auto got = read_one(deadline);
    if (got == Got::kEof) return std::nullopt;
    if (got == Got::kReply) return std::move(last_reply_);
  }
}

Client::Got Client::read_one(Deadline deadline) {
  std::optional<std::string> line;
  try {
    do {
      line = reader_.read_line(kMaxMessage, deadline);
      if (!line) return Got::kEof;
    } while (line->empty());
  } catch (const TimeoutError&) {
    throw;
  } catch (const SystemError& e) {
    throw DisconnectedError(e.what());
  } catch (const Error& e) {
    throw ProtocolError(e.what());
  }
  json::Document msg;
  try {
    msg = json::parse(*line, peer_);
  } catch (const json::JsonError& e) {
    throw ProtocolError(e.what());
  }
  if (!msg.IsObject())
    throw ProtocolError(peer_ + ": message is not a JSON object");
  const json::Value* ev = json::find(msg, "event");
  if (!ev) {
    last_reply_ = std::move(msg);
    return Got::kReply;
  }
  if (!ev->IsString()) throw ProtocolError(peer_ + ": event name not a string");
  std::string name = ev->GetString();
  events_.push_back(Event{std::move(name), std::move(msg)});
  return Got::kEvent;
}

json::Document Client::execute(const std::string& command,
                               const json::Value* arguments,
                               milliseconds timeout) {
  return execute_with_fd(command, arguments, -1, timeout);
}

json::Document Client::execute_with_fd(const std::string& command,
                                       const json::Value* arguments, int fd,
                                       milliseconds timeout) {
  check_usable();
  Deadline deadline = Deadline::in(timeout);
  std::string id = "lsm-" + std::to_string(next_id_++);
  try {
    send(command, arguments, id, fd);
    for (;;) {
      auto reply = read_message(deadline);
      if (!reply)
        throw DisconnectedError(peer_ + ": connection closed while waiting for " +
                                command);
      const json::Value* rid = json::find(*reply, "id");
      if (!rid || !rid->IsString() || id != rid->GetString())
        throw ProtocolError(peer_ + ": unexpected message while waiting for " +
                            command + ": " + json::to_string(*reply));
      if (const json::Value* err = json::find(*reply, "error")) {
        std::string cls = err->IsObject() && json::find(*err, "class") &&
                                  (*err)["class"].IsString()
                              ? (*err)["class"].GetString()
                              : "UnknownError";
        std::string desc = err->IsObject() && json::find(*err, "desc") &&
                                   (*err)["desc"].IsString()
                               ? (*err)["desc"].GetString()
                               : json::to_string(*err);
        throw ExecuteError(command, cls, desc);
      }
      const json::Value* ret = json::find(*reply, "return");
      if (!ret)
        throw ProtocolError(peer_ + ": reply to " + command +
                            " has neither return nor error");
      json::Document out;
      out.CopyFrom(*ret, out.GetAllocator());
      return out;
    }
  } catch (const ExecuteError&) {
    throw;
  } catch (const TimeoutError&) {
    spoilt_ = command + " timed out";
    throw TimeoutError(peer_ + ": no reply to " + command + " within " +
                       std::to_string(timeout.count()) + " ms");
  } catch (const std::exception& e) {
    spoil(e);
  }
}

void Client::getfd(const std::string& name, int fd) {
  json::Document args(rapidjson::kObjectType);
  json::add(args, "fdname", name, args.GetAllocator());
  execute_with_fd("getfd", &args, fd);
}

std::optional<Event> Client::take_queued(
    const std::string& name, const std::function<bool(const Event&)>& match) {
  for (auto it = events_.begin(); it != events_.end(); ++it) {
    if (it->name == name && (!match || match(*it))) {
      Event e = std::move(*it);
      events_.erase(it);
      return e;
    }
  }
  return std::nullopt;
}

std::optional<Event> Client::next_event(
    const std::string& name, milliseconds timeout,
    const std::function<bool(const Event&)>& match) {
  check_usable();
  Deadline deadline = Deadline::in(timeout);
  for (;;) {
    if (auto e = take_queued(name, match)) return e;
    if (deadline.expired()) return std::nullopt;
    try {
      Got got = read_one(deadline);
      if (got == Got::kEof)
        throw DisconnectedError(peer_ + ": connection closed while waiting for " +
                                name + " event");
      if (got == Got::kReply)
        throw ProtocolError(peer_ + ": unsolicited reply while waiting for " +
                            name + ": " + json::to_string(last_reply_));
    } catch (const TimeoutError&) {
      return take_queued(name, match);
    } catch (const std::exception& e) {
      spoil(e);
    }
  }
}

Event Client::wait_event(const std::string& name, milliseconds timeout,
                         const std::function<bool(const Event&)>& match) {
  if (auto e = next_event(name, timeout, match)) return std::move(*e);
  throw TimeoutError(peer_ + ": no " + name + " event within " +
                     std::to_string(timeout.count()) + " ms");
}

std::deque<Event> Client::take_events() { return std::exchange(events_, {}); }

pid_t Client::peer_pid() const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    throw SystemError("SO_PEERCRED on " + peer_, errno);
  return cred.pid;
}

}  // namespace lsm::qmp
