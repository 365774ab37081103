#include "upm/data/select_users.h"

#include <fstream>

#include "upm/core/atomic_file.h"
#include "upm/core/error.h"
#include "upm/core/jsonl.h"

namespace upm::data {

std::set<std::string> read_user_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(Location{path, 0, ""}, "cannot open the user list");
  std::set<std::string> users;
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    users.insert(line.substr(first, last - first + 1));
  }
  return users;
}

SelectReport select_users(const std::string& input, const std::set<std::string>& users, bool exclude,
                          const std::string& output) {
  SelectReport report;
  AtomicFileWriter out(output);
  JsonlReader reader(input);
  while (auto record = reader.next_strict()) {
    ++report.lines;
    const std::string user = get_field<std::string>(*record, record->value, "user_id");
    if ((users.count(user) > 0) == exclude) continue;
    out.write(record->raw + "\n");
    ++report.kept;
  }
  out.commit();
  return report;
}

}  // namespace upm::data
