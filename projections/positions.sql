-- projection: positions
-- version: 1
-- description: Positions (jobs or roles) created by organisations, such as a community engagement coordinator.
CREATE TABLE positions (
    position TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    title TEXT NOT NULL,
    project TEXT,
    holder TEXT,
    note TEXT,
    created_on TEXT NOT NULL,
    seq INTEGER NOT NULL
);

-- on position-created
INSERT INTO positions (position, organisation, title, project, holder, note, created_on, seq)
VALUES (:position, :organisation, :title, :project, :holder, :note, :_occurred_at, :_seq)
ON CONFLICT (position) DO UPDATE SET
    organisation = excluded.organisation,
    title = excluded.title,
    project = excluded.project,
    holder = excluded.holder,
    note = excluded.note,
    created_on = excluded.created_on,
    seq = excluded.seq;
