-- projection: partners
-- version: 1
-- description: Organisations taking part in each project: role, when they joined and when they left.
CREATE TABLE partners (
    project TEXT NOT NULL,
    organisation TEXT NOT NULL,
    role TEXT,
    joined_on TEXT,
    left_on TEXT,
    left_end TEXT,
    left_reason TEXT,
    note TEXT,
    PRIMARY KEY (project, organisation)
);
CREATE TABLE partner_history (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    organisation TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    role TEXT,
    reason TEXT,
    note TEXT
);

-- on partner-joined
INSERT INTO partners (project, organisation, role, joined_on, note)
VALUES (:project, :organisation, :role, :_occurred_at, :note)
ON CONFLICT (project, organisation) DO UPDATE SET
    role = excluded.role,
    note = COALESCE(excluded.note, partners.note),
    joined_on = CASE
        WHEN partners.joined_on IS NULL OR partners.left_end < :_occurred_start THEN excluded.joined_on
        ELSE partners.joined_on END,
    left_on = CASE WHEN partners.left_end < :_occurred_start THEN NULL ELSE partners.left_on END,
    left_reason = CASE WHEN partners.left_end < :_occurred_start THEN NULL ELSE partners.left_reason END,
    left_end = CASE WHEN partners.left_end < :_occurred_start THEN NULL ELSE partners.left_end END;
INSERT OR REPLACE INTO partner_history (seq, project, organisation, action, occurred_at, role, reason, note)
VALUES (:_seq, :project, :organisation, 'joined', :_occurred_at, :role, NULL, :note);

-- on partner-left
INSERT INTO partners (project, organisation, left_on, left_end, left_reason)
VALUES (:project, :organisation, :_occurred_at, :_occurred_end, :reason)
ON CONFLICT (project, organisation) DO UPDATE SET
    left_on = COALESCE(partners.left_on, excluded.left_on),
    left_end = COALESCE(partners.left_end, excluded.left_end),
    left_reason = CASE WHEN partners.left_on IS NULL THEN excluded.left_reason ELSE partners.left_reason END;
INSERT OR REPLACE INTO partner_history (seq, project, organisation, action, occurred_at, role, reason, note)
VALUES (:_seq, :project, :organisation, 'left', :_occurred_at, NULL, :reason, NULL);
