-- description: Partners of each project: organisation (slug and name), country, role, when joined and left.
-- The lead partner of a project, named only in its registration with no partner-joined event, is listed
-- with role lead and no joined date; once it leaves, it keeps that role.
WITH pairs AS (
    SELECT x.project AS project, x.organisation AS organisation,
        COALESCE(x.role, CASE WHEN p.lead_partner = x.organisation THEN 'lead' END) AS role,
        x.joined_on AS joined_on, x.left_on AS left_on
    FROM partners AS x LEFT JOIN projects AS p ON p.project = x.project
    UNION ALL
    SELECT p.project, p.lead_partner, 'lead', NULL, NULL FROM projects AS p
    WHERE p.lead_partner IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM partners AS x WHERE x.project = p.project AND x.organisation = p.lead_partner)
)
SELECT
    pr.project AS project,
    pr.organisation AS organisation,
    o.name AS name,
    o.country AS country,
    pr.role AS role,
    pr.joined_on AS joined_on,
    pr.left_on AS left_on
FROM pairs AS pr
LEFT JOIN organisations AS o ON o.organisation = pr.organisation
WHERE :stream IS NULL OR :stream = 'project/' || pr.project OR :stream = 'organisation/' || pr.organisation
ORDER BY
    pr.project,
    CASE pr.role WHEN 'lead' THEN 0 WHEN 'partner' THEN 1 WHEN 'associate' THEN 2 ELSE 3 END,
    pr.organisation
