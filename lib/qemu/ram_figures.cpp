#include "qemu/ram_figures.hpp"

namespace lsm::qemu {

namespace {

std::uint64_t u64_or_zero(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsUint64() ? v->GetUint64() : 0;
}

double double_or_zero(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

}  // namespace

std::optional<RamFigures> ram_figures(const json::Value& info) {
  const json::Value* ram = json::find(info, "ram");
  if (!ram || !ram->IsObject()) return std::nullopt;
  RamFigures f;
  f.transferred = u64_or_zero(*ram, "transferred");
  f.total = u64_or_zero(*ram, "total");
  f.remaining = u64_or_zero(*ram, "remaining");
  f.rounds = u64_or_zero(*ram, "dirty-sync-count");
  std::uint64_t page = u64_or_zero(*ram, "page-size");
  if (page == 0) page = 4096;
  f.dirty_rate = u64_or_zero(*ram, "dirty-pages-rate") * page;
  f.link_rate = static_cast<std::uint64_t>(double_or_zero(*ram, "mbps") * 1e6 / 8);
  if (const json::Value* e = json::find(info, "expected-downtime"); e && e->IsUint64())
    f.expected_downtime_ms = e->GetUint64();
  return f;
}

}  // namespace lsm::qemu
