#pragma once
// MovieLens ratings as a user log. Two layouts, detected by file name:
//   ml-100k  DIR/u.data (user \t item \t rating \t unix time), DIR/u.item
//            (id|title|release date|video date|url|19 genre flags, Latin-1),
//            optional DIR/u.genre (name|index); scale [1, 5]
//   csv      DIR/ratings.csv (userId,movieId,rating,timestamp) and
//            DIR/movies.csv (movieId,title,genres with '|'); scale [0.5, 5]
// Each rating is a `rating` event: id "m<movieId>", source "movielens",
// item "Title (Year) | Genre1, Genre2", category = first genre, ts from the
// unix time; events in time order; users "ml-<userId>" in numeric order.

#include <string>
#include <vector>

#include "upm/data/user_log.h"

namespace upm::data {

struct MovieLensReport {
  std::string layout;  // "ml-100k" or "csv"
  std::size_t ratings = 0, movies = 0, users = 0, duplicates = 0;
};

// InputError naming file, line and field on malformed input.
std::vector<UserLog> movielens_to_logs(const std::string& dir, MovieLensReport* report = nullptr);

// Splits one CSV line (RFC 4180 quotes, "" inside quotes).
std::vector<std::string> split_csv_line(const std::string& line);

// Text that is not valid UTF-8 is taken as Latin-1 (ml-100k's u.item) and converted.
std::string to_utf8(const std::string& text);

}  // namespace upm::data
