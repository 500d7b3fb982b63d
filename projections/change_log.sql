-- projection: change_log
-- version: 2
-- events: as recorded
-- description: Every correction and retraction: which event it fixes, what changed, who and why.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    target_type TEXT NOT NULL,
    changes TEXT,
    new_data TEXT,
    new_occurred_at TEXT,
    stream TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX change_log_target ON change_log (target);

-- on event-corrected
INSERT INTO change_log (seq, action, target, target_type, changes, new_data, new_occurred_at, stream, recorded_at, recorded_by, reason)
VALUES (:_seq, 'corrected', :_corrects, :target_type, :changes, :data, :occurred_at, :_stream, :_recorded_at, :_recorded_by, :_reason)
ON CONFLICT (seq) DO NOTHING;

-- on event-retracted
INSERT INTO change_log (seq, action, target, target_type, changes, new_data, new_occurred_at, stream, recorded_at, recorded_by, reason)
VALUES (:_seq, 'retracted', :_retracts, :target_type, NULL, NULL, NULL, :_stream, :_recorded_at, :_recorded_by, :_reason)
ON CONFLICT (seq) DO NOTHING;
