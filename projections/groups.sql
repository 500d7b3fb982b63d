-- projection: groups
-- version: 2
-- description: Local action groups (local stakeholder groups of a project) and their member organisations.
CREATE TABLE local_action_groups (
    action_group TEXT PRIMARY KEY,
    name TEXT,
    project TEXT,
    description TEXT,
    formed_on TEXT,
    seq INTEGER
);
CREATE TABLE local_action_group_members (
    action_group TEXT NOT NULL,
    organisation TEXT NOT NULL,
    joined_on TEXT NOT NULL,
    founding INTEGER NOT NULL,
    note TEXT,
    PRIMARY KEY (action_group, organisation)
);
-- Every member-joined event, for the timeline: an organisation that joins a group it founded (or
-- joins twice) still joined on that date, while the members table lists it once.
CREATE TABLE local_action_group_joins (
    seq INTEGER PRIMARY KEY,
    action_group TEXT NOT NULL,
    organisation TEXT NOT NULL,
    joined_on TEXT NOT NULL
);

-- on local-action-group-formed
INSERT INTO local_action_groups (action_group, name, project, description, formed_on, seq)
VALUES (:group, :name, :project, :description, :_occurred_at, :_seq)
ON CONFLICT (action_group) DO UPDATE SET
    name = excluded.name,
    project = excluded.project,
    description = excluded.description,
    formed_on = excluded.formed_on,
    seq = excluded.seq;
INSERT INTO local_action_group_members (action_group, organisation, joined_on, founding)
SELECT DISTINCT :group, value, :_occurred_at, 1 FROM json_each(:members) WHERE value IS NOT NULL
ON CONFLICT (action_group, organisation) DO UPDATE SET founding = 1;

-- on local-action-group-member-joined
INSERT INTO local_action_group_members (action_group, organisation, joined_on, founding, note)
VALUES (:group, :organisation, :_occurred_at, 0, :note)
ON CONFLICT (action_group, organisation) DO UPDATE SET
    note = COALESCE(excluded.note, local_action_group_members.note);
INSERT OR REPLACE INTO local_action_group_joins (seq, action_group, organisation, joined_on)
VALUES (:_seq, :group, :organisation, :_occurred_at);
