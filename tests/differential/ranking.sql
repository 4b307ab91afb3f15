-- The `ranking` fixture on DuckDB. A key's value is the max (top) or min (bottom) of the
-- expression over its qualifying rows; keys without a value drop out; `place` orders the
-- rest, ties by key in byte order. `top P%` keeps ceil(P * n / 100) keys, in integers.

-- segment: top2
WITH valued AS (
    SELECT CustomerId, max(V) AS value FROM v GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 2
ORDER BY CustomerId COLLATE "C";

-- segment: top2_ties
WITH valued AS (
    SELECT CustomerId, max(V) AS value FROM v GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, value, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked
WHERE value >= (SELECT value FROM ranked WHERE place = least(2, n))
ORDER BY CustomerId COLLATE "C";

-- segment: bottom2
WITH valued AS (
    SELECT CustomerId, min(V) AS value FROM v GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value ASC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 2
ORDER BY CustomerId COLLATE "C";

-- segment: top_half
WITH valued AS (
    SELECT CustomerId, max(V) AS value FROM v GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (50 * n + 99) // 100
ORDER BY CustomerId COLLATE "C";

-- segment: top_all
WITH valued AS (
    SELECT CustomerId, max(V) AS value FROM v GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 100
ORDER BY CustomerId COLLATE "C";

-- segment: top28
WITH valued AS (
    SELECT CustomerId, max(N) AS value FROM p GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (28 * n + 99) // 100
ORDER BY CustomerId COLLATE "C";

-- segment: top10
WITH valued AS (
    SELECT CustomerId, max(N) AS value FROM p GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (10 * n + 99) // 100
ORDER BY CustomerId COLLATE "C";

-- 12.5% is 125/1000: ceil(125 * n / 1000).
-- segment: top12_5
WITH valued AS (
    SELECT CustomerId, max(N) AS value FROM p GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (125 * n + 999) // 1000
ORDER BY CustomerId COLLATE "C";

-- segment: bottom_filtered
WITH valued AS (
    SELECT CustomerId, min(N) AS value FROM p WHERE N > 20 GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value ASC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 2
ORDER BY CustomerId COLLATE "C";
