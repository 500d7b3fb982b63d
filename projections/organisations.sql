-- projection: organisations
-- version: 1
-- description: Registered organisations (municipalities, companies, NGOs, universities …) with kind, country and city.
CREATE TABLE organisations (
    organisation TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL,
    city TEXT,
    note TEXT,
    registered_on TEXT NOT NULL,
    seq INTEGER NOT NULL
);

-- on organisation-registered
INSERT INTO organisations (organisation, name, kind, country, city, note, registered_on, seq)
VALUES (:organisation, :name, :kind, :country, :city, :note, :_occurred_at, :_seq)
ON CONFLICT (organisation) DO UPDATE SET
    name = excluded.name,
    kind = excluded.kind,
    country = excluded.country,
    city = excluded.city,
    note = excluded.note,
    registered_on = excluded.registered_on,
    seq = excluded.seq;
