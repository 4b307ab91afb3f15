#!/usr/bin/env bash
# Fills fuzz/corpus/TARGET with seed inputs made from the repository's own files:
# every .seg file for parse_check, and the sample and fixture tables (cut to their first
# lines, under several configurations) for load_eval. The corpus folders are not committed;
# run this once before `cargo fuzz run`.
set -euo pipefail
cd "$(dirname "$0")"
repo=..

parse=corpus/parse_check
load=corpus/load_eval
mkdir -p "$parse" "$load"

# parse_check: every segment file of the repository, named by its path without `.seg`, so
# that the test walking the repository's .seg files does not take the corpus for sources.
find "$repo/segments" "$repo/tests" "$repo/bench/segments" -name '*.seg' -print0 |
    while IFS= read -r -d '' file; do
        name=${file#"$repo"/}
        name=${name%.seg}
        cp "$file" "$parse/${name//\//_}"
    done

# load_eval: the first byte picks the configuration (see fuzz_targets/load_eval.rs).
# seed NAME BYTE FILE writes BYTE followed by FILE's contents.
seed() {
    { printf "\\$(printf '%03o' "$2")"; cat "$3"; } >"$load/$1"
}

lines=40
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for file in "$repo"/samples/*.csv "$repo"/tests/fixtures/*/*.csv "$repo"/tests/lints/*/*.csv \
    "$repo"/tests/lints/cases/*/*.csv; do
    name=${file#"$repo"/}
    name=${name//\//_}
    head -n "$lines" "$file" >"$tmp/$name"
    # Inferred types, as written.
    seed "$name.inferred" 0 "$tmp/$name"
    # The churn model; then bad values read as null, with the second table.
    seed "$name.model" 8 "$tmp/$name"
    seed "$name.model-null-cross" $((8 | 4 | 128)) "$tmp/$name"
    # Declared types with more null spellings.
    seed "$name.declared" $((24 | 32)) "$tmp/$name"
    # Other delimiters: the same table with `;`, tab and `|`.
    tr ',' ';' <"$tmp/$name" >"$tmp/$name.semicolon"
    seed "$name.semicolon" $((1 | 16)) "$tmp/$name.semicolon"
    tr ',' '\t' <"$tmp/$name" >"$tmp/$name.tab"
    seed "$name.tab" $((2 | 8)) "$tmp/$name.tab"
    tr ',' '|' <"$tmp/$name" >"$tmp/$name.bar"
    seed "$name.bar" $((3 | 4)) "$tmp/$name.bar"
    seed "$name.declared-null" $((24 | 4)) "$tmp/$name"
    # The rows alone, cut or padded to the five columns of the fixed header.
    tail -n +2 "$tmp/$name" |
        awk -F, -v OFS=, '{ NF = 5; print }' >"$tmp/$name.rows"
    seed "$name.rows" $((64 | 8 | 4)) "$tmp/$name.rows"
done

# Quotes, CRLF line ends, a byte-order mark, empty and repeated keys: none of the
# repository's tables has them.
{
    printf '\357\273\277CustomerId,ChurnScore,IsChurn,TopFactor,LastPurchaseDate\r\n'
    printf '"C1","0.5",true,"Price, ""high""",2024-01-02\r\nC2,,false,,\r\n'
    printf 'C1,0.9,1,"multi\nline",2023-12-31\r\n'
} >"$tmp/quoted.csv"
seed quoted.model 8 "$tmp/quoted.csv"
seed quoted.inferred-null-cross $((4 | 128)) "$tmp/quoted.csv"
seed quoted.declared $((24 | 4)) "$tmp/quoted.csv"
printf 'C1,NA,null,Price,2024-02-29\nC3,1e999,TRUE,y,0001-01-01\nC2,-0,1,,\n' >"$tmp/rows.csv"
seed rows.model $((64 | 8 | 32)) "$tmp/rows.csv"
seed rows.declared-null $((64 | 24 | 32 | 4)) "$tmp/rows.csv"
printf 'C1,0.5,true,x,2024-02-30\n,0.1,true,x,2024-01-01\n' >"$tmp/bad.csv"
seed bad.model $((64 | 8)) "$tmp/bad.csv"

echo "parse_check: $(find "$parse" -type f | wc -l) seeds;" \
    "load_eval: $(find "$load" -type f | wc -l) seeds"
