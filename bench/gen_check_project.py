"""Writes a segc project of many segment files over the sample tables, to time `segc check`.

    python3 bench/gen_check_project.py DIR [FILES]

DIR gets a segc.toml that points at the repository's samples/ and FILES .seg files
(default 1000), each with four segments that use most of the language.
"""
import os
import sys

out = sys.argv[1]
files = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
samples = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "samples"))
os.makedirs(os.path.join(out, "segments"), exist_ok=True)

with open(os.path.join(out, "segc.toml"), "w") as f:
    f.write(f"""key = "CustomerId"
segments = ["segments/**/*.seg"]
output = "out"
as_of = "2024-06-30"

[tables.churn]
path = "{samples}/churn.csv"
model = "transactional-churn"

[tables.clv]
path = "{samples}/clv.csv"
model = "customer-lifetime-value"

[tables.recommendations]
path = "{samples}/recommendations.csv"
model = "product-recommendation"
""")

for i in range(files):
    threshold = (i % 90 + 5) / 100
    with open(os.path.join(out, "segments", f"file_{i:04}.seg"), "w") as f:
        f.write(f"""# Generated file {i}.
segment risk_{i} {{
    title "Churn risk above {threshold}"
    from churn
    where ChurnScore >= {threshold} and IsChurn and lower(Region) in ("north", "south")
    expect share <= 90%
}}

segment value_{i} {{
    from clv
    where CLVScore > {i} and TenureMonths between 1 and 120
    top 20% with ties by CLVScore
}}

segment product_{i} {{
    from recommendations
    where ProductID = "P{i % 60 + 1:04}" and Rank <= 3
}}

segment combined_{i} {{
    combine (risk_{i} intersect value_{i}) union product_{i} except risk_{(i + 1) % files}
    split treatment 50%, control 50% seed "gen-{i}"
}}
""")
