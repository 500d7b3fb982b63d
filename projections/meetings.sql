-- projection: meetings
-- version: 1
-- description: Meetings, workshops, study visits, trainings and forums held, with the organisations present.
CREATE TABLE meetings (
    meeting TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    held_on TEXT NOT NULL,
    days INTEGER,
    place TEXT,
    online INTEGER,
    participants INTEGER,
    project TEXT,
    neighbourhood TEXT,
    action_group TEXT,
    host TEXT,
    description TEXT,
    seq INTEGER NOT NULL
);
CREATE INDEX meetings_project ON meetings (project);
CREATE TABLE meeting_organisations (
    meeting TEXT NOT NULL,
    organisation TEXT NOT NULL,
    PRIMARY KEY (meeting, organisation)
);

-- on meeting-held
INSERT INTO meetings (meeting, kind, title, held_on, days, place, online, participants, project, neighbourhood, action_group, host, description, seq)
VALUES (:meeting, :kind, :title, :_occurred_at, :days, :place, :online, :participants, :project, :neighbourhood, :group, :host, :description, :_seq)
ON CONFLICT (meeting) DO UPDATE SET
    kind = excluded.kind,
    title = excluded.title,
    held_on = excluded.held_on,
    days = excluded.days,
    place = excluded.place,
    online = excluded.online,
    participants = excluded.participants,
    project = excluded.project,
    neighbourhood = excluded.neighbourhood,
    action_group = excluded.action_group,
    host = excluded.host,
    description = excluded.description,
    seq = excluded.seq;
DELETE FROM meeting_organisations WHERE meeting = :meeting;
INSERT OR IGNORE INTO meeting_organisations (meeting, organisation)
SELECT :meeting, value FROM json_each(:organisations) WHERE value IS NOT NULL;
