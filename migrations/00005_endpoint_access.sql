-- +goose Up

-- Who may call a flow's published endpoint: require_key makes the gateway
-- refuse calls without one of the flow's keys; cors_origins (a JSON list)
-- are the browser origins allowed to call it.
ALTER TABLE flows ADD COLUMN require_key BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE flows ADD COLUMN cors_origins TEXT NOT NULL DEFAULT '[]';

-- A flow's API keys; only the SHA-256 of the secret is kept, and its first
-- characters to tell keys apart. rate_per_minute 0 is no limit.
CREATE TABLE flow_keys (
    id              TEXT PRIMARY KEY,
    flow_id         TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    rate_per_minute INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX flow_keys_flow_id ON flow_keys (flow_id);

-- +goose Down
DROP TABLE flow_keys;
ALTER TABLE flows DROP COLUMN cors_origins;
ALTER TABLE flows DROP COLUMN require_key;
