-- +goose Up

-- A flow's current draft. Every save is also kept in flow_revisions;
-- last_version is the number of the latest published version, bumped
-- under the row's lock so concurrent publishers get distinct numbers.
CREATE TABLE flows (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    revision     INTEGER NOT NULL,
    document     TEXT NOT NULL,
    last_version INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE flow_revisions (
    flow_id    TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    document   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (flow_id, revision)
);

-- An immutable published version and its generated bundle.
CREATE TABLE versions (
    id         TEXT PRIMARY KEY,
    flow_id    TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,
    target     TEXT NOT NULL,
    document   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (flow_id, number)
);

CREATE TABLE version_files (
    version_id TEXT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    content    BYTEA NOT NULL,
    PRIMARY KEY (version_id, path)
);

-- env and datasources are JSON objects of strings.
CREATE TABLE deployments (
    id          TEXT PRIMARY KEY,
    flow_id     TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version_id  TEXT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    env         TEXT NOT NULL,
    datasources TEXT NOT NULL,
    scaling_min INTEGER NOT NULL,
    scaling_max INTEGER NOT NULL,
    deadline_ns BIGINT NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE INDEX deployments_flow_id ON deployments (flow_id);
CREATE INDEX deployments_version_id ON deployments (version_id);
CREATE INDEX deployments_status ON deployments (status);

-- +goose Down
DROP TABLE deployments;
DROP TABLE version_files;
DROP TABLE versions;
DROP TABLE flow_revisions;
DROP TABLE flows;
