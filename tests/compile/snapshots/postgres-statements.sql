-- Segment `arithmetic`: Arithmetic in doubles
-- Division by zero is null; 0.1 + 0.2 is not 0.3.
-- Defined in segments/people.seg; compiled by segc for postgres.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
SELECT "CustomerId", "Score", "Visits"
FROM people
WHERE ("Score" / NULLIF(CAST("Visits" AS DOUBLE PRECISION) - 5, 0) > 0.05
        OR 0.1::float8 + 0.2::float8 = 0.3
        OR -"Score" >= 1.5 - -0.25::float8)
ORDER BY "CustomerId" COLLATE "C";

-- Segment `rounding`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM people
WHERE CASE WHEN abs("Score" * 10) = 'Infinity'::float8 THEN "Score" ELSE (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) / 10 END >= 0.3
    AND (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) < 30
    AND (trunc("Score") + CASE WHEN abs("Score" - trunc("Score")) >= 0.5 THEN sign("Score") ELSE 0 END) <> 0
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `text`
-- Defined in segments/people.seg; compiled by segc for postgres.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
SELECT "CustomerId", "Name", "Note", "Odd Name"
FROM people
WHERE (CASE WHEN "Name" ~ E'[\\u03A3\\u1C89\\uA7CB-\\uA7CC\\uA7CE\\uA7D2\\uA7D4\\uA7DA\\uA7DC\\U00010D50-\\U00010D65\\U00016EA0-\\U00016EB8]' THEN CAST(CAST('segc: `lower` in postgres maps a character of this value differently from segc' || "Name" AS integer) AS text) ELSE lower("Name" COLLATE "und-x-icu") END = 'anna'
        OR starts_with(CASE WHEN "Name" ~ E'[\\u019B\\u0264\\u1C8A\\uA7CD\\uA7CF\\uA7D3\\uA7D5\\uA7DB\\U00010D70-\\U00010D85\\U00016EBB-\\U00016ED3]' THEN CAST(CAST('segc: `upper` in postgres maps a character of this value differently from segc' || "Name" AS integer) AS text) ELSE upper("Name" COLLATE "und-x-icu") END, 'ÄR')
        OR char_length("Name") = 3
        OR strpos("Note", '"hi"') > 0
        OR right("Note", 6) = E'\\slash'
        OR "Name" = 'o''brien')
ORDER BY "CustomerId" COLLATE "C";

-- Segment `ordering`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM people
WHERE ("Name" > 'Zo' COLLATE "C"
        OR "Zip" < '1' COLLATE "C"
        OR "Joined" >= DATE '2024-01-01' AND "Joined" <= DATE '2024-06-01')
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `nulls`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM people
WHERE (NOT "Vip"
        OR "Zip" NOT IN ('7', '12345') AND "Note" IS NOT NULL)
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `functions`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM people
WHERE (COALESCE("Score", 9.5) > 2
        OR abs("Score") = 1.5
        OR DATE '2024-06-30' - "Joined" <= 29
        OR COALESCE("Vip", FALSE) AND "Visits" IN (3, 12))
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `aggregates`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM people
WHERE ("Score" > (SELECT avg(CAST("Score" AS DOUBLE PRECISION)) FROM people)
        OR "Score" < (SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY CAST("Score" AS DOUBLE PRECISION)) FROM people)
        OR "Visits" >= (SELECT max("Visits") FROM people)
        OR "Score" > (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST("Score" AS DOUBLE PRECISION)) FROM people) + (SELECT sqrt(sum((v - m) * (v - m)) / NULLIF(count(*) - 1, 0)) FROM (SELECT CAST("Score" AS DOUBLE PRECISION) AS v, avg(CAST("Score" AS DOUBLE PRECISION)) OVER () AS m FROM people WHERE "Score" IS NOT NULL) AS deviations)
        OR "Joined" = (SELECT min("Joined") FROM people)
        OR CAST("Visits" AS DOUBLE PRECISION) * 10 > (SELECT sum(CAST("Visits" AS DOUBLE PRECISION)) FROM people))
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `top_third`
-- Defined in segments/people.seg; compiled by segc for postgres.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
WITH
top_third AS (
    SELECT "CustomerId"
    FROM (
        SELECT
            "CustomerId",
            row_number() OVER (ORDER BY rank_value DESC, "CustomerId" COLLATE "C") AS rank_position,
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
ORDER BY "CustomerId" COLLATE "C";

-- Segment `bottom_ties`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT
    "CustomerId",
    CASE
        WHEN split_bucket < 2147483648 THEN 'low'
        ELSE 'high'
    END AS "group"
FROM (
    SELECT
        "CustomerId",
        ('x' || substr(md5('it''s:' || "CustomerId"), 1, 8))::bit(32)::bigint AS split_bucket
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
ORDER BY "CustomerId" COLLATE "C";

-- Segment `newest`
-- Defined in segments/people.seg; compiled by segc for postgres.
SELECT "CustomerId"
FROM (
    SELECT
        "CustomerId",
        row_number() OVER (ORDER BY rank_value DESC, "CustomerId" COLLATE "C") AS rank_position,
        count(*) OVER () AS rank_count
    FROM (
        SELECT "CustomerId", max(CAST(DATE '2024-06-30' - "Joined" AS DOUBLE PRECISION) * CAST(-1 AS DOUBLE PRECISION)) AS rank_value
        FROM people
        GROUP BY "CustomerId"
    ) AS best
    WHERE rank_value IS NOT NULL
) AS ranked
WHERE rank_position <= 3
ORDER BY "CustomerId" COLLATE "C";

-- Segment `buyers`
-- Defined in segments/people.seg; compiled by segc for postgres.
-- One row per qualifying row of each member. SQL tables have no row order, so the rows of one key
-- come in any order (segc run keeps the file's).
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
ORDER BY "Buyer" COLLATE "C";

-- Segment `buyer_people`
-- Defined in segments/people.seg; compiled by segc for postgres.
WITH
rounding AS (
    SELECT "CustomerId"
    FROM people
    WHERE CASE WHEN abs("Score" * 10) = 'Infinity'::float8 THEN "Score" ELSE (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) / 10 END >= 0.3
        AND (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) < 30
        AND (trunc("Score") + CASE WHEN abs("Score" - trunc("Score")) >= 0.5 THEN sign("Score") ELSE 0 END) <> 0
    GROUP BY "CustomerId"
),
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
SELECT "CustomerId"
FROM people
WHERE "CustomerId" IN (SELECT "Buyer" FROM buyers)
    AND NOT ("CustomerId" IN (SELECT "CustomerId" FROM rounding))
GROUP BY "CustomerId"
ORDER BY "CustomerId" COLLATE "C";

-- Segment `everyone`
-- Defined in segments/people.seg; compiled by segc for postgres.
WITH
arithmetic AS (
    SELECT "CustomerId"
    FROM people
    WHERE ("Score" / NULLIF(CAST("Visits" AS DOUBLE PRECISION) - 5, 0) > 0.05
            OR 0.1::float8 + 0.2::float8 = 0.3
            OR -"Score" >= 1.5 - -0.25::float8)
    GROUP BY "CustomerId"
),
rounding AS (
    SELECT "CustomerId"
    FROM people
    WHERE CASE WHEN abs("Score" * 10) = 'Infinity'::float8 THEN "Score" ELSE (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) / 10 END >= 0.3
        AND (trunc("Score" * 10) + CASE WHEN abs("Score" * 10 - trunc("Score" * 10)) >= 0.5 THEN sign("Score" * 10) ELSE 0 END) < 30
        AND (trunc("Score") + CASE WHEN abs("Score" - trunc("Score")) >= 0.5 THEN sign("Score") ELSE 0 END) <> 0
    GROUP BY "CustomerId"
),
text AS (
    SELECT "CustomerId"
    FROM people
    WHERE (CASE WHEN "Name" ~ E'[\\u03A3\\u1C89\\uA7CB-\\uA7CC\\uA7CE\\uA7D2\\uA7D4\\uA7DA\\uA7DC\\U00010D50-\\U00010D65\\U00016EA0-\\U00016EB8]' THEN CAST(CAST('segc: `lower` in postgres maps a character of this value differently from segc' || "Name" AS integer) AS text) ELSE lower("Name" COLLATE "und-x-icu") END = 'anna'
            OR starts_with(CASE WHEN "Name" ~ E'[\\u019B\\u0264\\u1C8A\\uA7CD\\uA7CF\\uA7D3\\uA7D5\\uA7DB\\U00010D70-\\U00010D85\\U00016EBB-\\U00016ED3]' THEN CAST(CAST('segc: `upper` in postgres maps a character of this value differently from segc' || "Name" AS integer) AS text) ELSE upper("Name" COLLATE "und-x-icu") END, 'ÄR')
            OR char_length("Name") = 3
            OR strpos("Note", '"hi"') > 0
            OR right("Note", 6) = E'\\slash'
            OR "Name" = 'o''brien')
    GROUP BY "CustomerId"
),
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
),
buyer_people AS (
    SELECT "CustomerId"
    FROM people
    WHERE "CustomerId" IN (SELECT "Buyer" FROM buyers)
        AND NOT ("CustomerId" IN (SELECT "CustomerId" FROM rounding))
    GROUP BY "CustomerId"
)
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
        ('x' || substr(md5('s:' || "CustomerId"), 1, 8))::bit(32)::bigint AS split_bucket
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
ORDER BY "CustomerId" COLLATE "C";

-- Segment `just_buyers`
-- Defined in segments/people.seg; compiled by segc for postgres.
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
SELECT "CustomerId"
FROM (
    SELECT "Buyer" AS "CustomerId" FROM buyers
    GROUP BY "Buyer"
) AS members
ORDER BY "CustomerId" COLLATE "C";
