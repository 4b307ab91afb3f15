-- Views of 14 segments, compiled by segc for duckdb: each after the views it reads.

-- Segment `arithmetic`: Arithmetic in doubles
-- Division by zero is null; 0.1 + 0.2 is not 0.3.
-- Defined in segments/people.seg; compiled by segc for duckdb.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
CREATE OR REPLACE VIEW arithmetic AS
SELECT "CustomerId", "Score", "Visits"
FROM people
WHERE ("Score" / NULLIF(CAST("Visits" AS DOUBLE) - 5, 0) > 0.05
        OR 0.1::DOUBLE + 0.2::DOUBLE = 0.3
        OR -"Score" >= 1.5 - -0.25::DOUBLE)
ORDER BY "CustomerId";

-- Segment `rounding`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW rounding AS
SELECT "CustomerId"
FROM people
WHERE CASE WHEN isinf("Score" * 10) THEN "Score" ELSE round("Score" * 10) / 10 END >= 0.3
    AND round("Score" * 10) < 30
    AND round("Score") <> 0
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `text`
-- Defined in segments/people.seg; compiled by segc for duckdb.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
CREATE OR REPLACE VIEW text AS
SELECT "CustomerId", "Name", "Note", "Odd Name"
FROM people
WHERE (CASE WHEN regexp_matches("Name", '[\x{130}\x{3A3}\x{1C89}\x{A7CB}-\x{A7CC}\x{A7CE}\x{A7D2}\x{A7D4}\x{A7DA}\x{A7DC}\x{10D50}-\x{10D65}\x{16EA0}-\x{16EB8}]') THEN error('segc: `lower` in duckdb maps a character of this value differently from segc') ELSE lower("Name") END = 'anna'
        OR starts_with(CASE WHEN regexp_matches("Name", '[\x{DF}\x{149}\x{19B}\x{1F0}\x{264}\x{390}\x{3B0}\x{587}\x{1C8A}\x{1E96}-\x{1E9A}\x{1F50}\x{1F52}\x{1F54}\x{1F56}\x{1F80}-\x{1FAF}\x{1FB2}-\x{1FB4}\x{1FB6}-\x{1FB7}\x{1FBC}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FC7}\x{1FCC}\x{1FD2}-\x{1FD3}\x{1FD6}-\x{1FD7}\x{1FE2}-\x{1FE4}\x{1FE6}-\x{1FE7}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FF7}\x{1FFC}\x{A7CD}\x{A7CF}\x{A7D3}\x{A7D5}\x{A7DB}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{10D70}-\x{10D85}\x{16EBB}-\x{16ED3}]') THEN error('segc: `upper` in duckdb maps a character of this value differently from segc') ELSE upper("Name") END, 'ÄR')
        OR length("Name") = 3
        OR contains("Note", '"hi"')
        OR ends_with("Note", '\slash')
        OR "Name" = 'o''brien')
ORDER BY "CustomerId";

-- Segment `ordering`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW ordering AS
SELECT "CustomerId"
FROM people
WHERE ("Name" > 'Zo'
        OR "Zip" < '1'
        OR "Joined" >= DATE '2024-01-01' AND "Joined" <= DATE '2024-06-01')
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `nulls`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW nulls AS
SELECT "CustomerId"
FROM people
WHERE (NOT "Vip"
        OR "Zip" NOT IN ('7', '12345') AND "Note" IS NOT NULL)
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `functions`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW functions AS
SELECT "CustomerId"
FROM people
WHERE (COALESCE("Score", 9.5) > 2
        OR abs("Score") = 1.5
        OR DATE '2024-06-30' - "Joined" <= 29
        OR COALESCE("Vip", FALSE) AND "Visits" IN (3, 12))
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `aggregates`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW aggregates AS
SELECT "CustomerId"
FROM people
WHERE ("Score" > (SELECT avg(CAST("Score" AS DOUBLE)) FROM people)
        OR "Score" < (SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY CAST("Score" AS DOUBLE)) FROM people)
        OR "Visits" >= (SELECT max("Visits") FROM people)
        OR "Score" > (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST("Score" AS DOUBLE)) FROM people) + (SELECT sqrt(sum((v - m) * (v - m)) / NULLIF(count(*) - 1, 0)) FROM (SELECT CAST("Score" AS DOUBLE) AS v, avg(CAST("Score" AS DOUBLE)) OVER () AS m FROM people WHERE "Score" IS NOT NULL) AS deviations)
        OR "Joined" = (SELECT min("Joined") FROM people)
        OR CAST("Visits" AS DOUBLE) * 10 > (SELECT sum(CAST("Visits" AS DOUBLE)) FROM people))
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `top_third`
-- Defined in segments/people.seg; compiled by segc for duckdb.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
CREATE OR REPLACE VIEW top_third AS
WITH
top_third AS (
    SELECT "CustomerId"
    FROM (
        SELECT
            "CustomerId",
            row_number() OVER (ORDER BY rank_value DESC, "CustomerId") AS rank_position,
            count(*) OVER () AS rank_count
        FROM (
            SELECT "CustomerId", max("Score") AS rank_value
            FROM people
            GROUP BY "CustomerId"
        ) AS best
        WHERE rank_value IS NOT NULL
    ) AS ranked
    WHERE (rank_position - 1) * 1000 < 333 * rank_count
)
SELECT "CustomerId", "Name"
FROM people
WHERE "CustomerId" IN (SELECT "CustomerId" FROM top_third)
ORDER BY "CustomerId";

-- Segment `bottom_ties`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW bottom_ties AS
SELECT
    "CustomerId",
    CASE
        WHEN split_bucket < 2147483648 THEN 'low'
        ELSE 'high'
    END AS "group"
FROM (
    SELECT
        "CustomerId",
        ('0x' || substr(md5('it''s:' || "CustomerId"), 1, 8))::BIGINT AS split_bucket
    FROM (
        SELECT "CustomerId"
        FROM (
            SELECT
                "CustomerId",
                rank() OVER (ORDER BY rank_value) AS rank_position,
                count(*) OVER () AS rank_count
            FROM (
                SELECT "CustomerId", min("Visits") AS rank_value
                FROM people
                WHERE "Visits" IS NOT NULL
                GROUP BY "CustomerId"
            ) AS best
            WHERE rank_value IS NOT NULL
        ) AS ranked
        WHERE rank_position <= 2
    ) AS output_rows
) AS bucketed
ORDER BY "CustomerId";

-- Segment `newest`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW newest AS
SELECT "CustomerId"
FROM (
    SELECT
        "CustomerId",
        row_number() OVER (ORDER BY rank_value DESC, "CustomerId") AS rank_position,
        count(*) OVER () AS rank_count
    FROM (
        SELECT "CustomerId", max(CAST(DATE '2024-06-30' - "Joined" AS DOUBLE) * CAST(-1 AS DOUBLE)) AS rank_value
        FROM people
        GROUP BY "CustomerId"
    ) AS best
    WHERE rank_value IS NOT NULL
) AS ranked
WHERE rank_position <= 3
ORDER BY "CustomerId";

-- Segment `buyers`
-- Defined in segments/people.seg; compiled by segc for duckdb.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
CREATE OR REPLACE VIEW buyers AS
WITH
buyers AS (
    SELECT "Buyer"
    FROM (
        SELECT
            "Buyer",
            rank() OVER (ORDER BY rank_value DESC) AS rank_position,
            count(*) OVER () AS rank_count
        FROM (
            SELECT "Buyer", max("Amount") AS rank_value
            FROM orders
            WHERE "Amount" > 0
            GROUP BY "Buyer"
        ) AS best
        WHERE rank_value IS NOT NULL
    ) AS ranked
    WHERE (rank_position - 1) * 2 < 1 * rank_count
)
SELECT "Buyer", "Product", "Amount"
FROM orders
WHERE "Amount" > 0
    AND "Buyer" IN (SELECT "Buyer" FROM buyers)
ORDER BY "Buyer";

-- Segment `buyer_people`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW buyer_people AS
SELECT "CustomerId"
FROM people
WHERE "CustomerId" IN (SELECT "Buyer" FROM buyers)
    AND NOT ("CustomerId" IN (SELECT "CustomerId" FROM rounding))
GROUP BY "CustomerId"
ORDER BY "CustomerId";

-- Segment `just_buyers`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW just_buyers AS
SELECT "CustomerId"
FROM (
    SELECT "Buyer" AS "CustomerId" FROM buyers
    GROUP BY "Buyer"
) AS members
ORDER BY "CustomerId";

-- Segment `everyone`
-- Defined in segments/people.seg; compiled by segc for duckdb.
CREATE OR REPLACE VIEW everyone AS
SELECT
    "CustomerId",
    CASE
        WHEN split_bucket < 1430224110 THEN 'a'
        WHEN split_bucket < 2860448220 THEN 'b'
        ELSE 'c'
    END AS "group"
FROM (
    SELECT
        "CustomerId",
        ('0x' || substr(md5('s:' || "CustomerId"), 1, 8))::BIGINT AS split_bucket
    FROM (
        SELECT "CustomerId"
        FROM (
            (
                (
                    SELECT "Buyer" AS "CustomerId" FROM buyers
                    UNION
                    SELECT "CustomerId" FROM buyer_people
                )
                UNION
                SELECT "CustomerId" FROM arithmetic
            )
            EXCEPT
            (
                SELECT "CustomerId" FROM text
                INTERSECT
                SELECT "CustomerId" FROM rounding
            )
        ) AS members
    ) AS output_rows
) AS bucketed
ORDER BY "CustomerId";
