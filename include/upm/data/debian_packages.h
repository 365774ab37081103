#pragma once
// Real data every Debian machine has: the archive's package records
// (`apt-cache dumpavail`, Deb822). Users are maintainers (the Maintainer
// field, plus Uploaders where present), identified by lower-cased e-mail;
// each package they maintain is a `click` event:
//   id "0ad", source "debian", category = section ("games"; an archive
//   area prefix such as "contrib/" is dropped),
//   item "0ad | games | Real-time strategy game of ancient warfare. <long description>"
//   context "Which package does this person maintain?"
// Events are ordered by a stable hash of the package name, so that held-out
// packages are an arbitrary but deterministic subset; `upm-data split` then
// asks which of two packages the user maintains (a held-out one of theirs vs
// one of another maintainer in another section).

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "upm/data/user_log.h"

namespace upm::data {

struct Deb822Stanza {
  std::size_t line = 0;                       // where the stanza starts
  std::map<std::string, std::string> fields;  // continuation lines joined with '\n'
};

// Parses Deb822 text; a line that is neither "Field: value", a continuation
// nor blank is an InputError naming `source` and the line.
std::vector<Deb822Stanza> parse_deb822(std::istream& in, const std::string& source);

struct DebianConvertConfig {
  int64_t min_packages = 5;  // users with fewer packages are dropped
  int64_t max_packages = 0;  // > 0: keep only this many per user (teams maintain thousands)
  bool include_uploaders = true;
  std::size_t max_description_chars = 600;  // long descriptions are cut here
};

struct DebianConvertReport {
  std::size_t stanzas = 0, packages = 0, duplicates = 0, without_maintainer = 0;
  std::size_t maintainers = 0, users_kept = 0;
};

std::vector<UserLog> debian_packages_to_logs(const std::vector<Deb822Stanza>& stanzas,
                                             const DebianConvertConfig& config, DebianConvertReport* report = nullptr);

// "A <a@x.org>, B C <b@y.org>" -> {"A <a@x.org>", "B C <b@y.org>"}.
std::vector<std::string> split_people(const std::string& field);

}  // namespace upm::data
