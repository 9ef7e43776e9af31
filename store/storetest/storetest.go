// Package storetest opens fresh stores for tests, on SQLite and on
// Postgres.
//
// Postgres is the server named by FLOWLINE_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); each store
// gets a database of its own, dropped at cleanup. When the server cannot be
// reached the test is skipped, unless CI is set, where it fails.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowline/flowline/store"
)

// Environment variables.
const (
	EnvPostgres = "FLOWLINE_TEST_POSTGRES"
	EnvCI       = "CI"
)

// DefaultPostgres is the server used when EnvPostgres is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Kinds returns the kinds of store Open accepts: "sqlite" and "postgres".
func Kinds() []string { return []string{store.DialectSQLite, store.DialectPostgres} }

// Open opens a store of the given kind on a fresh, empty database and
// closes it (and drops the database) at cleanup.
func Open(t testing.TB, kind string) *store.Store {
	t.Helper()
	url, dataDir := Database(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, url, dataDir)
	if err != nil {
		t.Fatalf("open %s store: %v", kind, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close %s store: %v", kind, err)
		}
	})
	return s
}

// Database makes a fresh, empty database of the given kind and returns the
// url and dataDir to pass to store.Open, for tests that open and close
// stores themselves (to re-open the same database, say). Stores opened on
// it must be closed by the end of the test; the database is dropped at
// cleanup.
func Database(t testing.TB, kind string) (url, dataDir string) {
	t.Helper()
	switch kind {
	case store.DialectSQLite:
		return "", t.TempDir()
	case store.DialectPostgres:
		// A data directory all the same: the store keeps its secret key
		// there.
		return postgresDatabase(t), t.TempDir()
	}
	t.Fatalf("storetest: unknown kind %q (want one of %v)", kind, Kinds())
	return "", ""
}

func postgresDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		admin = DefaultPostgres
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s=%q: want a postgres:// URL", EnvPostgres, redact(admin))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		msg := "postgres at " + redact(admin) + " is unreachable (set " + EnvPostgres + " to use another server): " + err.Error()
		if os.Getenv(EnvCI) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(context.Background())

	name := "flowline_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		// FORCE ends connections a test left open.
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// redact hides a password in a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}
