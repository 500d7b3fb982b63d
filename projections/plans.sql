-- projection: plans
-- version: 1
-- description: Plans (integrated action plans, strategies …): when drafted, when and by whom approved.
CREATE TABLE plans (
    plan TEXT PRIMARY KEY,
    title TEXT,
    kind TEXT,
    project TEXT,
    organisation TEXT,
    description TEXT,
    drafted_on TEXT,
    approved_on TEXT,
    approved_by TEXT,
    approving_organisation TEXT,
    decision_reference TEXT,
    approval_note TEXT
);
CREATE TABLE plan_approvals (
    seq INTEGER PRIMARY KEY,
    plan TEXT NOT NULL,
    approved_on TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    organisation TEXT,
    decision_reference TEXT,
    note TEXT
);

-- on plan-drafted
INSERT INTO plans (plan, title, kind, project, organisation, description, drafted_on)
VALUES (:plan, :title, :kind, :project, :organisation, :description, :_occurred_at)
ON CONFLICT (plan) DO UPDATE SET
    title = excluded.title,
    kind = excluded.kind,
    project = excluded.project,
    organisation = excluded.organisation,
    description = excluded.description,
    drafted_on = COALESCE(plans.drafted_on, excluded.drafted_on);

-- on plan-approved
INSERT INTO plans (plan, approved_on, approved_by, approving_organisation, decision_reference, approval_note)
VALUES (:plan, :_occurred_at, :approved_by, :organisation, :decision_reference, :note)
ON CONFLICT (plan) DO UPDATE SET
    approved_on = excluded.approved_on,
    approved_by = excluded.approved_by,
    approving_organisation = excluded.approving_organisation,
    decision_reference = excluded.decision_reference,
    approval_note = excluded.approval_note;
INSERT OR REPLACE INTO plan_approvals (seq, plan, approved_on, approved_by, organisation, decision_reference, note)
VALUES (:_seq, :plan, :_occurred_at, :approved_by, :organisation, :decision_reference, :note);
