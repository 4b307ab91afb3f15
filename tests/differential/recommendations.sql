-- The `recommendations` fixture on DuckDB: several rows per key. Membership is "some row
-- qualifies"; a ranking value is the best of the key's qualifying rows; `select` gives one
-- line per qualifying row, a key's rows in file order (`_row`).

-- segment: p1_buyers
SELECT DISTINCT CustomerId FROM recs
WHERE ProductID = 'P1' AND Rank <= 2
ORDER BY CustomerId COLLATE "C";

-- segment: shortlist
SELECT CustomerId, ProductID, Rank FROM recs
WHERE Rank <= 2
ORDER BY CustomerId COLLATE "C", _row;

-- segment: strongest
WITH valued AS (
    SELECT CustomerId, max(Score) AS value FROM recs GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 2
ORDER BY CustomerId COLLATE "C";

-- segment: weakest
WITH valued AS (
    SELECT CustomerId, min(Score) AS value FROM recs GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value ASC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 2
ORDER BY CustomerId COLLATE "C";

-- segment: best_second_choice
WITH valued AS (
    SELECT CustomerId, max(Score) AS value FROM recs
    WHERE Rank = 2 OR ProductID = 'P2'
    GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= 1
ORDER BY CustomerId COLLATE "C";
