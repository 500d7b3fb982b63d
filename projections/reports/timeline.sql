-- description: Every activity in date order: projects registered and their phases, meetings, plans, deliverables, councils, partners, groups, positions and funding.
-- date is as precise as the source (2022, 2022-05, 2022-05-17 …) and sorts at the start of its
-- period. kind names what happened, subject is the entity (meeting, plan, organisation …) concerned.
-- Every publication of a deliverable and every member-joined event is an activity of its own (a
-- second edition, a founder's formal joining). A definition (a project, its phases, a meeting, a plan,
-- a group, a position) appears once, as last defined: defining it again corrects it, it does not happen
-- twice.
-- A stream filter keeps the activities of that project, or the activities whose own stream it is (meeting/…, neighbourhood/…).
WITH items (date, project, kind, subject, title, stream, rank) AS (
    SELECT registered_on, project, 'project-registered', project,
        COALESCE(acronym, title) || ' (' || programme || ', ' || network_type || ')', 'project/' || project, 0
    FROM projects
    UNION ALL
    SELECT held_on, project, 'meeting-held', meeting, title || ' (' || kind || ')', 'meeting/' || meeting, 6
    FROM meetings
    UNION ALL
    SELECT drafted_on, project, 'plan-drafted', plan, title, 'plan/' || plan, 7
    FROM plans WHERE drafted_on IS NOT NULL
    UNION ALL
    SELECT a.approved_on, pl.project, 'plan-approved', a.plan,
        COALESCE(pl.title, a.plan) || ' – approved by ' || a.approved_by
            || COALESCE(' (' || a.decision_reference || ')', ''),
        'plan/' || a.plan, 8
    FROM plan_approvals AS a LEFT JOIN plans AS pl ON pl.plan = a.plan
    UNION ALL
    SELECT published_on, project, 'deliverable-published', deliverable, title || ' (' || kind || ')', 'project/' || project, 9
    FROM deliverable_publications
    UNION ALL
    SELECT h.occurred_at, NULL, 'council-formed', h.neighbourhood,
        COALESCE(h.name, 'Residents'' council') || ' – ' || COALESCE(n.name, h.neighbourhood)
            || COALESCE(' (' || h.members_count || ' members)', ''),
        'neighbourhood/' || h.neighbourhood, 10
    FROM council_history AS h LEFT JOIN neighbourhoods AS n ON n.neighbourhood = h.neighbourhood
    WHERE h.action = 'formed'
    UNION ALL
    SELECT h.occurred_at, NULL, 'council-dissolved', h.neighbourhood,
        'Residents'' council – ' || COALESCE(n.name, h.neighbourhood) || COALESCE(' (' || h.reason || ')', ''),
        'neighbourhood/' || h.neighbourhood, 11
    FROM council_history AS h LEFT JOIN neighbourhoods AS n ON n.neighbourhood = h.neighbourhood
    WHERE h.action = 'dissolved'
    UNION ALL
    SELECT h.occurred_at, h.project, 'partner-joined', h.organisation,
        COALESCE(o.name, h.organisation) || ' joined as ' || h.role,
        'project/' || h.project, 2
    FROM partner_history AS h LEFT JOIN organisations AS o ON o.organisation = h.organisation
    WHERE h.action = 'joined'
    UNION ALL
    SELECT h.occurred_at, h.project, 'partner-left', h.organisation,
        COALESCE(o.name, h.organisation) || ' left' || COALESCE(' (' || h.reason || ')', ''),
        'project/' || h.project, 13
    FROM partner_history AS h LEFT JOIN organisations AS o ON o.organisation = h.organisation
    WHERE h.action = 'left'
    UNION ALL
    SELECT formed_on, project, 'local-action-group-formed', action_group, name, 'group/' || action_group, 5
    FROM local_action_groups WHERE formed_on IS NOT NULL
    UNION ALL
    SELECT j.joined_on, g.project, 'local-action-group-member-joined', j.organisation,
        COALESCE(o.name, j.organisation) || ' joined ' || COALESCE(g.name, j.action_group),
        'group/' || j.action_group, 5
    FROM local_action_group_joins AS j
    LEFT JOIN local_action_groups AS g ON g.action_group = j.action_group
    LEFT JOIN organisations AS o ON o.organisation = j.organisation
    UNION ALL
    SELECT created_on, project, 'position-created', position, title, 'position/' || position, 12
    FROM positions
    UNION ALL
    SELECT ph.starts_on, ph.project, 'phase-started', ph.phase,
        COALESCE(ph.title, ph.phase) || ' (' || ph.starts_on || ' – ' || COALESCE(ph.ends_on, '?') || ')',
        'project/' || ph.project, 1
    FROM project_phases AS ph WHERE ph.starts_on IS NOT NULL
    UNION ALL
    SELECT approved_on, project, 'budget-approved',
        organisation,
        'Budget ' || money(amount_cents) || ' ' || currency || COALESCE(' (' || organisation || ')', ''),
        'project/' || project, 3
    FROM budgets
    UNION ALL
    SELECT committed_on, project, 'funding-committed', funding_source,
        upper(funding_source) || ' ' || money(amount_cents) || ' ' || currency
            || COALESCE(' (' || percent(rate_bp, 10000) || ' %)', ''),
        'project/' || project, 4
    FROM commitments
    UNION ALL
    SELECT spent_on, project, 'expenditure-recorded', expenditure,
        money(amount_cents) || ' ' || currency || ' ' || cost_category || COALESCE(' – ' || description, ''),
        'expenditure/' || expenditure, 14
    FROM expenditures
    UNION ALL
    SELECT v.verified_on, e.project, 'expenditure-verified', v.expenditure,
        money(v.amount_cents) || ' ' || v.currency || ' eligible, checked by ' || v.controller,
        'expenditure/' || v.expenditure, 15
    FROM verifications AS v LEFT JOIN expenditures AS e ON e.expenditure = v.expenditure
    UNION ALL
    SELECT received_on, project, 'payment-received', funding_source,
        upper(funding_source) || ' ' || money(amount_cents) || ' ' || currency || COALESCE(' from ' || payer, ''),
        'project/' || project, 16
    FROM payments
)
SELECT date, project, kind, subject, title
FROM items
WHERE :stream IS NULL OR stream = :stream OR :stream = 'project/' || project
ORDER BY
    CASE length(date)
        WHEN 4 THEN date || '-01-01T00:00:00.000Z'
        WHEN 7 THEN date || '-01T00:00:00.000Z'
        WHEN 10 THEN date || 'T00:00:00.000Z'
        ELSE strftime('%Y-%m-%dT%H:%M:%fZ', date)
    END,
    length(date),
    rank,
    project NULLS LAST,
    subject
