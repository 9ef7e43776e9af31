-- +goose Up
-- The flow revision a version was built from, so that the designer can say
-- what is published; 0 for versions published before it was recorded.
ALTER TABLE versions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE versions DROP COLUMN revision;
