-- description: Projects at a glance: programme, period, lead partner, partners, meetings, approved plans and committed funding by source with the ERDF share.
-- One row per project known to any of the projects, partners, meetings, plans or funding
-- projections (a project referred to before its registration still shows, with what is known).
-- partners counts the organisations currently taking part (not left), the lead partner included.
-- Committed money is never added across currencies: a project with commitments in two currencies
-- has one row per currency (the other columns repeated).
WITH keys AS (
    SELECT project FROM projects
    UNION SELECT project FROM partners
    UNION SELECT project FROM meetings WHERE project IS NOT NULL
    UNION SELECT project FROM plans WHERE project IS NOT NULL
    UNION SELECT project FROM commitments
),
current_partners AS (
    SELECT project, organisation FROM partners WHERE left_on IS NULL
    UNION
    SELECT p.project, p.lead_partner FROM projects AS p
    WHERE p.lead_partner IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM partners AS x
                      WHERE x.project = p.project AND x.organisation = p.lead_partner AND x.left_on IS NOT NULL)
),
partner_counts AS (
    SELECT project, COUNT(*) AS n FROM current_partners GROUP BY project
),
leads AS (
    SELECT k.project,
        COALESCE(
            (SELECT p.lead_partner FROM projects AS p WHERE p.project = k.project),
            (SELECT x.organisation FROM partners AS x
             WHERE x.project = k.project AND x.role = 'lead' AND x.left_on IS NULL
             ORDER BY x.joined_on, x.organisation LIMIT 1)
        ) AS organisation
    FROM keys AS k
),
meeting_counts AS (
    SELECT project, COUNT(*) AS n FROM meetings WHERE project IS NOT NULL GROUP BY project
),
plan_counts AS (
    SELECT project, COUNT(*) AS n FROM plans WHERE project IS NOT NULL AND approved_on IS NOT NULL GROUP BY project
),
committed AS (
    SELECT project,
        SUM(amount_cents) AS total,
        COALESCE(SUM(CASE WHEN funding_source = 'erdf' THEN amount_cents END), 0) AS erdf,
        COALESCE(SUM(CASE WHEN funding_source = 'state' THEN amount_cents END), 0) AS state,
        COALESCE(SUM(CASE WHEN funding_source = 'municipality' THEN amount_cents END), 0) AS municipality,
        COALESCE(SUM(CASE WHEN funding_source = 'other' THEN amount_cents END), 0) AS other,
        currency
    FROM commitments GROUP BY project, currency
)
SELECT
    k.project AS project,
    p.title AS title,
    p.programme AS programme,
    CASE WHEN p.starts_on IS NULL AND p.ends_on IS NULL THEN NULL
         ELSE COALESCE(p.starts_on, '?') || ' – ' || COALESCE(p.ends_on, '?') END AS period,
    COALESCE(o.name, l.organisation) AS lead_partner,
    COALESCE(pc.n, 0) AS partners,
    COALESCE(mc.n, 0) AS meetings_held,
    COALESCE(plc.n, 0) AS plans_approved,
    money(COALESCE(c.total, 0)) AS committed,
    money(COALESCE(c.erdf, 0)) AS erdf,
    money(COALESCE(c.state, 0)) AS state,
    money(COALESCE(c.municipality, 0)) AS municipality,
    money(COALESCE(c.other, 0)) AS other,
    c.currency AS currency,
    percent(c.erdf, c.total) AS erdf_share
FROM keys AS k
LEFT JOIN projects AS p ON p.project = k.project
LEFT JOIN leads AS l ON l.project = k.project
LEFT JOIN organisations AS o ON o.organisation = l.organisation
LEFT JOIN partner_counts AS pc ON pc.project = k.project
LEFT JOIN meeting_counts AS mc ON mc.project = k.project
LEFT JOIN plan_counts AS plc ON plc.project = k.project
LEFT JOIN committed AS c ON c.project = k.project
WHERE :stream IS NULL OR :stream = 'project/' || k.project
ORDER BY
    -- projects with a known period first (the ones the ledger says most about), then by start
    p.starts_on IS NULL,
    COALESCE(p.starts_on, p.registered_on) NULLS LAST,
    k.project,
    c.currency
