-- +goose Up
-- A deployment's egress allow-list for http.request: a JSON list of
-- entries (CIDRs, IP addresses, host names, each with an optional port).
-- Deployments made before it allow nothing internal, as before they could
-- reach anything: '[]' is the default policy.
ALTER TABLE deployments ADD COLUMN egress_allow TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE deployments DROP COLUMN egress_allow;
