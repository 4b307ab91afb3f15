#!/usr/bin/env python3
"""Run a project's segments on DuckDB from hand-written SQL, as an oracle for `segc run`.

usage: run.py PROJECT_DIR SQL_FILE OUT_DIR

PROJECT_DIR holds a segc.toml and the tables it names. SQL_FILE holds one query per segment,
each after a line `-- segment: NAME`, written by hand from SPEC.md section 3; lines that
start with `--` are comments for readers. Each query's result is written to
OUT_DIR/NAME.csv with DuckDB's CSV writer, and is also a view named NAME, so that later
queries can test membership with `CustomerId IN (SELECT CustomerId FROM NAME)`: a query may
only use the segments above it.

This script does the part that is not segment logic: it loads each table with the column
types segc gives it (keys as text; the types segc.toml declares or the table's model kind
brings; every other column inferred from its cells by SPEC's rule), without DuckDB's own
type detection, and keeps each row's place in the file as `_row`. It also defines three
macros for the queries:

- `days_since(d)`: whole days from `d` to the project's `as_of`;
- `num_text(x)`: a number as segc writes it, in the shortest digits that read back exactly
  and without an exponent (`0.7`, `2`, `0.0000001`); a query whose result has a
  floating-point column is refused, since DuckDB would write `2.0`;
- `bucket32(text)`: the first 8 hex digits of `md5(text)` as an integer, below 2^32.

Only what the fixtures need of the CSV rules is covered (no null spellings in keys, no
rows of the wrong length), and the script stops, saying so, rather than guess otherwise.
"""
import csv
import os
import sys
import tomllib

import duckdb

# The columns that a table's model kind brings, with their types (MODELS.md).
MODEL_COLUMNS = {
    "transactional-churn": {"ChurnScore": "number", "IsChurn": "bool"},
    "subscription-churn": {"ChurnScore": "number", "IsChurn": "bool"},
    "customer-lifetime-value": {"CLVScore": "number"},
    "product-recommendation": {"ProductID": "string", "Score": "number", "Rank": "integer"},
}

# SPEC's order for undeclared columns: the first type every non-null cell fits.
INFERENCE_ORDER = ["bool", "integer", "number", "date", "string"]

SQL_TYPES = {
    "bool": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "string": "VARCHAR",
}

INTEGER = r"[+-]?[0-9]+"
NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# `0012`, `-007`, `00.5`: inference keeps these as text so ids keep their zeros (README).
LEADING_ZERO = r"[+-]?0[0-9].*"


def fail(message):
    sys.exit(f"run.py: {message}")


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def text(value):
    return "'" + value.replace("'", "''") + "'"


def fits(kind, cell, declared):
    """SQL: the trimmed cell reads as a value of `kind`."""
    if kind == "string":
        return "true"
    if kind == "bool":
        words = "'true', 'false', '1', '0'" if declared else "'true', 'false'"
        return f"lower({cell}) IN ({words})"
    if kind == "integer":
        fit = (f"regexp_full_match({cell}, '{INTEGER}') "
               f"AND abs(TRY_CAST({cell} AS HUGEINT)) <= 9223372036854775807")
    elif kind == "number":
        fit = (f"regexp_full_match({cell}, '{NUMBER}') "
               f"AND isfinite(TRY_CAST({cell} AS DOUBLE))")
    else:
        return f"regexp_full_match({cell}, '{DATE}') AND TRY_CAST({cell} AS DATE) IS NOT NULL"
    if not declared:
        fit += f" AND NOT regexp_full_match({cell}, '{LEADING_ZERO}')"
    # A cast that fails is NULL, and a NULL here must read as "does not fit".
    return f"coalesce({fit}, false)"


def convert(kind, cell):
    """SQL: the value of a trimmed cell that fits `kind`."""
    if kind == "bool":
        return f"lower({cell}) IN ('true', '1')"
    return f"CAST({cell} AS {SQL_TYPES[kind]})"


def read_header_and_keys(path, delimiter, key):
    """The header and the key column, read by Python's csv module to check DuckDB's reading."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f, delimiter=delimiter) if row]
    if not rows:
        fail(f"{path} has no header")
    header = rows[0]
    if key not in header:
        fail(f"{path} has no key column `{key}`")
    at = header.index(key)
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            fail(f"{path}: row {number} has {len(row)} fields, the header {len(header)}")
    return header, [row[at] for row in rows[1:]]


def load_table(con, name, table, project_key, project_dir):
    path = os.path.join(project_dir, table["path"])
    key = table.get("key", project_key)
    delimiter = table.get("delimiter", ",")
    null_values = table.get("null_values", [""])
    bad_as_null = table.get("on_bad_value", "error") == "null"
    declared = dict(MODEL_COLUMNS.get(table.get("model"), {}))
    declared.update(table.get("columns", {}))
    header, keys = read_header_and_keys(path, delimiter, key)

    # Every cell as text, no type detection; cells spelled as a null value are NULL.
    columns = "{" + ", ".join(f"{text(c)}: 'VARCHAR'" for c in header) + "}"
    nulls = "[" + ", ".join(text(v) for v in null_values) + "]"
    raw = f"raw_{name}"
    con.execute(
        f"CREATE TEMP TABLE {ident(raw)} AS SELECT row_number() OVER () AS _row, * "
        f"FROM read_csv({text(path)}, header = true, auto_detect = false, "
        f"delim = {text(delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
        f"nullstr = {nulls}, allow_quoted_nulls = true)"
    )
    # One thread reads in file order; compare with Python's reading to be sure of it.
    read = [k for (k,) in con.execute(f"SELECT {ident(key)} FROM {ident(raw)} ORDER BY _row")
            .fetchall()]
    if read != keys:
        fail(f"DuckDB read the keys of {path} differently from Python's csv module")
    if None in read:
        fail(f"{path} has an empty key, or a key spelled as a null value")

    nulls_sql = ", ".join(text(v) for v in null_values)
    projection = ["_row", ident(key)]
    for column in header:
        if column == key:
            continue
        cell = f"trim({ident(column)}, ' ' || chr(9))"
        # Numbers, bools and dates also take null spellings with spaces around them.
        present = f"{ident(column)} IS NOT NULL AND {cell} NOT IN ({nulls_sql})"
        kind = declared.get(column)
        if kind is None:
            kind = next(k for k in INFERENCE_ORDER if k == "string" or count(
                con, f"SELECT count(*) FROM {ident(raw)} "
                     f"WHERE {present} AND NOT ({fits(k, cell, False)})") == 0)
            is_declared = False
        else:
            is_declared = True
        if kind == "string":
            projection.append(ident(column))
            continue
        fit = fits(kind, cell, is_declared)
        bad = count(con, f"SELECT count(*) FROM {ident(raw)} WHERE {present} AND NOT ({fit})")
        if bad and not bad_as_null:
            fail(f"{path}: {bad} cells of column `{column}` are not of type {kind}")
        projection.append(
            f"CASE WHEN {present} AND {fit} THEN {convert(kind, cell)} END "
            f"::{SQL_TYPES[kind]} AS {ident(column)}"
        )
    con.execute(f"CREATE TABLE {ident(name)} AS SELECT {', '.join(projection)} "
                f"FROM {ident(raw)}")


def count(con, sql):
    return con.execute(sql).fetchone()[0]


def define_macros(con, as_of):
    if as_of is not None:
        con.execute(f"CREATE MACRO days_since(d) AS DATE {text(str(as_of))} - d")
    # DuckDB writes a double in its shortest round-trip digits, but as `2.0`, `1e-07` or
    # `1e+20`; segc writes the same digits in plain decimal notation: `2`, `0.0000001`,
    # `100000000000000000000`. So take DuckDB's digits and place the decimal point.
    con.execute("CREATE MACRO mantissa(s) AS regexp_extract(s, '^[0-9.]+')")
    con.execute("CREATE MACRO exponent(s) AS "
                "coalesce(TRY_CAST(regexp_extract(s, 'e([+-]?[0-9]+)$', 1) AS INTEGER), 0)")
    con.execute(
        "CREATE MACRO point_at(digits, point) AS CASE "
        "WHEN point <= 0 THEN '0.' || repeat('0', -point) || digits "
        "WHEN point >= length(digits) THEN digits || repeat('0', point - length(digits)) "
        "ELSE left(digits, point) || '.' || substr(digits, point + 1) END"
    )
    con.execute("CREATE MACRO trim_fraction(r) AS "
                "CASE WHEN contains(r, '.') THEN rtrim(rtrim(r, '0'), '.') ELSE r END")
    con.execute(
        "CREATE MACRO unsigned_text(s) AS trim_fraction(point_at(replace(mantissa(s), '.', ''), "
        "length(split_part(mantissa(s), '.', 1)) + exponent(s)))"
    )
    con.execute("CREATE MACRO num_text(x) AS "
                "CASE WHEN x < 0 THEN '-' ELSE '' END || unsigned_text(CAST(abs(x) AS VARCHAR))")
    con.execute("CREATE MACRO bucket32(s) AS CAST('0x' || left(md5(s), 8) AS BIGINT)")


def segments(sql_file):
    """(name, query) in file order."""
    found = []
    with open(sql_file, encoding="utf-8") as f:
        for line in f:
            if line.startswith("-- segment:"):
                found.append((line.split(":", 1)[1].strip(), []))
            elif found and not line.lstrip().startswith("--"):
                found[-1][1].append(line)
    names = [name for name, _ in found]
    for name in names:
        if names.count(name) > 1:
            fail(f"{sql_file} has two queries for segment `{name}`")
    return [(name, "".join(lines).strip().rstrip(";")) for name, lines in found]


def main():
    if len(sys.argv) != 4:
        fail("usage: run.py PROJECT_DIR SQL_FILE OUT_DIR")
    project_dir, sql_file, out_dir = sys.argv[1:]
    with open(os.path.join(project_dir, "segc.toml"), "rb") as f:
        config = tomllib.load(f)
    os.makedirs(out_dir, exist_ok=True)

    con = duckdb.connect()
    # One thread keeps `row_number() OVER ()` in file order; the tables are small.
    con.execute("SET threads = 1")
    if count(con, "SELECT current_setting('default_collation')") not in ("", "binary"):
        fail("DuckDB's default collation is not binary")
    project_key = config.get("key", "CustomerId")
    for name, table in config.get("tables", {}).items():
        load_table(con, name, table, project_key, project_dir)
    define_macros(con, config.get("as_of"))

    for name, query in segments(sql_file):
        try:
            con.execute(f"CREATE VIEW {ident(name)} AS {query}")
            # DuckDB would write `2.0` where segc writes `2`: numbers go through num_text.
            for column, kind, *_ in con.execute(f"DESCRIBE {ident(name)}").fetchall():
                if kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
                    fail(f"segment `{name}`: write column `{column}` with num_text()")
            target = os.path.join(out_dir, f"{name}.csv")
            con.execute(f"COPY ({query}) TO {text(target)} (HEADER, DELIMITER ',')")
        except duckdb.Error as error:
            fail(f"segment `{name}`: {error}")


if __name__ == "__main__":
    main()
