-- The `split` fixture on DuckDB. A member's bucket is h / 2^32 with h = bucket32(seed || ':'
-- || key); a group covers the buckets below its cumulative percentage C, and the test
-- `h / 2^32 < C / 100` is done exactly, in integers, as `h * 100 < C * 2^32`.

-- segment: experiment
SELECT CustomerId,
    CASE
        WHEN bucket32('2024-q3:' || CustomerId) * 100 < 45 * 4294967296 THEN 'treatment'
        WHEN bucket32('2024-q3:' || CustomerId) * 100 < 90 * 4294967296 THEN 'control'
        ELSE 'holdout'
    END AS "group"
FROM (SELECT DISTINCT CustomerId FROM people)
ORDER BY CustomerId COLLATE "C";

-- segment: active_ab
SELECT CustomerId, Active,
    CASE
        WHEN bucket32('ab:' || CustomerId) * 100 < 50 * 4294967296 THEN 'a'
        ELSE 'b'
    END AS "group"
FROM people
WHERE Active
ORDER BY CustomerId COLLATE "C", _row;
