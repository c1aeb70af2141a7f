// What query-migrate says about the RAM still to move: the figures the
// RAM phase reports (docs/protocol.md 3.6) and the convergence watch
// judges. One reading of QEMU's reply, so both agree on what it means.
#pragma once

#include <cstdint>
#include <optional>

#include "json/json.hpp"

namespace lsm::qemu {

struct RamFigures {
  std::uint64_t transferred = 0;  // bytes sent, every round
  std::uint64_t total = 0;        // the guest's RAM
  std::uint64_t remaining = 0;    // bytes still dirty in this round
  std::uint64_t rounds = 0;       // dirty bitmap syncs (dirty-sync-count)
  std::uint64_t dirty_rate = 0;   // bytes/s the guest dirties
  std::uint64_t link_rate = 0;    // bytes/s on the wire in the last period (mbps)
  // The pause QEMU expects were it to switch over now; it switches once
  // this fits the downtime limit. Absent outside an active migration.
  std::optional<std::uint64_t> expected_downtime_ms;
};

// The figures of one query-migrate reply; nullopt without a "ram" object
// (before the migration has set up). A missing figure reads 0.
std::optional<RamFigures> ram_figures(const json::Value& query_migrate);

}  // namespace lsm::qemu
