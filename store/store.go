// Package store keeps Flowline's flows, their revisions, published versions
// with their bundles, and deployments. It runs on Postgres, the store of
// record, or on SQLite (pure Go), the embedded default, behind the same code
// and the same schema (package migrations).
//
// Writes that must not race are atomic on both databases: a save is a
// conditional UPDATE on the flow's revision, and version numbers come from a
// counter on the flow's row bumped inside the publishing transaction.
// On SQLite every transaction begins IMMEDIATE (it takes the write lock up
// front) and waits on a busy timeout, so concurrent writers in one process
// queue instead of failing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/flowline/flowline/migrations"
)

// Errors callers branch on; every error the store returns for these cases
// wraps one of them, so test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")       // a name already taken, or a flow still deployed
	ErrStale    = errors.New("stale revision") // If-Match revision is not the current one
	ErrInvalid  = errors.New("invalid")        // text that no database can hold (invalid UTF-8, NUL bytes)
)

// Dialect names returned by Store.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// DefaultFile is the SQLite database's file name inside the data directory.
const DefaultFile = "flowline.db"

// Store is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	sealer  *sealer // seals deployments' secrets (secrets.go)
}

// Open connects and migrates. url "" means SQLite in dataDir/flowline.db
// (dataDir is created; "" means "data"); "postgres://..." or
// "postgresql://..." means Postgres; "sqlite://path" or "file:path" means
// SQLite at that path (its directory is created). Query parameters of a
// SQLite URL are ignored: the store sets its own.
//
// Deployments' secrets are sealed with the key of WithSecretKey, or else
// with the key in dataDir/secret.key, made at the first start (KeyFile).
// Open seals what an older version left in plain text, and fails with an
// error wrapping ErrSecretKey when the database holds secrets sealed with
// another key.
func Open(ctx context.Context, url, dataDir string, opts ...Option) (*Store, error) {
	dialect, dsn, err := parseURL(url, dataDir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	key := o.secretKey
	if key == nil {
		if key, err = loadOrCreateKey(dataDir); err != nil {
			return nil, fmt.Errorf("open store: secret %w", err)
		}
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	var dialector gorm.Dialector
	switch dialect {
	case DialectPostgres:
		dialector = postgres.Open(dsn)
	case DialectSQLite:
		if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		// WAL lets readers run beside the one writer; foreign keys are off
		// by default in SQLite; IMMEDIATE transactions take the write lock
		// at BEGIN, so a transaction never fails half-way on a lock upgrade.
		dialector = sqlite.Open(dsn + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(30000)" +
			"&_pragma=foreign_keys(1)&_txlock=immediate")
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		DisableAutomaticPing:   true,
		NowFunc:                now,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	switch dialect {
	case DialectPostgres:
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	case DialectSQLite:
		// One writer at a time anyway; a few connections let reads go on
		// beside it. Connections are kept: each one re-runs the pragmas.
		sqlDB.SetMaxOpenConns(4)
		sqlDB.SetMaxIdleConns(4)
	}
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, sealer: sl}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	if err := s.checkKey(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	if err := s.sealPlain(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s store: %w", dialect, err)
	}
	return s, nil
}

// parseURL returns the dialect and the driver's data source: the URL itself
// for Postgres, the file path for SQLite.
func parseURL(url, dataDir string) (dialect, dsn string, err error) {
	switch {
	case url == "":
		if dataDir == "" {
			dataDir = "data"
		}
		return DialectSQLite, filepath.Join(dataDir, DefaultFile), nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return DialectPostgres, url, nil
	case strings.HasPrefix(url, "sqlite://"), strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
		path, _, _ = strings.Cut(path, "?")
		if path == "" || path == ":memory:" {
			return "", "", fmt.Errorf("sqlite url %q: a file path is required", url)
		}
		return DialectSQLite, path, nil
	}
	scheme, _, _ := strings.Cut(url, ":")
	return "", "", fmt.Errorf("database url: unsupported scheme %q (want postgres://, sqlite:// or file:)", scheme)
}

// migrate applies the embedded migrations that are not applied yet. On
// Postgres an advisory lock keeps servers starting together from migrating
// at the same time.
func (s *Store) migrate(ctx context.Context) error {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.sqlDB, migrations.FS, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// p.Close would close s.sqlDB, which the store keeps.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the database connections.
func (s *Store) Close() error {
	return s.sqlDB.Close()
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// now is the store's clock: UTC, to the microsecond, which both databases
// keep exactly.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// isDuplicate reports whether err is a unique or primary key violation.
func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// checkText refuses strings a TEXT column cannot hold on Postgres (invalid
// UTF-8, NUL), so both databases accept and refuse the same input.
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8: %w", what, ErrInvalid)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s contains a NUL byte: %w", what, ErrInvalid)
	}
	return nil
}

// cleanText makes s storable, for free text such as status messages that
// must not be refused.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// utc normalises a time read back from either database.
func utc(t time.Time) time.Time { return t.UTC() }
