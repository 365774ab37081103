#!/usr/bin/env bash
# Exports the real MovieLens ratings shipped in Debian's r-cran-dslabs (its
# `movielens` object: 100,004 ratings by 671 users of 9,066 movies) to
# ratings.csv / movies.csv, the layout `upm-data convert movielens` reads.
#
# OPT-IN, because it installs r-base-core (large): it does nothing unless
# UPM_WITH_MOVIELENS=1 is set (e.g. `UPM_WITH_MOVIELENS=1 ./run setup`) or it
# is called with --install (`bash tools/setup/movielens.sh --install`).
# Output: ${UPM_DATA_DIR:-.cache/data}/movielens/{ratings,movies}.csv. The data
# is never committed (GroupLens terms forbid redistribution). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${UPM_WITH_MOVIELENS:-0}" != 1 ] && [ "${1:-}" != --install ]; then
  exit 0
fi

out="${UPM_DATA_DIR:-.cache/data}/movielens"
if [ -s "$out/ratings.csv" ] && [ -s "$out/movies.csv" ]; then
  echo "[movielens] already exported: $out" >&2
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if ! dpkg-query -W -f='${Status}' r-base-core 2>/dev/null | grep -q "install ok installed"; then
  echo "[movielens] installing r-base-core" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends r-base-core
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download r-cran-dslabs >/dev/null 2>&1 || apt-get download r-cran-dslabs)
dpkg-deb -x "$work"/r-cran-dslabs_*.deb "$work/x"
mkdir -p "$out"

# R's lazy-load database holds the package's data sets; write.csv quotes
# text RFC 4180 style ("" inside quotes), which the converter reads.
Rscript --vanilla - "$work/x/usr/lib/R/site-library/dslabs/data/Rdata" "$out" <<'RSCRIPT'
args <- commandArgs(trailingOnly = TRUE)
e <- new.env()
lazyLoad(args[1], envir = e)
m <- get("movielens", envir = e)
ratings <- data.frame(userId = m$userId, movieId = m$movieId, rating = m$rating, timestamp = m$timestamp)
movies <- unique(data.frame(movieId = m$movieId,
                            title = ifelse(is.na(m$year), as.character(m$title),
                                           paste0(as.character(m$title), " (", m$year, ")")),
                            genres = as.character(m$genres), stringsAsFactors = FALSE))
movies <- movies[!duplicated(movies$movieId), ]
movies <- movies[order(movies$movieId), ]
tmp_r <- file.path(args[2], "ratings.csv.tmp")
tmp_m <- file.path(args[2], "movies.csv.tmp")
write.csv(ratings, tmp_r, row.names = FALSE, fileEncoding = "UTF-8")
write.csv(movies, tmp_m, row.names = FALSE, fileEncoding = "UTF-8")
invisible(file.rename(tmp_m, file.path(args[2], "movies.csv")))
invisible(file.rename(tmp_r, file.path(args[2], "ratings.csv")))
cat(sprintf("[movielens] %d ratings, %d users, %d movies\n", nrow(ratings), length(unique(ratings$userId)), nrow(movies)))
RSCRIPT
echo "[movielens] exported to $out (convert: build/bin/upm-data convert movielens --input $out --output OUT)" >&2
