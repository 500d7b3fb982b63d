-- description: Every event in log order with who recorded it, when, from which source and evidence (filter with a stream).
SELECT
    seq,
    occurred_at,
    recorded_at,
    recorded_by,
    type,
    stream,
    source,
    evidence
FROM audit_trail
WHERE :stream IS NULL OR stream = :stream
ORDER BY seq
