-- projection: projects
-- version: 1
-- description: Projects with programme, network type, lead partner and period, and their phases.
CREATE TABLE projects (
    project TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    acronym TEXT,
    programme TEXT NOT NULL,
    network_type TEXT NOT NULL,
    lead_partner TEXT,
    starts_on TEXT,
    ends_on TEXT,
    theme TEXT,
    description TEXT,
    registered_on TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE project_phases (
    project TEXT NOT NULL,
    phase TEXT NOT NULL,
    title TEXT,
    starts_on TEXT,
    ends_on TEXT,
    defined_on TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (project, phase)
);

-- on project-registered
INSERT INTO projects (project, title, acronym, programme, network_type, lead_partner, starts_on, ends_on, theme, description, registered_on, seq)
VALUES (:project, :title, :acronym, :programme, :network_type, :lead_partner, :starts_on, :ends_on, :theme, :description, :_occurred_at, :_seq)
ON CONFLICT (project) DO UPDATE SET
    title = excluded.title,
    acronym = excluded.acronym,
    programme = excluded.programme,
    network_type = excluded.network_type,
    lead_partner = excluded.lead_partner,
    starts_on = excluded.starts_on,
    ends_on = excluded.ends_on,
    theme = excluded.theme,
    description = excluded.description,
    registered_on = excluded.registered_on,
    seq = excluded.seq;

-- on project-phase-defined
INSERT INTO project_phases (project, phase, title, starts_on, ends_on, defined_on, seq)
VALUES (:project, :phase, :title, :starts_on, :ends_on, :_occurred_at, :_seq)
ON CONFLICT (project, phase) DO UPDATE SET
    title = COALESCE(excluded.title, project_phases.title),
    starts_on = COALESCE(excluded.starts_on, project_phases.starts_on),
    ends_on = COALESCE(excluded.ends_on, project_phases.ends_on),
    defined_on = excluded.defined_on,
    seq = excluded.seq;
