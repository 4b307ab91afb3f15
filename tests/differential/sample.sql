-- The sample project (segc.toml, segments/ and samples/ at the repository root) on DuckDB,
-- one query per segment, a segment's references above it. Aggregates are scalar subqueries
-- over the whole table, which skip nulls as SPEC's do; `percentile` is `quantile_cont`.

-- segments/churn.seg

-- segment: churn_low
SELECT DISTINCT CustomerId FROM churn
WHERE ChurnScore < 0.33
ORDER BY CustomerId COLLATE "C";

-- segment: churn_medium
SELECT DISTINCT CustomerId FROM churn
WHERE ChurnScore BETWEEN 0.33 AND 0.66
ORDER BY CustomerId COLLATE "C";

-- segment: churn_high
SELECT CustomerId, TopFactor, Region, "Preferred Channel" FROM churn
WHERE ChurnScore > 0.66
ORDER BY CustomerId COLLATE "C", _row;

-- segment: churn_unscored
SELECT DISTINCT CustomerId FROM churn
WHERE ChurnScore IS NULL
ORDER BY CustomerId COLLATE "C";

-- segment: service_driven_churn
SELECT DISTINCT CustomerId FROM churn
WHERE IsChurn AND TopFactor IN ('SupportTickets', 'DeliveryDelays')
ORDER BY CustomerId COLLATE "C";

-- segment: churn_borderline
SELECT DISTINCT CustomerId FROM churn
WHERE abs(ChurnScore - 0.5) < 0.05
ORDER BY CustomerId COLLATE "C";

-- segment: lapsed_unflagged
SELECT DISTINCT CustomerId FROM churn
WHERE days_since(LastPurchaseDate) > 90 AND NOT IsChurn
ORDER BY CustomerId COLLATE "C";

-- segment: call_list
SELECT CustomerId, TopFactor, LastPurchaseDate FROM churn
WHERE round(ChurnScore, 1) >= 0.6 AND coalesce("Preferred Channel", 'phone') = 'phone'
ORDER BY CustomerId COLLATE "C", _row;

-- segments/contacts.seg

-- segment: contact_data_cleanup
SELECT CustomerId, Email, ZipCode FROM churn
WHERE Email IS NULL OR NOT contains(Email, '@') OR length(ZipCode) < 5
ORDER BY CustomerId COLLATE "C", _row;

-- segment: partner_employees
SELECT DISTINCT CustomerId FROM churn
WHERE ends_with(lower(Email), '@contoso.com')
    OR ends_with(lower(Email), '@fabrikam.net')
    OR ends_with(lower(Email), '@northwind-traders.com')
ORDER BY CustomerId COLLATE "C";

-- segments/value.seg

-- segment: top_value
WITH valued AS (
    SELECT CustomerId, max(CLVScore) AS value FROM clv GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (20 * n + 99) // 100
ORDER BY CustomerId COLLATE "C";

-- segment: value_outliers
SELECT DISTINCT CustomerId FROM clv
WHERE CLVScore NOT BETWEEN (SELECT quantile_cont(CLVScore, 0.01) FROM clv)
    AND (SELECT quantile_cont(CLVScore, 0.99) FROM clv)
ORDER BY CustomerId COLLATE "C";

-- segment: rising_stars
SELECT DISTINCT CustomerId FROM clv
WHERE TenureMonths < 12 AND CLVScore > 1.5 * (SELECT avg(CLVScore) FROM clv)
ORDER BY CustomerId COLLATE "C";

-- The rows of the members, as `select` asks, after keeping every key tied with the 150th.
-- segment: newest_customers
WITH valued AS (
    SELECT CustomerId, min(TenureMonths) AS value FROM clv GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, value, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value ASC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
), members AS (
    SELECT CustomerId FROM ranked
    WHERE value <= (SELECT value FROM ranked WHERE place = least(150, n))
)
SELECT CustomerId, TenureMonths, Country FROM clv
WHERE CustomerId IN (SELECT CustomerId FROM members)
ORDER BY CustomerId COLLATE "C", _row;

-- Arithmetic is in doubles, and division by zero is null, not DuckDB's infinity.
-- segment: low_monthly_value
WITH valued AS (
    SELECT CustomerId,
        min(CLVScore / NULLIF(CAST(TenureMonths AS DOUBLE) + 1, 0)) AS value
    FROM clv GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId, count(*) OVER () AS n,
        row_number() OVER (ORDER BY value ASC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId FROM ranked WHERE place <= (10 * n + 99) // 100
ORDER BY CustomerId COLLATE "C";

-- segment: dach_top_100
WITH qualifying AS (
    SELECT * FROM clv WHERE upper(Country) IN ('DE', 'AT', 'CH')
), valued AS (
    SELECT CustomerId, max(CLVScore) AS value FROM qualifying GROUP BY CustomerId
), ranked AS (
    SELECT CustomerId,
        row_number() OVER (ORDER BY value DESC, CustomerId COLLATE "C") AS place
    FROM valued WHERE value IS NOT NULL
)
SELECT CustomerId, Country, TenureMonths FROM qualifying
WHERE CustomerId IN (SELECT CustomerId FROM ranked WHERE place <= 100)
ORDER BY CustomerId COLLATE "C", _row;

-- segment: big_spenders
SELECT DISTINCT CustomerId FROM clv
WHERE CLVScore >= 1000 AND TenureMonths >= 3
ORDER BY CustomerId COLLATE "C";

-- segments/subscriptions.seg

-- segment: coffee_club
SELECT DISTINCT CustomerId FROM subscriptions
ORDER BY CustomerId COLLATE "C";

-- segment: renewals_at_risk
SELECT CustomerId, Plan, RenewalDate, AutoRenew FROM subscriptions
WHERE RenewalDate BETWEEN DATE '2024-07-01' AND DATE '2024-09-30'
    AND (coalesce(IsChurn, true) OR AutoRenew = false)
ORDER BY CustomerId COLLATE "C", _row;

-- segment: renewing_soon
SELECT CustomerId, Plan, RenewalDate, AutoRenew, IsChurn FROM subscriptions
WHERE days_since(RenewalDate) BETWEEN -30 AND 0
ORDER BY CustomerId COLLATE "C", _row;

-- segment: summer_promo
SELECT CustomerId, Plan, PromoCode FROM subscriptions
WHERE starts_with(upper(PromoCode), 'SUMMER') AND Plan != 'Basic'
ORDER BY CustomerId COLLATE "C", _row;

-- segments/products.seg

-- segment: p0042_prospects
SELECT CustomerId, Rank FROM recommendations
WHERE ProductID = 'P0042' AND Rank <= 3
ORDER BY CustomerId COLLATE "C", _row;

-- segment: coffee_cross_sell
SELECT DISTINCT CustomerId FROM recommendations
WHERE Category = 'Home/Café' AND Rank = 1
    AND CustomerId NOT IN (SELECT CustomerId FROM coffee_club)
ORDER BY CustomerId COLLATE "C";

-- segment: discovery_picks
SELECT DISTINCT CustomerId FROM recommendations
WHERE Rank = 1 AND ProductID NOT IN ('P0049', 'P0054', 'P0042')
ORDER BY CustomerId COLLATE "C";

-- segment: outdoor_fans
SELECT DISTINCT CustomerId FROM recommendations
WHERE starts_with(lower(Category), 'outdoor/') AND Rank BETWEEN 1 AND 2
ORDER BY CustomerId COLLATE "C";

-- segments/campaigns/winback.seg

-- segment: in_campaign
SELECT DISTINCT CustomerId FROM campaigns
WHERE days_since(StartDate) >= 0 AND (EndDate IS NULL OR days_since(EndDate) <= 0)
ORDER BY CustomerId COLLATE "C";

-- segment: high_value_at_risk
SELECT CustomerId, TopFactor, "Preferred Channel" FROM churn
WHERE ChurnScore > 0.6 AND CustomerId IN (SELECT CustomerId FROM top_value)
ORDER BY CustomerId COLLATE "C", _row;

-- segment: referral_asks
SELECT DISTINCT CustomerId FROM churn
WHERE ChurnScore < 1e-1
    AND CustomerId IN (SELECT CustomerId FROM top_value)
    AND CustomerId NOT IN (SELECT CustomerId FROM in_campaign)
    AND "Preferred Channel" IS NOT NULL
ORDER BY CustomerId COLLATE "C";

-- (high_value_at_risk union (rising_stars intersect churn_medium)) except in_campaign
-- segment: save_first
SELECT CustomerId FROM (
    (
        SELECT CustomerId FROM high_value_at_risk
        UNION
        (SELECT CustomerId FROM rising_stars INTERSECT SELECT CustomerId FROM churn_medium)
    )
    EXCEPT
    SELECT CustomerId FROM in_campaign
)
ORDER BY CustomerId COLLATE "C";

-- ((churn_high union lapsed_unflagged) except in_campaign) except contact_data_cleanup,
-- then 45% / 90% / 100% of the buckets.
-- segment: winback_test
WITH members AS (
    (
        (SELECT CustomerId FROM churn_high UNION SELECT CustomerId FROM lapsed_unflagged)
        EXCEPT
        SELECT CustomerId FROM in_campaign
    )
    EXCEPT
    SELECT CustomerId FROM contact_data_cleanup
)
SELECT CustomerId,
    CASE
        WHEN bucket32('winback-2024-q3:' || CustomerId) * 100 < 45 * 4294967296
            THEN 'treatment'
        WHEN bucket32('winback-2024-q3:' || CustomerId) * 100 < 90 * 4294967296
            THEN 'control'
        ELSE 'holdout'
    END AS "group"
FROM members
ORDER BY CustomerId COLLATE "C";
