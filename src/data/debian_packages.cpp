#include "upm/data/debian_packages.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "upm/data/event_format.h"
#include "upm/core/random.h"

namespace upm::data {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Person {
  std::string id, name;
};

// "Jane Doe <Jane@Example.org>" -> id "jane@example.org", name "Jane Doe".
Person parse_person(const std::string& text) {
  auto open = text.find('<'), close = text.find('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return {lower(trim(text)), trim(text)};
  return {lower(trim(text.substr(open + 1, close - open - 1))), trim(text.substr(0, open))};
}

// Short description + long description (Deb822 continuation lines; " ." is a
// paragraph break), on one line, the long part cut to `max_chars`.
std::string describe_package(const std::string& description, std::size_t max_chars) {
  auto newline = description.find('\n');
  std::string short_desc = trim(description.substr(0, newline));
  std::string long_desc;
  if (newline != std::string::npos) {
    std::string rest = description.substr(newline + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
      auto end = rest.find('\n', start);
      std::string line = trim(rest.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (line != "." && !line.empty()) long_desc += (long_desc.empty() ? "" : " ") + line;
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  if (long_desc.empty()) return short_desc;
  return short_desc + ". " + one_line(long_desc, max_chars);
}

std::string section_name(const std::string& section) {
  auto slash = section.rfind('/');
  return slash == std::string::npos ? section : section.substr(slash + 1);
}

}  // namespace

std::vector<Deb822Stanza> parse_deb822(std::istream& in, const std::string& source) {
  std::vector<Deb822Stanza> stanzas;
  Deb822Stanza current;
  std::string last_field, line;
  std::size_t number = 0;
  auto flush = [&] {
    if (!current.fields.empty()) stanzas.push_back(std::move(current));
    current = Deb822Stanza{};
    last_field.clear();
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (last_field.empty()) throw InputError(Location{source, number, ""}, "continuation line outside a field");
      current.fields[last_field] += "\n" + line;
      continue;
    }
    if (line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw InputError(Location{source, number, ""}, "expected \"Field: value\", got \"" + one_line(line, 60) + "\"");
    }
    if (current.fields.empty()) current.line = number;
    last_field = line.substr(0, colon);
    current.fields[last_field] = trim(line.substr(colon + 1));
  }
  flush();
  return stanzas;
}

std::vector<std::string> split_people(const std::string& field) {
  std::vector<std::string> people;
  std::string current;
  bool in_email = false;
  for (char c : field) {
    if (c == '<') in_email = true;
    if (c == '>') in_email = false;
    if (c == ',' && !in_email && current.find('>') != std::string::npos) {
      if (!trim(current).empty()) people.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c == '\n' ? ' ' : c;
  }
  if (!trim(current).empty()) people.push_back(trim(current));
  return people;
}

std::vector<UserLog> debian_packages_to_logs(const std::vector<Deb822Stanza>& stanzas,
                                             const DebianConvertConfig& config, DebianConvertReport* report) {
  DebianConvertReport r;
  r.stanzas = stanzas.size();
  std::set<std::string> seen_packages;
  std::map<std::string, UserLog> users;
  for (const auto& stanza : stanzas) {
    auto get = [&](const char* key) {
      auto it = stanza.fields.find(key);
      return it == stanza.fields.end() ? std::string() : it->second;
    };
    const std::string name = get("Package"), maintainer = get("Maintainer");
    if (name.empty()) continue;
    if (maintainer.empty()) {
      ++r.without_maintainer;
      continue;
    }
    if (!seen_packages.insert(name).second) {
      ++r.duplicates;  // another version or architecture of the same package
      continue;
    }
    ++r.packages;
    const std::string section = section_name(get("Section").empty() ? "unknown" : get("Section"));
    std::string description = get("Description-en").empty() ? get("Description") : get("Description-en");
    Event event;
    event.id = name;
    event.kind = EventKind::click;
    event.source = "debian";
    event.category = section;
    event.context = "Which package does this person maintain?";
    event.item = name + " | " + section + " | " + describe_package(description, config.max_description_chars);
    std::vector<std::string> people{maintainer};
    if (config.include_uploaders) {
      for (auto& p : split_people(get("Uploaders"))) people.push_back(p);
    }
    std::set<std::string> credited;
    for (const auto& text : people) {
      Person person = parse_person(text);
      if (person.id.empty() || !credited.insert(person.id).second) continue;
      UserLog& log = users[person.id];
      if (log.user_id.empty()) {
        log.user_id = person.id;
        log.extra["name"] = person.name;
      }
      log.events.push_back(event);
    }
  }
  r.maintainers = users.size();
  std::vector<UserLog> out;
  for (auto& [id, log] : users) {
    if (static_cast<int64_t>(log.events.size()) < config.min_packages) continue;
    std::stable_sort(log.events.begin(), log.events.end(),
                     [](const Event& a, const Event& b) { return stable_hash(a.id) < stable_hash(b.id); });
    if (config.max_packages > 0 && static_cast<int64_t>(log.events.size()) > config.max_packages) {
      log.events.resize(static_cast<std::size_t>(config.max_packages));
    }
    out.push_back(std::move(log));
  }
  r.users_kept = out.size();
  if (report) *report = r;
  return out;
}

}  // namespace upm::data
