#include "testing/fake_peer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "json/json.hpp"

namespace lsm::testing {

FakePeer::FakePeer(std::function<void(int)> script) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    throw std::runtime_error("socketpair failed");
  client_.reset(sv[0]);
  peer_.reset(sv[1]);
  thread_ = std::thread([this, script] {
    try {
      script(peer_.get());
    } catch (const std::exception&) {
      // The client hung up first; the test judges the client side.
    }
  });
}

FakePeer::~FakePeer() {
  // Unblocks a script still reading once the client side is gone.
  ::shutdown(peer_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

UniqueFd FakePeer::take_client_end() { return std::move(client_); }

void FakePeer::send(int fd, const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    // MSG_NOSIGNAL: a client that hung up must not kill the test binary.
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("fake peer: client hung up");
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string FakePeer::read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') return line;
    line.push_back(c);
  }
  return {};
}

void FakePeer::negotiate(int fd) {
  send(fd, std::string(kGreeting) + "\r\n");
  std::string cmd = read_line(fd);
  send(fd, R"({"return": {}, "id": ")" + id_of(cmd) + "\"}\r\n");
}

std::string FakePeer::id_of(const std::string& line) {
  auto doc = json::parse(line, "command");
  return json::string_at(doc, "id", "");
}

}  // namespace lsm::testing
