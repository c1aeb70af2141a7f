#include "mirror/nodes.hpp"

namespace lsm::mirror {

std::string node_for_file(qmp::Client& qmp, const std::string& file) {
  auto devices = qmp.execute("query-block");
  std::string found;
  for (rapidjson::SizeType i = 0; i < devices.Size(); ++i) {
    std::string path = "query-block[" + std::to_string(i) + "]";
    const json::Value* ins = json::find(devices[i], "inserted");
    if (!ins || json::string_at(*ins, "file", path + ".inserted") != file) continue;
    if (!found.empty())
      throw Error(file + " is open twice in " + qmp.peer_name() +
                  "; cannot tell which to mirror");
    found = json::string_at(*ins, "node-name", path + ".inserted");
  }
  if (found.empty()) throw Error(file + ": not open in " + qmp.peer_name());
  return found;
}

}  // namespace lsm::mirror
