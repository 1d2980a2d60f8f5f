#!/usr/bin/env bash
# Extracts the training corpus of the bundled model from two Debian packages of public-domain English:
#   bible-kjv-text + bible-kjv   the King James Bible (the `bible` program decodes its compressed data file)
#   fortunes                     the fortune-mod quotations (/usr/share/games/fortunes)
# Output (one passage per line, UTF-8):
#   OUT/train.txt     training split
#   OUT/heldout.txt   held-out split: every 20th block of 100 verses, every 20th fortune
# Usage: prepare-data.sh [OUT]    (default: /tmp/kvasir-train-data)
# Needs: apt-get install -y bible-kjv-text bible-kjv fortunes
set -euo pipefail
out="${1:-/tmp/kvasir-train-data}"
mkdir -p "$out"
command -v bible >/dev/null || { echo "prepare-data.sh: install the corpus first: apt-get install -y bible-kjv-text bible-kjv fortunes" >&2; exit 1; }
fortunes=/usr/share/games/fortunes
[ -d "$fortunes" ] || { echo "prepare-data.sh: $fortunes is missing: apt-get install -y fortunes" >&2; exit 1; }

# KJV: one verse per line; drop the "Book N" chapter headers and the verse numbers.
bible -l 100000 "gen1:1-rev22:21" \
  | awk '/^ +[0-9]+ / { sub(/^ +[0-9]+ +/, ""); gsub(/[ \t]+/, " "); sub(/ +$/, ""); if (length($0) > 0) print }' \
  > "$out/kjv.txt"

# Fortunes: one quotation per line (whitespace collapsed, "-- Author" kept); skip ASCII art and non-English files.
: > "$out/fortunes.txt"
for f in "$fortunes"/*; do
  name=$(basename "$f")
  case "$name" in *.dat|*.u8|art|ascii-art|translate-me|zippy) continue ;; esac
  [ -f "$f" ] || continue
  awk 'BEGIN { RS = "\n%\n" } {
         gsub(/[\t\r ]*\n[\t ]*/, " "); gsub(/[ \t]+/, " "); sub(/^ +/, ""); sub(/ +$/, ""); sub(/%$/, "");
         if (length($0) > 0 && length($0) < 1200 && $0 !~ /[^\x20-\x7e]/) print
       }' "$f" >> "$out/fortunes.txt"
done

# Held-out split: KJV by blocks of 100 verses (so that neighbouring verses do not leak), fortunes one in 20.
awk -v train="$out/train.txt" -v held="$out/heldout.txt" 'FNR == 1 { file++ }
  { block = (file == 1) ? int((FNR - 1) / 100) : FNR - 1
    if (block % 20 == 19) print > held; else print > train }' "$out/kjv.txt" "$out/fortunes.txt"
wc -l -c "$out/kjv.txt" "$out/fortunes.txt" "$out/train.txt" "$out/heldout.txt" >&2
