#include "upm/data/movielens.h"

#include <algorithm>
#include <array>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "field_reader.h"
#include "upm/data/record_reader.h"
#include "upm/data/time_format.h"

namespace upm::data {

namespace {

struct Movie {
  std::string title;
  std::vector<std::string> genres;
};

struct Rating {
  int64_t user = 0, movie = 0, time = 0;
  double value = 0;
};

constexpr std::array<double, 2> kMl100kScale{1, 5};
constexpr std::array<double, 2> kCsvScale{0.5, 5};

const std::vector<std::string> kMl100kGenres{"unknown",   "Action",   "Adventure",   "Animation", "Children's",
                                             "Comedy",    "Crime",    "Documentary", "Drama",     "Fantasy",
                                             "Film-Noir", "Horror",   "Musical",     "Mystery",   "Romance",
                                             "Sci-Fi",    "Thriller", "War",         "Western"};

std::vector<std::string> split_on(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// Reads `path` line by line (CR stripped, blank lines skipped).
template <class F>
void for_each_line(const std::string& path, F f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path, 0, ""}, "cannot open");
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    f(number, line);
  }
}

int64_t parse_int(const std::string& text, const Location& where) {
  try {
    std::size_t used = 0;
    int64_t v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {}
  throw InputError(where, "expected an integer, got \"" + text + "\"");
}

double parse_double(const std::string& text, const Location& where) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {}
  throw InputError(where, "expected a number, got \"" + text + "\"");
}

std::vector<std::string> fields_of(const std::string& path, std::size_t number, std::vector<std::string> fields,
                                   std::size_t at_least) {
  if (fields.size() < at_least) {
    throw InputError(Location{path, number, ""},
                     "expected at least " + std::to_string(at_least) + " fields, got " + std::to_string(fields.size()));
  }
  return fields;
}

Rating parse_rating(const std::string& path, std::size_t number, const std::vector<std::string>& f,
                    const std::array<const char*, 4>& names, const std::array<double, 2>& scale) {
  Rating r;
  r.user = parse_int(f[0], {path, number, names[0]});
  r.movie = parse_int(f[1], {path, number, names[1]});
  r.value = parse_double(f[2], {path, number, names[2]});
  r.time = parse_int(f[3], {path, number, names[3]});
  if (r.value < scale[0] || r.value > scale[1]) {
    throw InputError(Location{path, number, names[2]}, "rating " + f[2] + " is outside the scale [" +
                                                           detail::number_json(scale[0]).dump() + ", " +
                                                           detail::number_json(scale[1]).dump() + "]");
  }
  return r;
}

void read_ml100k(const std::string& dir, std::map<int64_t, Movie>& movies, std::vector<Rating>& ratings) {
  std::vector<std::string> genres = kMl100kGenres;
  if (std::filesystem::exists(dir + "/u.genre")) {
    genres.clear();
    for_each_line(dir + "/u.genre",
                  [&](std::size_t, const std::string& line) { genres.push_back(split_on(line, '|')[0]); });
  }
  const std::string items = dir + "/u.item";
  for_each_line(items, [&](std::size_t number, const std::string& line) {
    auto f = fields_of(items, number, split_on(to_utf8(line), '|'), 5 + genres.size());
    Movie movie;
    movie.title = f[1];
    for (std::size_t g = 0; g < genres.size(); ++g) {
      if (f[5 + g] == "1") movie.genres.push_back(genres[g]);
    }
    movies[parse_int(f[0], {items, number, "movie id"})] = std::move(movie);
  });
  const std::string data = dir + "/u.data";
  for_each_line(data, [&](std::size_t number, const std::string& line) {
    ratings.push_back(parse_rating(data, number, fields_of(data, number, split_on(line, '\t'), 4),
                                   {"user id", "item id", "rating", "timestamp"}, kMl100kScale));
  });
}

void read_csv_layout(const std::string& dir, std::map<int64_t, Movie>& movies, std::vector<Rating>& ratings) {
  const std::string movies_csv = dir + "/movies.csv";
  for_each_line(movies_csv, [&](std::size_t number, const std::string& line) {
    auto f = fields_of(movies_csv, number, split_csv_line(to_utf8(line)), 3);
    if (number == 1 && f[0] == "movieId") return;  // header (quoted or not)
    Movie movie;
    movie.title = f[1];
    for (auto& g : split_on(f[2], '|')) {
      if (!g.empty() && g != "(no genres listed)") movie.genres.push_back(g);
    }
    movies[parse_int(f[0], {movies_csv, number, "movieId"})] = std::move(movie);
  });
  const std::string ratings_csv = dir + "/ratings.csv";
  for_each_line(ratings_csv, [&](std::size_t number, const std::string& line) {
    auto f = fields_of(ratings_csv, number, split_csv_line(line), 4);
    if (number == 1 && f[0] == "userId") return;
    ratings.push_back(parse_rating(ratings_csv, number, f, {"userId", "movieId", "rating", "timestamp"}, kCsvScale));
  });
}

std::string item_text(const Movie& movie) {
  std::string genres;
  for (const auto& g : movie.genres) genres += (genres.empty() ? "" : ", ") + g;
  return genres.empty() ? movie.title : movie.title + " | " + genres;
}

}  // namespace

std::string to_utf8(const std::string& text) {
  if (find_invalid_utf8(text) == std::string::npos) return text;
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<UserLog> movielens_to_logs(const std::string& dir, MovieLensReport* report) {
  MovieLensReport r;
  std::map<int64_t, Movie> movies;
  std::vector<Rating> ratings;
  std::array<double, 2> scale;
  if (std::filesystem::exists(dir + "/u.data")) {
    r.layout = "ml-100k";
    scale = kMl100kScale;
    read_ml100k(dir, movies, ratings);
  } else if (std::filesystem::exists(dir + "/ratings.csv")) {
    r.layout = "csv";
    scale = kCsvScale;
    read_csv_layout(dir, movies, ratings);
  } else {
    throw InputError(Location{dir, 0, ""}, "no MovieLens data: expected u.data + u.item or ratings.csv + movies.csv");
  }
  std::stable_sort(ratings.begin(), ratings.end(), [](const Rating& a, const Rating& b) {
    return std::tie(a.user, a.time, a.movie) < std::tie(b.user, b.time, b.movie);
  });
  std::vector<UserLog> logs;
  std::set<std::string> ids;
  for (const Rating& rating : ratings) {
    const std::string user_id = "ml-" + std::to_string(rating.user);
    if (logs.empty() || logs.back().user_id != user_id) {
      logs.emplace_back();
      logs.back().user_id = user_id;
      ids.clear();
    }
    Event e;
    e.id = "m" + std::to_string(rating.movie);
    if (!ids.insert(e.id).second) {
      ++r.duplicates;
      continue;
    }
    auto movie = movies.find(rating.movie);
    if (movie == movies.end()) {
      throw InputError(Location{dir, 0, "movieId"}, "rating of unknown movie " + std::to_string(rating.movie));
    }
    e.kind = EventKind::rating;
    e.source = "movielens";
    e.ts = iso8601_utc(rating.time);
    e.item = item_text(movie->second);
    e.category = movie->second.genres.empty() ? "" : movie->second.genres[0];
    e.value = rating.value;
    e.scale = scale;
    logs.back().events.push_back(std::move(e));
    ++r.ratings;
  }
  r.movies = movies.size();
  r.users = logs.size();
  if (report) *report = r;
  return logs;
}

}  // namespace upm::data
