-- The `sets` fixture on DuckDB. `combine` is SQL's set algebra with the parentheses written
-- out, since `intersect` binds tighter than `union` and `except`, which go left to right;
-- `in segment` is a membership test on the other segment's keys.

-- segment: has_a
SELECT DISTINCT CustomerId FROM s
WHERE contains(G, 'a')
ORDER BY CustomerId COLLATE "C";

-- segment: has_b
SELECT DISTINCT CustomerId FROM s
WHERE contains(G, 'b')
ORDER BY CustomerId COLLATE "C";

-- segment: has_c
SELECT DISTINCT CustomerId FROM s
WHERE contains(G, 'c')
ORDER BY CustomerId COLLATE "C";

-- has_a union (has_b intersect has_c)
-- segment: union_intersect
SELECT CustomerId FROM (
    SELECT CustomerId FROM has_a
    UNION
    (SELECT CustomerId FROM has_b INTERSECT SELECT CustomerId FROM has_c)
)
ORDER BY CustomerId COLLATE "C";

-- (has_a except has_b) except has_c
-- segment: except_except
SELECT CustomerId FROM (
    (SELECT CustomerId FROM has_a EXCEPT SELECT CustomerId FROM has_b)
    EXCEPT
    SELECT CustomerId FROM has_c
)
ORDER BY CustomerId COLLATE "C";

-- (has_a except has_b) union has_c
-- segment: except_union
SELECT CustomerId FROM (
    (SELECT CustomerId FROM has_a EXCEPT SELECT CustomerId FROM has_b)
    UNION
    SELECT CustomerId FROM has_c
)
ORDER BY CustomerId COLLATE "C";

-- segment: parenthesised
SELECT CustomerId FROM (
    SELECT CustomerId FROM has_a
    EXCEPT
    (SELECT CustomerId FROM has_b UNION SELECT CustomerId FROM has_c)
)
ORDER BY CustomerId COLLATE "C";

-- segment: high_value
SELECT DISTINCT CustomerId FROM clv
WHERE Value > 100
ORDER BY CustomerId COLLATE "C";

-- segment: risky_valuable
SELECT DISTINCT CustomerId FROM churn
WHERE Score > 0.5 AND CustomerId IN (SELECT CustomerId FROM high_value)
ORDER BY CustomerId COLLATE "C";

-- segment: risky_not_valuable
SELECT DISTINCT CustomerId FROM churn
WHERE Score > 0.5 AND CustomerId NOT IN (SELECT CustomerId FROM high_value)
ORDER BY CustomerId COLLATE "C";

-- segment: risky_or_valuable
SELECT CustomerId FROM (
    SELECT CustomerId FROM risky_not_valuable
    UNION
    SELECT CustomerId FROM high_value
)
ORDER BY CustomerId COLLATE "C";
