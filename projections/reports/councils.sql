-- description: Neighbourhoods and their councils of residents (iedzīvotāju padomes): active or not, since when, and how many neighbourhoods have one.
-- One row per neighbourhood (registered, or named by a council event), then a TOTAL row whose
-- coverage says how many neighbourhoods have an active council out of all ("6 of 11") and whose
-- share is that as a percentage.
WITH hoods AS (
    SELECT neighbourhood FROM neighbourhoods
    UNION SELECT neighbourhood FROM councils
),
rows AS (
    SELECT
        h.neighbourhood AS neighbourhood,
        n.name AS name,
        CASE WHEN c.active = 1 THEN 'yes' ELSE 'no' END AS active_council,
        CASE WHEN c.active = 1 THEN c.formed_on END AS since,
        c.formed_on AS formed_on,
        c.dissolved_on AS dissolved_on,
        c.members_count AS members,
        NULL AS coverage,
        NULL AS share,
        0 AS total_rank,
        n.seq AS seq
    FROM hoods AS h
    LEFT JOIN neighbourhoods AS n ON n.neighbourhood = h.neighbourhood
    LEFT JOIN councils AS c ON c.neighbourhood = h.neighbourhood
    UNION ALL
    SELECT
        'TOTAL', NULL, NULL, NULL, NULL, NULL,
        (SELECT SUM(members_count) FROM councils WHERE active = 1),
        (SELECT COUNT(*) FROM councils WHERE active = 1) || ' of ' || (SELECT COUNT(*) FROM hoods),
        percent((SELECT COUNT(*) FROM councils WHERE active = 1), (SELECT COUNT(*) FROM hoods)),
        1,
        NULL
)
SELECT neighbourhood, name, active_council, since, formed_on, dissolved_on, members, coverage, share
FROM rows
WHERE :stream IS NULL OR total_rank = 1 OR :stream = 'neighbourhood/' || neighbourhood
ORDER BY total_rank, seq NULLS LAST, neighbourhood
