-- projection: deliverables
-- version: 2
-- description: Deliverables published by projects (reports, case studies, videos, toolkits …).
CREATE TABLE deliverables (
    project TEXT NOT NULL,
    deliverable TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT,
    description TEXT,
    published_on TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (project, deliverable)
);
-- Every publication, for the timeline: a deliverable published again (a second edition) is a second
-- activity, while the deliverables table holds its latest edition.
CREATE TABLE deliverable_publications (
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    deliverable TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    published_on TEXT NOT NULL
);

-- on deliverable-published
INSERT INTO deliverables (project, deliverable, title, kind, url, description, published_on, seq)
VALUES (:project, :deliverable, :title, :kind, :url, :description, :_occurred_at, :_seq)
ON CONFLICT (project, deliverable) DO UPDATE SET
    title = excluded.title,
    kind = excluded.kind,
    url = excluded.url,
    description = excluded.description,
    published_on = excluded.published_on,
    seq = excluded.seq;
INSERT OR REPLACE INTO deliverable_publications (seq, project, deliverable, title, kind, published_on)
VALUES (:_seq, :project, :deliverable, :title, :kind, :_occurred_at);
