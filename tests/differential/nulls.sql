-- The `nulls` fixture on DuckDB: three-valued logic is SQL's own, so each `where` is the
-- segment's condition as written, and a key is a member when one of its rows passes it.

-- segment: not_high
SELECT DISTINCT CustomerId FROM t
WHERE NOT (Score > 0.6)
ORDER BY CustomerId COLLATE "C";

-- segment: tag_not_x
SELECT DISTINCT CustomerId FROM t
WHERE Tag NOT IN ('x')
ORDER BY CustomerId COLLATE "C";

-- segment: high_or_flag
SELECT DISTINCT CustomerId FROM t
WHERE Score > 0.6 OR Flag
ORDER BY CustomerId COLLATE "C";

-- segment: any_missing
SELECT DISTINCT CustomerId FROM t
WHERE Score IS NULL OR Tag IS NULL
ORDER BY CustomerId COLLATE "C";

-- segment: scored_x
SELECT DISTINCT CustomerId FROM t
WHERE Score IS NOT NULL AND Tag = 'x'
ORDER BY CustomerId COLLATE "C";

-- segment: tag_not_equal_x
SELECT DISTINCT CustomerId FROM t
WHERE Tag != 'x'
ORDER BY CustomerId COLLATE "C";

-- segment: everyone
SELECT DISTINCT CustomerId FROM t
ORDER BY CustomerId COLLATE "C";
