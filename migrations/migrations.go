// Package migrations holds Flowline's database schema as goose SQL
// migrations, embedded in the binary. The same files serve Postgres and
// SQLite, so they keep to types both accept: TEXT (ids are UUIDs made in Go,
// JSON documents are stored as text), BYTEA, TIMESTAMP (always UTC),
// INTEGER, BIGINT and BOOLEAN.
//
// Files are named NNNNN_what.sql and are never edited once released: a
// change to the schema is a new file.
package migrations

import "embed"

// FS holds the migration files at its root, ready for goose.NewProvider.
//
//go:embed *.sql
var FS embed.FS
