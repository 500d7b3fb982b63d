-- projection: deliverables
-- version: 1
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
