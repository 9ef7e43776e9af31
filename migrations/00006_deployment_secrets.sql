-- +goose Up
-- A deployment's secret variables: a JSON object name -> value, sealed by
-- the store (AES-256-GCM, "sealed:v1:..."), as the datasources column is
-- from now on. Rows from before hold '{}' here and plain JSON in
-- datasources until the store seals them when it opens.
ALTER TABLE deployments ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE deployments DROP COLUMN secrets;
