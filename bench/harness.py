#!/usr/bin/env python3
"""Benchmark harness: generates the tables, runs segc, DuckDB and Polars in turn on the
bench segments, checks that their outputs are byte-identical, and prints wall time and
peak memory (from /usr/bin/time -v) with the ratios.

usage: bench/harness.py [--sizes N ...] [--runs R] [--data DIR] [--segc PATH]
                        [--tools segc duckdb polars] [--scaling] [--recommendations]

  --sizes            customers per run (default 1000000 5000000)
  --runs             runs per tool and size; the median is reported (default 3)
  --data             where generated tables are kept between runs
                     (default ~/.cache/segc-bench, outside the repository: tests copy bench/)
  --segc             the segc binary (default target/release/segc, built if missing)
  --scaling          also time 220 segments (the 22 at ten thresholds) against the 22
  --recommendations  also time a segment over the recommendations table

DuckDB and Polars are skipped with a note when their Python package is missing. The
figures go to stdout as Markdown and to bench/results.json.
"""
import argparse
import filecmp
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default=os.path.expanduser("~/.cache/segc-bench"))
    parser.add_argument("--segc", default=os.path.join(REPO, "target", "release", "segc"))
    parser.add_argument("--tools", nargs="+", default=["segc", "duckdb", "polars"])
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--recommendations", action="store_true")
    args = parser.parse_args()

    if "segc" in args.tools and not os.path.exists(args.segc):
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)
    tools = [t for t in args.tools if t == "segc" or has_module(t)]
    for missing in sorted(set(args.tools) - set(tools)):
        print(f"note: python package `{missing}` is not installed; skipping it", file=sys.stderr)

    results = []
    for size in args.sizes:
        data = generate(args.data, size)
        work = tempfile.mkdtemp(prefix=f"segc-bench-{size}-")
        project = make_project(work, data, os.path.join(BENCH, "segments"))
        outputs = {}
        for tool in tools:
            out = os.path.join(work, "out", tool)
            command = tool_command(tool, args.segc, project, data, out)
            runs = [measure(command, out) for _ in range(args.runs)]
            outputs[tool] = out
            results.append(summarise("bench", size, tool, runs))
        check_identical(outputs)
        if args.scaling and "segc" in tools:
            many = make_project(os.path.join(work, "many"), data, None)
            write_scaled_segments(os.path.join(many, "segments"))
            out = os.path.join(many, "out")
            command = tool_command("segc", args.segc, many, data, out)
            runs = [measure(command, out) for _ in range(args.runs)]
            results.append(summarise("220 segments", size, "segc", runs))
        if args.recommendations:
            for tool in [t for t in tools if t in ("segc", "duckdb")]:
                out = os.path.join(work, "recs", tool)
                command = recommendation_command(tool, args.segc, work, data, out)
                runs = [measure(command, out) for _ in range(args.runs)]
                results.append(summarise("recommendations", size, tool, runs))
            if "duckdb" in tools:
                check_identical({t: os.path.join(work, "recs", t) for t in ("segc", "duckdb")})
        shutil.rmtree(work)

    with open(os.path.join(BENCH, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(markdown(results))


def has_module(name):
    probe = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True)
    return probe.returncode == 0


def generate(root, size):
    """Tables for `size` customers, generated once and kept under `root`."""
    data = os.path.join(root, str(size))
    done = os.path.join(data, ".complete")
    if not os.path.exists(done):
        os.makedirs(data, exist_ok=True)
        print(f"generating tables for {size:,} customers in {data}", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(BENCH, "gen_tables.py"), data, str(size)],
                       check=True)
        open(done, "w").close()
    return data


def make_project(folder, data, segments):
    """A copy of the bench project whose tables are the generated ones."""
    os.makedirs(os.path.join(folder, "segments"), exist_ok=True)
    with open(os.path.join(BENCH, "segc.toml")) as f:
        config = f.read()
    config = config.replace('"data/', f'"{data}/').replace('output = "out/segc"',
                                                            'output = "out"')
    config += (f'\n[tables.recommendations]\npath = "{data}/recommendations.csv"\n'
               'model = "product-recommendation"\n')
    with open(os.path.join(folder, "segc.toml"), "w") as f:
        f.write(config)
    if segments:
        for name in os.listdir(segments):
            shutil.copy(os.path.join(segments, name), os.path.join(folder, "segments", name))
    return folder


def tool_command(tool, segc, project, data, out):
    if tool == "segc":
        return [segc, "-C", project, "run", "--out", out]
    script = os.path.join(BENCH, f"{tool}_segments.py")
    return [sys.executable, script, data, out]


RECOMMENDATION_SEGMENT = """segment p0042_top3 {
    from recommendations
    where ProductID = "P0042" and Rank <= 3
}
"""

RECOMMENDATION_SQL = """
import sys, duckdb
data, out = sys.argv[1], sys.argv[2]
import os; os.makedirs(out, exist_ok=True)
con = duckdb.connect()
con.execute(f"CREATE TABLE r AS SELECT * FROM read_csv('{data}/recommendations.csv', "
            "header=true, types={'CustomerId': 'VARCHAR', 'ProductID': 'VARCHAR'})")
con.execute(f"COPY (SELECT DISTINCT CustomerId FROM r WHERE ProductID = 'P0042' AND Rank <= 3 "
            f"ORDER BY CustomerId) TO '{out}/p0042_top3.csv' (HEADER)")
"""


def recommendation_command(tool, segc, work, data, out):
    if tool == "segc":
        project = os.path.join(work, "recs-project")
        make_project(project, data, None)
        with open(os.path.join(project, "segments", "recs.seg"), "w") as f:
            f.write(RECOMMENDATION_SEGMENT)
        return [segc, "-C", project, "run", "--out", out]
    script = os.path.join(work, "recs_duckdb.py")
    with open(script, "w") as f:
        f.write(RECOMMENDATION_SQL)
    return [sys.executable, script, data, out]


def write_scaled_segments(folder):
    """The bench's 22 segments, each at ten thresholds: 220 segments."""
    regions = ["North", "South", "East", "West", "Central"]
    factors = ["SupportTickets", "DiscountUsage", "TenureMonths", "AverageBasket"]
    with open(os.path.join(folder, "scaled.seg"), "w") as f:
        for k in range(10):
            for i, t in enumerate([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]):
                f.write(f"segment churn_{i}_{k} {{\n    from churn\n"
                        f"    where ChurnScore >= {t + k / 100:.2f}\n}}\n\n")
            for i, r in enumerate(regions):
                a, b = factors[k % 4], factors[(k + 1) % 4]
                f.write(f"segment region_{i}_{k} {{\n    from churn\n"
                        f"    where Region = \"{r}\" and IsChurn and TopFactor in "
                        f"(\"{a}\", \"{b}\")\n}}\n\n")
            for i, p in enumerate([50, 80, 90, 95, 99]):
                f.write(f"segment clv_top_{i}_{k} {{\n    from clv\n"
                        f"    top {100 - p - k / 10:.1f}% by CLVScore\n}}\n\n")
            f.write(f"segment high_clv_{k} {{\n    from clv\n"
                    f"    where CLVScore > {1000 + 50 * k}\n}}\n\n")
            f.write(f"segment tenure_band_{k} {{\n    from clv\n"
                    f"    where TenureMonths between {12 + k} and {36 + k}\n}}\n\n")
            f.write(f"segment at_risk_high_value_{k} {{\n    from churn\n"
                    f"    where ChurnScore > {0.6 + k / 100:.2f} and in segment high_clv_{k}\n"
                    f"}}\n\n")
            f.write(f"segment not_scored_{k} {{\n    from churn\n"
                    f"    where ChurnScore is null or ChurnScore < {k / 1000:.3f}\n}}\n\n")
            f.write(f"segment save_list_{k} {{\n"
                    f"    combine churn_3_{k} intersect clv_top_1_{k} except region_0_{k}\n"
                    f"}}\n\n")


def measure(command, out):
    """Runs `command` once under /usr/bin/time -v; returns (wall seconds, peak MB)."""
    shutil.rmtree(out, ignore_errors=True)
    run = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{run.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", run.stderr)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    parts = [float(p) for p in wall.group(1).split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return seconds, int(peak.group(1)) / 1024


def summarise(workload, size, tool, runs):
    walls = [r[0] for r in runs]
    return {
        "workload": workload,
        "customers": size,
        "tool": tool,
        "wall_s": statistics.median(walls),
        "wall_runs": walls,
        "peak_mb": max(r[1] for r in runs),
    }


def check_identical(outputs):
    """Every tool's CSV files equal the first tool's, byte for byte."""
    names = {tool: sorted(n for n in os.listdir(out) if n.endswith(".csv"))
             for tool, out in outputs.items()}
    first = next(iter(outputs))
    for tool, out in outputs.items():
        if names[tool] != names[first]:
            sys.exit(f"{tool} wrote {names[tool]}, {first} wrote {names[first]}")
        _, mismatch, errors = filecmp.cmpfiles(outputs[first], out, names[first], shallow=False)
        if mismatch or errors:
            sys.exit(f"{tool} differs from {first} in {mismatch + errors}")
    print(f"outputs identical across {', '.join(outputs)} ({len(names[first])} files)",
          file=sys.stderr)


def markdown(results):
    lines = ["| workload | customers | tool | wall (s) | peak (MB) | wall / segc | peak / segc |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        # 220 segments compare with segc on the 22; everything else with segc on the same.
        workload = "bench" if r["workload"] == "220 segments" else r["workload"]
        base = next((x for x in results if x["workload"] == workload
                     and x["customers"] == r["customers"] and x["tool"] == "segc"), None)
        ratio = f"{r['wall_s'] / base['wall_s']:.1f}" if base else "-"
        memory = f"{r['peak_mb'] / base['peak_mb']:.1f}" if base else "-"
        lines.append(f"| {r['workload']} | {r['customers']:,} | {r['tool']} | "
                     f"{r['wall_s']:.2f} | {r['peak_mb']:.0f} | {ratio} | {memory} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
