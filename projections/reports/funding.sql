-- description: Funding per project and source: committed, actual share of the commitments of the project against the agreed rate, received, with spent and verified per project, and totals.
-- Rows: for each project one row per funding source (erdf, state, municipality, other) that has
-- commitments or payments, then one row with funding_source all for the whole project, and at the end a
-- row with project TOTAL for all projects.
-- Choice: expenditures are recorded per project, not per source, so spent and verified are not
-- allocated to sources: they are shown only on the all row of the project and on the TOTAL row (NULL
-- on the per-source rows). budget is likewise per project: the latest whole-project budget, or,
-- when there is none, the sum of the latest budget of each partner organisation.
-- share = the amount committed by this source as a percentage of the committed total of the project,
-- agreed_rate = the co-financing rate agreed in the commitment (the latest one given, if several),
-- of the commitments in the row's currency: a rate agreed on lati says nothing of a euro row.
-- verified = the eligible amount of the latest first-level check of each expenditure (a later check
-- of the same expenditure replaces the earlier one), checks of unknown expenditures are left out.
-- All money is summed in integer cents, and money() and percent() print it exactly. Amounts in
-- different currencies are never added: every row is for one currency, so a project with money in
-- two currencies has its rows (and its all row, and the TOTAL) once per currency.
-- Speed: each large table is grouped once, by project (and source) and currency; the other
-- figures are sums over those small groups.
WITH commitment_groups AS (
    SELECT project, funding_source, currency, SUM(amount_cents) AS cents FROM commitments GROUP BY project, funding_source, currency
),
payment_groups AS (
    SELECT project, funding_source, currency, SUM(amount_cents) AS cents FROM payments GROUP BY project, funding_source, currency
),
expenditure_groups AS (
    SELECT project, currency, SUM(amount_cents) AS cents FROM expenditures GROUP BY project, currency
),
source_rows AS (
    SELECT project, funding_source, currency FROM commitment_groups
    UNION SELECT project, funding_source, currency FROM payment_groups
),
rates AS (
    SELECT project, funding_source, currency, rate_bp FROM (
        SELECT project, funding_source, currency, rate_bp,
            row_number() OVER (PARTITION BY project, funding_source, currency ORDER BY occurred_start DESC, seq DESC) AS n
        FROM commitments WHERE rate_bp IS NOT NULL
    ) WHERE n = 1
),
project_committed AS (
    SELECT project, currency, SUM(cents) AS cents FROM commitment_groups GROUP BY project, currency
),
project_received AS (
    SELECT project, currency, SUM(cents) AS cents FROM payment_groups GROUP BY project, currency
),
latest_verifications AS (
    -- The latest check by (occurred_start, seq): with one max() aggregate, SQLite takes the bare
    -- columns from the row that holds the maximum (starts are fixed-width, seq is zero-padded).
    SELECT expenditure, amount_cents, currency, max(occurred_start || printf('%020d', seq)) AS latest
    FROM verifications GROUP BY expenditure
),
verified AS (
    SELECT e.project, v.currency, SUM(v.amount_cents) AS cents
    FROM latest_verifications AS v JOIN expenditures AS e ON e.expenditure = v.expenditure
    GROUP BY e.project, v.currency
),
latest_budgets AS (
    SELECT project, organisation, currency, amount_cents FROM (
        SELECT project, organisation, currency, amount_cents,
            -- The latest budget of each organisation, whatever its currency (a budget in euros
            -- replaces one in lati): its currency is the one it is shown in.
            row_number() OVER (PARTITION BY project, organisation ORDER BY occurred_start DESC, seq DESC) AS n
        FROM budgets
    ) WHERE n = 1
),
project_budget AS (
    -- Whether a whole-project budget exists is decided per project, not per currency: a budget for
    -- the whole project in euros is the budget, and its partners' budgets in lati are not added
    -- on a row of their own.
    SELECT project, currency, SUM(amount_cents) AS cents
    FROM latest_budgets AS b
    WHERE organisation IS NULL
        OR NOT EXISTS (SELECT 1 FROM latest_budgets AS w WHERE w.project = b.project AND w.organisation IS NULL)
    GROUP BY project, currency
),
project_keys AS (
    SELECT project, currency FROM source_rows
    UNION SELECT project, currency FROM expenditure_groups
    UNION SELECT project, currency FROM project_budget
    UNION SELECT project, currency FROM verified
),
selected AS (
    SELECT project, currency FROM project_keys WHERE :stream IS NULL OR :stream = 'project/' || project
),
project_lines AS (
    SELECT k.project, k.currency, pb.cents AS budget_cents, COALESCE(pc.cents, 0) AS committed_cents,
        COALESCE(pr.cents, 0) AS received_cents, COALESCE(sp.cents, 0) AS spent_cents, COALESCE(v.cents, 0) AS verified_cents
    FROM selected AS k
    LEFT JOIN project_committed AS pc ON pc.project = k.project AND pc.currency = k.currency
    LEFT JOIN project_received AS pr ON pr.project = k.project AND pr.currency = k.currency
    LEFT JOIN expenditure_groups AS sp ON sp.project = k.project AND sp.currency = k.currency
    LEFT JOIN verified AS v ON v.project = k.project AND v.currency = k.currency
    LEFT JOIN project_budget AS pb ON pb.project = k.project AND pb.currency = k.currency
),
lines AS (
    SELECT s.project AS project, s.funding_source AS funding_source, 0 AS total_rank,
        CASE s.funding_source WHEN 'erdf' THEN 1 WHEN 'state' THEN 2 WHEN 'municipality' THEN 3 ELSE 4 END AS source_rank,
        s.currency AS currency,
        NULL AS budget_cents,
        COALESCE(c.cents, 0) AS committed_cents,
        percent(COALESCE(c.cents, 0), pc.cents) AS share,
        percent(r.rate_bp, 10000) AS agreed_rate,
        COALESCE(rc.cents, 0) AS received_cents,
        NULL AS spent_cents,
        NULL AS verified_cents
    FROM source_rows AS s
    JOIN selected AS sel ON sel.project = s.project AND sel.currency = s.currency
    LEFT JOIN commitment_groups AS c ON c.project = s.project AND c.funding_source = s.funding_source AND c.currency = s.currency
    LEFT JOIN project_committed AS pc ON pc.project = s.project AND pc.currency = s.currency
    LEFT JOIN rates AS r ON r.project = s.project AND r.funding_source = s.funding_source AND r.currency = s.currency
    LEFT JOIN payment_groups AS rc ON rc.project = s.project AND rc.funding_source = s.funding_source AND rc.currency = s.currency
    UNION ALL
    SELECT project, 'all', 0, 9, currency, budget_cents, committed_cents, NULL, NULL, received_cents, spent_cents, verified_cents
    FROM project_lines
    UNION ALL
    SELECT 'TOTAL', 'all', 1, 9, currency, COALESCE(SUM(budget_cents), 0), SUM(committed_cents), NULL, NULL,
        SUM(received_cents), SUM(spent_cents), SUM(verified_cents)
    FROM project_lines GROUP BY currency
    -- With nothing at all, still one TOTAL row (of zeros, without a currency).
    UNION ALL
    SELECT 'TOTAL', 'all', 1, 9, NULL, 0, 0, NULL, NULL, 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM project_lines)
)
SELECT
    project,
    funding_source,
    currency,
    money(budget_cents) AS budget,
    money(committed_cents) AS committed,
    share,
    agreed_rate,
    money(received_cents) AS received,
    money(spent_cents) AS spent,
    money(verified_cents) AS verified
FROM lines
ORDER BY total_rank, project, currency, source_rank, funding_source
