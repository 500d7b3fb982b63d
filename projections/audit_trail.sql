-- projection: audit_trail
-- version: 2
-- events: as recorded
-- description: Every event with who recorded it, when, from which source and evidence.
CREATE TABLE audit_trail (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    stream TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    source TEXT,
    evidence TEXT,
    corrects TEXT,
    retracts TEXT,
    reason TEXT
);
CREATE INDEX audit_trail_stream ON audit_trail (stream);

-- on *
INSERT INTO audit_trail (seq, id, type, version, stream, stream_version, occurred_at, recorded_at, recorded_by, source, evidence, corrects, retracts, reason)
VALUES (:_seq, :_id, :_type, :_version, :_stream, :_stream_version, :_occurred_at, :_recorded_at, :_recorded_by, :_source, :_evidence, :_corrects, :_retracts, :_reason)
ON CONFLICT (seq) DO UPDATE SET
    id = excluded.id,
    type = excluded.type,
    version = excluded.version,
    stream = excluded.stream,
    stream_version = excluded.stream_version,
    occurred_at = excluded.occurred_at,
    recorded_at = excluded.recorded_at,
    recorded_by = excluded.recorded_by,
    source = excluded.source,
    evidence = excluded.evidence,
    corrects = excluded.corrects,
    retracts = excluded.retracts,
    reason = excluded.reason;
