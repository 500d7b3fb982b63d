-- description: Every correction and retraction: which event it fixes, what changed, who recorded it and why.
-- target is the id of the corrected or retracted event, changes lists each changed field with its
-- old and new value (JSON), new_occurred_at is the corrected valid time when the correction moved it.
SELECT
    seq,
    action,
    target,
    target_type,
    changes,
    new_occurred_at,
    recorded_at,
    recorded_by,
    reason
FROM change_log
WHERE :stream IS NULL OR stream = :stream
ORDER BY seq
