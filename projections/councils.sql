-- projection: councils
-- version: 1
-- description: Neighbourhoods of the municipality and their councils of residents: formed, dissolved, active.
CREATE TABLE neighbourhoods (
    neighbourhood TEXT PRIMARY KEY,
    name TEXT,
    municipality TEXT NOT NULL,
    note TEXT,
    registered_on TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE councils (
    neighbourhood TEXT PRIMARY KEY,
    name TEXT,
    members_count INTEGER,
    note TEXT,
    formed_on TEXT,
    dissolved_on TEXT,
    dissolved_end TEXT,
    dissolution_reason TEXT,
    active INTEGER NOT NULL
);
CREATE TABLE council_history (
    seq INTEGER PRIMARY KEY,
    neighbourhood TEXT NOT NULL,
    action TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    name TEXT,
    members_count INTEGER,
    reason TEXT,
    note TEXT
);

-- on neighbourhood-registered
INSERT INTO neighbourhoods (neighbourhood, name, municipality, note, registered_on, seq)
VALUES (:neighbourhood, :name, :municipality, :note, :_occurred_at, :_seq)
ON CONFLICT (neighbourhood) DO UPDATE SET
    name = excluded.name,
    municipality = excluded.municipality,
    note = excluded.note,
    registered_on = excluded.registered_on,
    seq = excluded.seq;

-- on council-formed
INSERT INTO councils (neighbourhood, name, members_count, note, formed_on, active)
VALUES (:neighbourhood, :name, :members_count, :note, :_occurred_at, 1)
ON CONFLICT (neighbourhood) DO UPDATE SET
    name = CASE WHEN councils.dissolved_end < :_occurred_start THEN excluded.name
        ELSE COALESCE(excluded.name, councils.name) END,
    members_count = CASE WHEN councils.dissolved_end < :_occurred_start THEN excluded.members_count
        ELSE COALESCE(excluded.members_count, councils.members_count) END,
    note = CASE WHEN councils.dissolved_end < :_occurred_start THEN excluded.note
        ELSE COALESCE(excluded.note, councils.note) END,
    formed_on = CASE WHEN councils.formed_on IS NULL OR councils.dissolved_end < :_occurred_start THEN excluded.formed_on
        ELSE councils.formed_on END,
    active = CASE WHEN councils.dissolved_on IS NULL OR councils.dissolved_end < :_occurred_start THEN 1 ELSE 0 END,
    dissolved_on = CASE WHEN councils.dissolved_end < :_occurred_start THEN NULL ELSE councils.dissolved_on END,
    dissolution_reason = CASE WHEN councils.dissolved_end < :_occurred_start THEN NULL ELSE councils.dissolution_reason END,
    dissolved_end = CASE WHEN councils.dissolved_end < :_occurred_start THEN NULL ELSE councils.dissolved_end END;
INSERT OR REPLACE INTO council_history (seq, neighbourhood, action, occurred_at, name, members_count, reason, note)
VALUES (:_seq, :neighbourhood, 'formed', :_occurred_at, :name, :members_count, NULL, :note);

-- on council-dissolved
INSERT INTO councils (neighbourhood, dissolved_on, dissolved_end, dissolution_reason, active)
VALUES (:neighbourhood, :_occurred_at, :_occurred_end, :reason, 0)
ON CONFLICT (neighbourhood) DO UPDATE SET
    dissolved_on = COALESCE(councils.dissolved_on, excluded.dissolved_on),
    dissolved_end = COALESCE(councils.dissolved_end, excluded.dissolved_end),
    dissolution_reason = CASE WHEN councils.dissolved_on IS NULL THEN excluded.dissolution_reason
        ELSE councils.dissolution_reason END,
    active = 0;
INSERT OR REPLACE INTO council_history (seq, neighbourhood, action, occurred_at, name, members_count, reason, note)
VALUES (:_seq, :neighbourhood, 'dissolved', :_occurred_at, NULL, NULL, :reason, NULL);
