#!/usr/bin/env python3
"""Runs SQL that `segc compile` wrote on a real engine and writes what it returns as segc
writes its outputs, so that the two can be compared byte for byte.

usage: engines.py ENGINE MANIFEST

ENGINE is duckdb, spark or postgres. MANIFEST is a JSON list of jobs:
  {"project": DIR, "sql": DIR, "out": DIR, "views": false}
A job {"casing": FILE, "guards": {"lower": RANGES, "upper": RANGES}} instead maps every
code point with the engine's `lower` and `upper` (as the compiled SQL calls them) and
compares the results with segc's in FILE (lines `code<TAB>lower hex<TAB>upper hex`): every
difference must lie in the ranges that the compiled SQL guards.
For each job the tables of DIR/segc.toml are read here, by SPEC.md's rules for cells and
types (declared types, then the model kind's, then inference), and loaded into the engine
with those types, the key as text. With "views": false every NAME.sql in the sql folder is
run and its rows written to OUT/NAME.csv; with "views": true, sql/views.sql is run and
every view it creates is read back the same way. PostgreSQL runs as a private cluster in a
temporary folder, reached through a Unix socket only, and stopped at the end.

The rows are sorted here as segc sorts them: by key in byte order, and the rows of one key
(`select`) in the order of the table file, which SQL does not keep. Numbers are written in
the shortest form that reads back exactly, without an exponent, as Rust prints them: the
engines' own text forms differ (`1e-05`, `2.0`), so the values are formatted here.
"""
import csv
import datetime
import decimal
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

# The column types of each model kind (MODELS.md).
MODELS = {
    "transactional-churn": {"ChurnScore": "number", "IsChurn": "bool"},
    "subscription-churn": {"ChurnScore": "number", "IsChurn": "bool"},
    "customer-lifetime-value": {"CLVScore": "number"},
    "product-recommendation": {"ProductID": "string", "Score": "number", "Rank": "integer"},
}

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
I64_MAX = 2**63 - 1


def trim(cell):
    return cell.strip(" \t")


def as_bool(text, digits):
    lowered = text.lower()
    if lowered == "true" or (digits and text == "1"):
        return True
    if lowered == "false" or (digits and text == "0"):
        return False
    return None


def as_integer(text):
    if not INTEGER.fullmatch(text):
        return None
    value = int(text)
    # i64::MIN is segc's null marker, so it does not count as an integer.
    return value if -I64_MAX <= value <= I64_MAX else None


def as_number(text):
    if not NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else None


def as_date(text):
    if not DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def leading_zero(text):
    digits = text.lstrip("+-")
    whole = digits.split(".")[0].split("e")[0].split("E")[0]
    return len(whole) > 1 and whole[0] == "0"


def kind_of(text):
    """The narrowest type inference gives one trimmed, non-null cell."""
    if as_bool(text, False) is not None:
        return "bool"
    if NUMBER.fullmatch(text) and not leading_zero(text):
        if as_integer(text) is not None and INTEGER.fullmatch(text):
            return "integer"
        if as_number(text) is not None:
            return "number"
    if as_date(text) is not None:
        return "date"
    return "string"


def infer(kinds):
    if not kinds:
        return "string"
    if kinds == {"bool"}:
        return "bool"
    if kinds == {"integer"}:
        return "integer"
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds == {"date"}:
        return "date"
    return "string"


def convert(text, ty, declared_bool):
    if ty == "string":
        return text
    value = {
        "bool": lambda t: as_bool(t, declared_bool),
        "integer": as_integer,
        "number": as_number,
        "date": as_date,
    }[ty](trim(text))
    return value


class Table:
    """One table of a project, read by SPEC.md's rules."""

    def __init__(self, root, name, config, default_key):
        self.name = name
        self.key = config.get("key", default_key)
        path = root / config["path"]
        delimiter = config.get("delimiter", ",")
        nulls = config.get("null_values", [""])
        bad_is_null = config.get("on_bad_value", "error") == "null"
        declared = dict(MODELS.get(config.get("model"), {}))
        declared.update(config.get("columns", {}))
        with open(path, newline="", encoding="utf-8") as f:
            records = [r for r in csv.reader(f, delimiter=delimiter) if r]
        header = records[0]
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        self.columns = header
        rows = records[1:]

        def is_null(cell, ty):
            return cell in nulls or (ty != "string" and trim(cell) in nulls)

        self.types = {}
        for index, column in enumerate(header):
            if column == self.key:
                self.types[column] = "string"
            elif column in declared:
                self.types[column] = declared[column]
            else:
                kinds = {kind_of(trim(r[index])) for r in rows if not is_null(r[index], "")}
                self.types[column] = infer(kinds)
        self.rows = []
        for record in rows:
            row = []
            for index, column in enumerate(header):
                cell, ty = record[index], self.types[column]
                if column == self.key:
                    row.append(cell)
                    continue
                if is_null(cell, ty):
                    row.append(None)
                    continue
                value = convert(cell, ty, column in declared)
                if value is None and not bad_is_null:
                    raise SystemExit(f"{path}: `{cell}` is not a {ty} in `{column}`")
                row.append(value)
            self.rows.append(row)


def load_project(root):
    root = pathlib.Path(root)
    config = tomllib.loads((root / "segc.toml").read_text(encoding="utf-8"))
    key = config.get("key", "CustomerId")
    tables = [Table(root, name, t, key) for name, t in sorted(config.get("tables", {}).items())]
    return config, tables


def rust_number(value):
    """A double as Rust's `{}` prints it: shortest round-trip digits, no exponent."""
    text = format(decimal.Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def field(text):
    if text == "" or any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return rust_number(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return field(value)


def source_order(tables, columns, rows):
    """Orders the rows of each key as their table's file does: each line takes the first
    unused row of its key whose cells are the line's."""
    positions = {}
    candidates = [t for t in tables if t.key == columns[0] and set(columns) <= set(t.columns)]
    if not candidates:
        return rows
    table = candidates[0]
    indices = [table.columns.index(c) for c in columns]
    for number, row in enumerate(table.rows):
        line = tuple(cell(row[i]) for i in indices)
        positions.setdefault(line, []).append(number)
    ordered = []
    for row in rows:
        line = tuple(cell(v) for v in row[:len(columns)])
        found = positions.get(line)
        ordered.append((found.pop(0) if found else -1, row))
    return [row for _, row in sorted(ordered, key=lambda pair: pair[0])]


def write_output(path, tables, columns, rows):
    rows = [list(r) for r in rows]
    width = len(columns) - (1 if columns[-1] == "group" else 0)
    if width > 1:
        rows = source_order(tables, columns[:width], rows)
    # Stable: the rows of one key stay in the order just given.
    rows.sort(key=lambda r: r[0].encode("utf-8"))
    lines = [",".join(field(c) for c in columns)]
    lines += [",".join(cell(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SQL_TYPES = {
    "duckdb": {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE",
               "bool": "BOOLEAN", "date": "DATE"},
    "postgres": {"string": "text", "integer": "bigint", "number": "double precision",
                 "bool": "boolean", "date": "date"},
}


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def normalized_csv(table, path):
    """The table's typed values as a CSV both DuckDB and PostgreSQL read back exactly:
    strings always quoted, null as an empty unquoted field."""
    def text(value):
        if value is None:
            return ""
        if isinstance(value, str):
            return '"' + value.replace('"', '""') + '"'
        if isinstance(value, float):
            return repr(value)
        return cell(value)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(quoted(c) for c in table.columns) + "\n")
        for row in table.rows:
            f.write(",".join(text(v) for v in row) + "\n")


class DuckDb:
    def __init__(self):
        import duckdb
        self.duckdb = duckdb
        self.version = duckdb.__version__

    def start_project(self, tables, scratch):
        self.con = self.duckdb.connect()
        for table in tables:
            path = scratch / f"{table.name}.csv"
            normalized_csv(table, path)
            types = ", ".join(f"{quoted(c)}: '{SQL_TYPES['duckdb'][table.types[c]]}'"
                              for c in table.columns)
            self.con.execute(
                f"CREATE TABLE {quoted(table.name)} AS SELECT * FROM read_csv('{path}', "
                f"header = true, delim = ',', quote = '\"', escape = '\"', "
                f"allow_quoted_nulls = false, columns = {{{types}}})")

    def query(self, sql):
        result = self.con.execute(sql)
        columns = [d[0] for d in result.description]
        return columns, result.fetchall()

    def script(self, sql):
        self.con.execute(sql)

    def case_map(self):
        return self.con.execute(
            "SELECT i, lower(chr(i::INTEGER)), upper(chr(i::INTEGER)) FROM range(1, 1114112) "
            "t(i) WHERE i < 55296 OR i > 57343").fetchall()

    def stop(self):
        pass


def server_bindir():
    """Where initdb and pg_ctl are: on the PATH, or in Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return pathlib.Path(found).resolve().parent
    versions = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    if not versions:
        raise SystemExit("postgres: no initdb on the PATH or under /usr/lib/postgresql; "
                         "install the server (`apt-get install postgresql`)")
    return versions[-1].parent


class Postgres:
    def __init__(self):
        import psycopg
        self.psycopg = psycopg
        bindir = server_bindir()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="segc-pg-"))
        # The server refuses to run as root; CI runs as root, so the cluster belongs to the
        # `postgres` user that Debian's package creates.
        self.prefix = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        subprocess.run(self.prefix + [str(bindir / "initdb"), "-D", str(data), "-E", "UTF8",
                                      "--locale=C.UTF-8", "-U", "segc", "-A", "trust"],
                       check=True, capture_output=True)
        options = f"-c listen_addresses='' -c unix_socket_directories={self.dir} -c fsync=off"
        subprocess.run(self.prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                                      "-l", str(self.dir / "log"), "-w", "start"],
                       check=True, capture_output=True)
        self.pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
        self.con = psycopg.connect(host=str(self.dir), user="segc", dbname="postgres",
                                   autocommit=True)
        self.version = self.con.execute("SHOW server_version").fetchone()[0]

    def start_project(self, tables, scratch):
        self.con.execute("DROP SCHEMA IF EXISTS segc CASCADE")
        self.con.execute("CREATE SCHEMA segc")
        self.con.execute("SET search_path TO segc")
        for table in tables:
            columns = ", ".join(f"{quoted(c)} {SQL_TYPES['postgres'][table.types[c]]}"
                                for c in table.columns)
            self.con.execute(f"CREATE TABLE {quoted(table.name)} ({columns})")
            path = scratch / f"{table.name}.csv"
            normalized_csv(table, path)
            with self.con.cursor().copy(f"COPY {quoted(table.name)} FROM STDIN WITH "
                                        "(FORMAT csv, HEADER true)") as copy:
                copy.write(path.read_bytes())

    def query(self, sql):
        cursor = self.con.execute(sql)
        return [d.name for d in cursor.description], cursor.fetchall()

    def script(self, sql):
        self.con.execute(sql)

    def case_map(self):
        return self.con.execute(
            'SELECT i, lower(chr(i) COLLATE "und-x-icu"), upper(chr(i) COLLATE "und-x-icu") '
            "FROM generate_series(1, 1114111) i WHERE i < 55296 OR i > 57343").fetchall()

    def stop(self):
        self.con.close()
        subprocess.run(self.prefix + self.pg_ctl + ["-m", "fast", "stop"], check=True,
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Spark:
    def __init__(self):
        from pyspark.sql import SparkSession
        from pyspark.sql import types
        self.types = types
        self.warehouse = pathlib.Path(tempfile.mkdtemp(prefix="segc-spark-"))
        self.spark = (SparkSession.builder.master("local[1]")
                      .config("spark.sql.shuffle.partitions", "1")
                      # Tables of a few thousand rows: planning, not data, takes the time.
                      .config("spark.sql.adaptive.enabled", "false")
                      .config("spark.sql.codegen.wholeStage", "false")
                      .config("spark.ui.enabled", "false")
                      .config("spark.driver.host", "127.0.0.1")
                      .config("spark.driver.bindAddress", "127.0.0.1")
                      .config("spark.sql.warehouse.dir", str(self.warehouse / "warehouse"))
                      .config("spark.driver.extraJavaOptions",
                              f"-Dderby.system.home={self.warehouse}")
                      .getOrCreate())
        self.spark.sparkContext.setLogLevel("ERROR")
        self.version = self.spark.version
        self.project = 0

    def start_project(self, tables, scratch):
        t = self.types
        spark_types = {"string": t.StringType(), "integer": t.LongType(),
                       "number": t.DoubleType(), "bool": t.BooleanType(), "date": t.DateType()}
        # Views cannot read temporary views, so each project gets a database of real tables.
        self.project += 1
        database = f"project{self.project}"
        self.spark.sql(f"CREATE DATABASE {database}")
        self.spark.catalog.setCurrentDatabase(database)
        for table in tables:
            schema = t.StructType([t.StructField(c, spark_types[table.types[c]], True)
                                   for c in table.columns])
            frame = self.spark.createDataFrame(table.rows, schema)
            frame.write.saveAsTable(f"`{table.name}`")
            self.spark.catalog.cacheTable(f"`{table.name}`")

    def query(self, sql):
        frame = self.spark.sql(sql)
        return frame.columns, [tuple(row) for row in frame.collect()]

    def script(self, sql):
        for statement in split_statements(sql):
            self.spark.sql(statement)

    def case_map(self):
        codes = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
        frame = self.spark.createDataFrame([(c, chr(c)) for c in codes], "i INT, s STRING")
        return [tuple(row) for row in
                frame.selectExpr("i", "lower(s)", "upper(s)").toLocalIterator()]

    def stop(self):
        self.spark.stop()
        shutil.rmtree(self.warehouse, ignore_errors=True)


def split_statements(script):
    """The statements of a script of views: each ends with `;` at the end of a line."""
    statements, current = [], []
    for line in script.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    return [s for s in statements if s.strip() and not all(
        l.startswith("--") or not l.strip() for l in s.splitlines())]


def check_casing(engine, job):
    """Every code point the engine maps differently from segc must be guarded."""
    wanted = {}
    for line in pathlib.Path(job["casing"]).read_text().splitlines():
        code, lower, upper = line.split("\t")
        wanted[int(code)] = (lower, upper)
    guards = {name: [tuple(r) for r in ranges] for name, ranges in job["guards"].items()}
    unguarded = []
    for code, lower, upper in engine.case_map():
        for index, name, got in ((0, "lower", lower), (1, "upper", upper)):
            same = got.encode("utf-8").hex() == wanted[code][index]
            if not same and not any(a <= code <= b for a, b in guards[name]):
                unguarded.append(f"{name}(U+{code:04X}) = {got!r}")
    if unguarded:
        raise SystemExit(f"{len(unguarded)} case mappings differ from segc's and are not "
                         f"guarded: {', '.join(unguarded[:20])}")


VIEW = re.compile(r'^CREATE OR REPLACE VIEW (.+) AS$', re.MULTILINE)


def unquote(name):
    if name[0] in '"`':
        return name[1:-1].replace(name[0] * 2, name[0])
    return name


def main():
    engine_name, manifest = sys.argv[1], sys.argv[2]
    jobs = json.loads(pathlib.Path(manifest).read_text())
    engine = {"duckdb": DuckDb, "postgres": Postgres, "spark": Spark}[engine_name]()
    print(f"{engine_name} {engine.version}", flush=True)
    try:
        for job in jobs:
            if "casing" in job:
                check_casing(engine, job)
                continue
            _, tables = load_project(job["project"])
            out = pathlib.Path(job["out"])
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as scratch:
                engine.start_project(tables, pathlib.Path(scratch))
            sql_dir = pathlib.Path(job["sql"])
            if job.get("views"):
                script = (sql_dir / "views.sql").read_text(encoding="utf-8")
                engine.script(script)
                names = [unquote(n) for n in VIEW.findall(script)]
                queries = {n: f"SELECT * FROM {VIEW.findall(script)[i]}"
                           for i, n in enumerate(names)}
            else:
                queries = {p.stem: p.read_text(encoding="utf-8").rstrip().rstrip(";")
                           for p in sorted(sql_dir.glob("*.sql"))}
            for name, sql in queries.items():
                try:
                    columns, rows = engine.query(sql)
                except Exception as error:
                    raise SystemExit(f"{engine_name}: segment `{name}` of {job['project']} "
                                     f"failed: {str(error)[:2000]}")
                write_output(out / f"{name}.csv", tables, columns, rows)
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
