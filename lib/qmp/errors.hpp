// QMP failures split by who is at fault, as QEMU's own Python client does.
#pragma once

#include <string>

#include "core/error.hpp"

namespace lsm::qmp {

class QmpError : public Error {
 public:
  using Error::Error;
};

// The peer broke the protocol: no greeting, garbage, a reply we can't use.
class ProtocolError : public QmpError {
 public:
  using QmpError::QmpError;
};

// The connection is gone (peer closed it or an earlier error spoilt it).
class DisconnectedError : public QmpError {
 public:
  using QmpError::QmpError;
};

// QEMU ran the command and refused it.
class ExecuteError : public QmpError {
 public:
  ExecuteError(std::string command, std::string error_class, std::string desc)
      : QmpError(command + ": " + error_class + ": " + desc),
        command_(std::move(command)),
        error_class_(std::move(error_class)),
        desc_(std::move(desc)) {}
  const std::string& command() const { return command_; }
  const std::string& error_class() const { return error_class_; }
  const std::string& desc() const { return desc_; }

 private:
  std::string command_;
  std::string error_class_;
  std::string desc_;
};

}  // namespace lsm::qmp
