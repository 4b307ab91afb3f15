#!/usr/bin/env python3
"""Compute, without segc, what each sample segment must contain on the committed tables.

usage: python3 samples/expected_members.py        (from the repository root)

Writes samples/expected/NAME.csv for every segment under segments/, in the format
`segc run` writes (SPEC section 4), and prints each segment's member count and share. A
test compares these files with segc's output, so this script is deliberately independent
of segc: it parses no condition. Each segment's logic is restated below as Python (only
the select, split and expect lines of the .seg files are read back, to catch the two
drifting apart), following SPEC section 3: SQL three-valued logic (None is "unknown"), a
key is a member when at least one of its rows satisfies `where`, `top`/`bottom` rank keys
by the max/min value of their qualifying rows with ties broken by key, `split` buckets by
md5.

The script also fails when an `expect` of a segment would fail, and when a result hangs on
a value that another correct implementation might compute a hair differently (a row
within rounding error of a threshold built from an aggregate, a value exactly halfway
when rounded, a key at the edge of a split bucket). Standard library only.
"""
import csv
import datetime
import hashlib
import math
import os
import re
import sys
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(ROOT, "samples", "expected")
KEY = "CustomerId"
AS_OF = datetime.date(2024, 6, 30)

# Column types that segc.toml declares or the tables' model kinds bring (MODELS.md).
# Every other column is inferred from its cells.
TABLES = {
    "churn": ("samples/churn.csv", {
        "ChurnScore": "number", "IsChurn": "bool",
        "ZipCode": "string", "LastPurchaseDate": "date"}),
    "subscriptions": ("samples/subscriptions.csv", {
        "ChurnScore": "number", "IsChurn": "bool",
        "MonthlyFee": "number", "RenewalDate": "date", "AutoRenew": "bool"}),
    "clv": ("samples/clv.csv", {"CLVScore": "number", "TenureMonths": "integer"}),
    "recommendations": ("samples/recommendations.csv", {
        "ProductID": "string", "Score": "number", "Rank": "integer"}),
    "campaigns": ("samples/campaigns.csv", {}),
}

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Problems found while evaluating; any of them makes the script exit 1.
problems = []


# ---------------------------------------------------------------------------------------
# Reading tables

def parse_cell(text, kind, declared):
    """The typed value of a non-empty cell, or raise ValueError."""
    if kind == "string":
        return text
    trimmed = text.strip(" \t")
    if kind == "bool":
        lowered = trimmed.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if declared and trimmed in ("1", "0"):
            return trimmed == "1"
    elif kind == "integer":
        if INTEGER.fullmatch(trimmed):
            return int(trimmed)
    elif kind == "number":
        if NUMBER.fullmatch(trimmed):
            return float(trimmed)
    elif kind == "date":
        if DATE.fullmatch(trimmed):
            return datetime.date.fromisoformat(trimmed)
    raise ValueError(text)


def infer(cells):
    """The narrowest type every non-null cell parses as: bool, integer, number, date."""
    for kind in ("bool", "integer", "number", "date"):
        try:
            for cell in cells:
                if cell != "":
                    parse_cell(cell, kind, False)
            return kind
        except ValueError:
            continue
    return "string"


class Table:
    def __init__(self, name):
        path, declared = TABLES[name]
        with open(os.path.join(ROOT, path), encoding="utf-8", newline="") as f:
            records = list(csv.reader(f))
        header, body = records[0], records[1:]
        self.name = name
        self.types = {}
        for i, column in enumerate(header):
            cells = [record[i] for record in body]
            if column in declared:
                self.types[column] = declared[column]
            elif all(cell == "" for cell in cells):
                self.types[column] = "string"
            else:
                self.types[column] = infer(cells)
        self.rows = []
        for record in body:
            assert len(record) == len(header), (path, record)
            row = {}
            for column, cell in zip(header, record):
                kind = self.types[column]
                if column == KEY:
                    assert cell != "", "empty key in " + path
                    row[column] = cell
                elif cell == "":
                    row[column] = None
                else:
                    row[column] = parse_cell(cell, kind, column in declared)
            self.rows.append(row)
        self.keys = {row[KEY] for row in self.rows}

    def values(self, column):
        return [row[column] for row in self.rows if row[column] is not None]


# ---------------------------------------------------------------------------------------
# Three-valued logic and the language's functions. None is null (or "unknown").

def AND(*conditions):
    if any(c is False for c in conditions):
        return False
    return None if any(c is None for c in conditions) else True


def OR(*conditions):
    if any(c is True for c in conditions):
        return True
    return None if any(c is None for c in conditions) else False


def NOT(condition):
    return None if condition is None else not condition


def cmp(a, op, b):
    if a is None or b is None:
        return None
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


def between(x, low, high):
    return AND(cmp(x, ">=", low), cmp(x, "<=", high))


def is_in(x, items):
    return None if x is None else x in items


def is_null(x):
    return x is None


def contains(s, part):
    return None if s is None else part in s


def starts_with(s, prefix):
    return None if s is None else s.startswith(prefix)


def ends_with(s, suffix):
    return None if s is None else s.endswith(suffix)


def add(a, b):
    return None if a is None or b is None else a + b


def sub(a, b):
    return None if a is None or b is None else a - b


def mul(a, b):
    return None if a is None or b is None else a * b


def div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def lower(s):
    return None if s is None else s.lower()


def upper(s):
    return None if s is None else s.upper()


def length(s):
    return None if s is None else len(s)


def sql_abs(x):
    return None if x is None else abs(x)


def sql_round(x, digits, half_even=False):
    """Round half away from zero, as SQL engines do (or half to even, on request)."""
    if x is None:
        return None
    scale = 10.0 ** digits
    scaled = abs(x * scale)
    whole = math.floor(scaled)
    if half_even and scaled - whole == 0.5:
        rounded = whole + (whole % 2)
    else:
        rounded = whole + 1 if scaled - whole >= 0.5 else whole
    return math.copysign(rounded, x) / scale


def cmp_rounded(x, digits, op, threshold):
    """`round(x, digits) op threshold`, reported as a problem when rounding halves to even
    instead would change the outcome."""
    outcome = cmp(sql_round(x, digits), op, threshold)
    if outcome != cmp(sql_round(x, digits, half_even=True), op, threshold):
        problems.append("round(%r, %d) %s %r depends on how halves round"
                        % (x, digits, op, threshold))
    return outcome


def coalesce(*values):
    return next((v for v in values if v is not None), None)


def days_since(d):
    return None if d is None else (AS_OF - d).days


def avg(table, column):
    values = table.values(column)
    return math.fsum(values) / len(values)


def percentile(table, column, p):
    """Continuous percentile with linear interpolation, as SQL's percentile_cont."""
    values = sorted(table.values(column))
    position = p * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def watch(value, threshold, what):
    """Report a value within rounding error of a computed threshold, but not equal."""
    if value is not None and value != threshold and \
            abs(value - threshold) <= 1e-9 * max(1.0, abs(threshold)):
        problems.append("%s: %r is within rounding error of %r" % (what, value, threshold))
    return value


# ---------------------------------------------------------------------------------------
# The segments, restated. `where` takes a row and returns True, False or None; `rank` is
# (direction, amount, percent, with_ties, value of a row); `combine` is a function of the
# member sets of other segments.

def seg(**definition):
    return definition


def member(name):
    return lambda row: row[KEY] in members(name)


def define(t):
    churn, clv = t["churn"], t["clv"]
    clv_p01 = percentile(clv, "CLVScore", 0.01)
    clv_p99 = percentile(clv, "CLVScore", 0.99)
    clv_avg = avg(clv, "CLVScore")
    partner_domains = ("@contoso.com", "@fabrikam.net", "@northwind-traders.com")
    return {
        # segments/churn.seg
        "churn_low": seg(
            table="churn",
            where=lambda r: cmp(r["ChurnScore"], "<", 0.33),
            expect=[("share", "between", 40, 60)]),
        "churn_medium": seg(
            table="churn",
            where=lambda r: between(r["ChurnScore"], 0.33, 0.66),
            expect=[("share", "between", 35, 55)]),
        "churn_high": seg(
            table="churn",
            where=lambda r: cmp(r["ChurnScore"], ">", 0.66),
            select=["TopFactor", "Region", "Preferred Channel"],
            expect=[("size", "between", 60, 200), ("share", "<=", 10)]),
        "churn_unscored": seg(
            table="churn",
            where=lambda r: is_null(r["ChurnScore"]),
            expect=[("size", "<=", 30)]),
        "service_driven_churn": seg(
            table="churn",
            where=lambda r: AND(r["IsChurn"],
                                is_in(r["TopFactor"], ("SupportTickets", "DeliveryDelays"))),
            expect=[("size", ">=", 30)]),
        "churn_borderline": seg(
            table="churn",
            where=lambda r: cmp(sql_abs(sub(r["ChurnScore"], 0.5)), "<", 0.05)),
        "lapsed_unflagged": seg(
            table="churn",
            where=lambda r: AND(cmp(days_since(r["LastPurchaseDate"]), ">", 90),
                                NOT(r["IsChurn"])),
            expect=[("size", "between", 50, 250)]),
        "call_list": seg(
            table="churn",
            where=lambda r: AND(cmp_rounded(r["ChurnScore"], 1, ">=", 0.6),
                                cmp(coalesce(r["Preferred Channel"], "phone"), "=", "phone")),
            select=["TopFactor", "LastPurchaseDate"],
            expect=[("size", "between", 10, 100)]),
        # segments/contacts.seg
        "contact_data_cleanup": seg(
            table="churn",
            where=lambda r: OR(is_null(r["Email"]),
                               NOT(contains(r["Email"], "@")),
                               cmp(length(r["ZipCode"]), "<", 5)),
            select=["Email", "ZipCode"],
            expect=[("share", "<=", 15)]),
        "partner_employees": seg(
            table="churn",
            where=lambda r: OR(*(ends_with(lower(r["Email"]), d) for d in partner_domains)),
            expect=[("size", "between", 100, 400)]),
        # segments/value.seg
        "top_value": seg(
            table="clv",
            rank=("top", 20, True, False, lambda r: r["CLVScore"]),
            expect=[("share", "between", 19, 21)]),
        "value_outliers": seg(
            table="clv",
            where=lambda r: NOT(between(watch(watch(r["CLVScore"], clv_p01, "p01"), clv_p99,
                                              "p99"), clv_p01, clv_p99)),
            expect=[("size", "between", 20, 60)]),
        "rising_stars": seg(
            table="clv",
            where=lambda r: AND(cmp(r["TenureMonths"], "<", 12),
                                cmp(watch(r["CLVScore"], 1.5 * clv_avg, "avg"), ">",
                                    1.5 * clv_avg)),
            expect=[("size", "between", 15, 100)]),
        "newest_customers": seg(
            table="clv",
            rank=("bottom", 150, False, True, lambda r: r["TenureMonths"]),
            select=["TenureMonths", "Country"],
            expect=[("size", "between", 150, 250)]),
        "low_monthly_value": seg(
            table="clv",
            rank=("bottom", 10, True, False,
                  lambda r: div(r["CLVScore"], add(r["TenureMonths"], 1))),
            expect=[("share", "between", 9, 11)]),
        "dach_top_100": seg(
            table="clv",
            where=lambda r: is_in(upper(r["Country"]), ("DE", "AT", "CH")),
            rank=("top", 100, False, False, lambda r: r["CLVScore"]),
            select=["Country", "TenureMonths"],
            expect=[("size", ">=", 100)]),
        "big_spenders": seg(
            table="clv",
            where=lambda r: AND(cmp(r["CLVScore"], ">=", 1000),
                                cmp(r["TenureMonths"], ">=", 3)),
            expect=[("share", "between", 3, 12)]),
        # segments/subscriptions.seg
        "coffee_club": seg(
            table="subscriptions",
            expect=[("size", "between", 500, 700)]),
        "renewals_at_risk": seg(
            table="subscriptions",
            where=lambda r: AND(between(r["RenewalDate"], datetime.date(2024, 7, 1),
                                        datetime.date(2024, 9, 30)),
                                OR(coalesce(r["IsChurn"], True),
                                   cmp(r["AutoRenew"], "=", False))),
            select=["Plan", "RenewalDate", "AutoRenew"],
            expect=[("size", "between", 25, 120)]),
        "renewing_soon": seg(
            table="subscriptions",
            where=lambda r: between(days_since(r["RenewalDate"]), -30, 0),
            select=["Plan", "RenewalDate", "AutoRenew", "IsChurn"],
            expect=[("size", "between", 20, 100)]),
        "summer_promo": seg(
            table="subscriptions",
            where=lambda r: AND(starts_with(upper(r["PromoCode"]), "SUMMER"),
                                cmp(r["Plan"], "!=", "Basic")),
            select=["Plan", "PromoCode"],
            expect=[("size", "between", 30, 120)]),
        # segments/products.seg
        "p0042_prospects": seg(
            table="recommendations",
            where=lambda r: AND(cmp(r["ProductID"], "=", "P0042"), cmp(r["Rank"], "<=", 3)),
            select=["Rank"],
            expect=[("size", "between", 350, 600)]),
        "coffee_cross_sell": seg(
            table="recommendations",
            where=lambda r: AND(cmp(r["Category"], "=", "Home/Caf\u00e9"),
                                cmp(r["Rank"], "=", 1),
                                NOT(member("coffee_club")(r))),
            expect=[("size", "between", 50, 300)]),
        "discovery_picks": seg(
            table="recommendations",
            where=lambda r: AND(cmp(r["Rank"], "=", 1),
                                NOT(is_in(r["ProductID"], ("P0049", "P0054", "P0042")))),
            expect=[("share", "between", 40, 90)]),
        "outdoor_fans": seg(
            table="recommendations",
            where=lambda r: AND(starts_with(lower(r["Category"]), "outdoor/"),
                                between(r["Rank"], 1, 2)),
            expect=[("share", ">=", 50)]),
        # segments/campaigns/winback.seg
        "in_campaign": seg(
            table="campaigns",
            where=lambda r: AND(cmp(days_since(r["StartDate"]), ">=", 0),
                                OR(is_null(r["EndDate"]),
                                   cmp(days_since(r["EndDate"]), "<=", 0))),
            expect=[("size", "between", 250, 400)]),
        "high_value_at_risk": seg(
            table="churn",
            where=lambda r: AND(cmp(r["ChurnScore"], ">", 0.6), member("top_value")(r)),
            select=["TopFactor", "Preferred Channel"],
            expect=[("size", "between", 5, 50)]),
        "referral_asks": seg(
            table="churn",
            where=lambda r: AND(cmp(r["ChurnScore"], "<", 1e-1),
                                member("top_value")(r),
                                NOT(member("in_campaign")(r)),
                                NOT(is_null(r["Preferred Channel"]))),
            expect=[("size", "between", 10, 100)]),
        "save_first": seg(
            reaches=["churn", "clv", "campaigns"],
            combine=lambda m: (m("high_value_at_risk")
                               | (m("rising_stars") & m("churn_medium"))) - m("in_campaign"),
            expect=[("size", "between", 10, 60)]),
        "winback_test": seg(
            reaches=["churn", "campaigns"],
            combine=lambda m: ((m("churn_high") | m("lapsed_unflagged"))
                               - m("in_campaign") - m("contact_data_cleanup")),
            split=([("treatment", 45), ("control", 45), ("holdout", 10)], "winback-2024-q3"),
            expect=[("size", "between", 100, 300), ("share", "between", 5, 15)]),
    }


# ---------------------------------------------------------------------------------------
# Evaluation

TABLE_DATA = {}
SEGMENTS = {}
RESULTS = {}


def members(name):
    return evaluate(name)["members"]


def evaluate(name):
    if name in RESULTS:
        return RESULTS[name]
    s = SEGMENTS[name]
    if "combine" in s:
        keys = s["combine"](members)
        universe = set().union(*(TABLE_DATA[t].keys for t in s["reaches"]))
        result = {"members": keys, "rows": {}, "universe": len(universe)}
    else:
        table = TABLE_DATA[s["table"]]
        where = s.get("where", lambda row: True)
        qualifying = {}
        for row in table.rows:
            if where(row) is True:
                qualifying.setdefault(row[KEY], []).append(row)
        keys = set(qualifying)
        if "rank" in s:
            keys = ranked(qualifying, *s["rank"])
        result = {"members": keys, "rows": qualifying, "universe": len(table.keys)}
    RESULTS[name] = result
    return result


def ranked(qualifying, direction, amount, percent, with_ties, value_of):
    best = max if direction == "top" else min
    values = {}
    for key, rows in qualifying.items():
        row_values = [v for v in (value_of(row) for row in rows) if v is not None]
        if row_values:
            values[key] = best(row_values)
    sign = -1 if direction == "top" else 1
    order = sorted(values, key=lambda k: (sign * values[k], k.encode()))
    if percent:
        keep = math.ceil(Fraction(amount) * len(order) / 100)
    else:
        keep = min(amount, len(order))
    kept = order[:keep]
    if with_ties and kept:
        last = values[kept[-1]]
        kept += [k for k in order[keep:] if values[k] == last]
    return set(kept)


def group_of(key, groups, seed):
    bucket_hex = hashlib.md5((seed + ":" + key).encode("utf-8")).hexdigest()[:8]
    bucket = Fraction(int(bucket_hex, 16), 2 ** 32)
    upper_edge = Fraction(0)
    for name, share in groups:
        upper_edge += Fraction(share, 100)
        if abs(bucket - upper_edge) < Fraction(1, 10 ** 9):
            problems.append("split bucket of %s is at a group edge" % key)
        if bucket < upper_edge:
            return name
    raise AssertionError("split shares do not add up to 100")


def check_expectations(name, count, share):
    for metric, op, *bounds in SEGMENTS[name].get("expect", []):
        actual = count if metric == "size" else share
        if op == "between":
            ok = bounds[0] <= actual <= bounds[1]
        elif op == "<=":
            ok = actual <= bounds[0]
        else:
            ok = actual >= bounds[0]
        if not ok:
            problems.append("%s: expect %s %s %s fails with %s" % (name, metric, op, bounds,
                                                                    actual))


# ---------------------------------------------------------------------------------------
# Output in the format of `segc run`

def csv_field(text):
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def format_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise AssertionError("sample segments select no fractional number column")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_expected(name):
    s, result = SEGMENTS[name], RESULTS[name]
    select = s.get("select", [])
    split = s.get("split")
    header = [KEY] + select + (["group"] if split else [])
    lines = [",".join(csv_field(column) for column in header)]
    for key in sorted(result["members"], key=lambda k: k.encode()):
        group = [group_of(key, *split)] if split else []
        rows = result["rows"][key] if select else [None]
        for row in rows:
            cells = [key] + [format_value(row[column]) for column in select] + group
            lines.append(",".join(csv_field(cell) for cell in cells))
    with open(os.path.join(EXPECTED, name + ".csv"), "w", encoding="utf-8",
              newline="") as f:
        f.write("".join(line + "\n" for line in lines))


def declared_in_files():
    """The select, split and expect clauses of each segment under segments/, read with a
    few regular expressions: enough to catch this script drifting from the .seg files,
    without parsing any condition."""
    declared = {}
    for directory, _, files in os.walk(os.path.join(ROOT, "segments")):
        for file in files:
            if not file.endswith(".seg"):
                continue
            with open(os.path.join(directory, file), encoding="utf-8") as f:
                text = f.read()
            for name, body in re.findall(r"^segment (\w+) \{\n(.*?)^\}", text, re.M | re.S):
                select = re.search(r"^    select (.*)$", body, re.M)
                split = re.search(r"^    split (.*) seed \"(.*)\"$", body, re.M)
                expects = []
                for metric, test in re.findall(r"^    expect (size|share) (.*)$", body, re.M):
                    numbers = [int(n) for n in re.findall(r"\d+", test.replace("_", ""))]
                    op = "between" if test.startswith("between") else test.split()[0]
                    expects.append((metric, op, *numbers))
                declared[name] = {
                    "select": [c.strip().strip("`") for c in select.group(1).split(",")]
                    if select else [],
                    "split": ([(g.split()[0], int(g.split()[1].rstrip("%")))
                               for g in split.group(1).split(",")], split.group(2))
                    if split else None,
                    "expect": expects,
                }
    return declared


def check_against_files():
    declared = declared_in_files()
    if sorted(declared) != sorted(SEGMENTS):
        problems.append("segments here and under segments/ differ: %s"
                        % sorted(set(declared) ^ set(SEGMENTS)))
    absent = {"select": [], "split": None, "expect": []}
    for name in set(declared) & set(SEGMENTS):
        for clause, default in absent.items():
            if declared[name][clause] != SEGMENTS[name].get(clause, default):
                problems.append("%s: `%s` differs from segments/" % (name, clause))


def main():
    for name in TABLES:
        TABLE_DATA[name] = Table(name)
    SEGMENTS.update(define(TABLE_DATA))
    check_against_files()
    os.makedirs(EXPECTED, exist_ok=True)
    for stale in os.listdir(EXPECTED):
        if stale.endswith(".csv") and stale[:-4] not in SEGMENTS:
            os.remove(os.path.join(EXPECTED, stale))
    print("| segment | members | share |")
    print("| --- | ---: | ---: |")
    for name in SEGMENTS:
        result = evaluate(name)
        count = len(result["members"])
        share = 100 * count / result["universe"]
        check_expectations(name, count, share)
        write_expected(name)
        print("| `%s` | %d | %.1f%% |" % (name, count, share))
    for problem in problems:
        print("problem: " + problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
