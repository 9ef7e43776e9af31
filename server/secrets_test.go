package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/flowline/flowline/server"
	"github.com/flowline/flowline/store/storetest"
)

// secretFlow logs its secret, queries its datasource and answers what it
// learned without the secret itself.
const secretFlow = `{"version": 1, "name": "sec", "nodes": [
 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/sec"}},
 {"id": "note", "type": "log", "config": {"level": "info", "message": "\"calling with \" + env.API_KEY"}},
 {"id": "q", "type": "db.query", "config": {"datasource": "main", "sql": "select 41 + 1 as answer"}},
 {"id": "done", "type": "response", "config": {"body": "{\"len\": len(env.API_KEY), \"mode\": env.MODE, \"answer\": nodes.q[0].answer}"}}],
 "edges": [{"from": "start", "to": "note"}, {"from": "note", "to": "q"}, {"from": "q", "to": "done"}]}`

const apiKey = "sk-live-7f3a9c2e5b1d"

// TestDeploymentSecrets deploys a flow with a secret variable and a
// datasource and looks for them everywhere they must not be: every answer
// of the API, the instance's environment, the database. The flow itself
// sees them.
func TestDeploymentSecrets(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) { testDeploymentSecrets(t, kind) })
	}
}

func testDeploymentSecrets(t *testing.T, kind string) {
	ts := start(t, kind)
	// The datasource: a fresh Postgres database, with a password in its
	// URL (the tests' Postgres trusts, so any password will do).
	dbURL, _ := storetest.Database(t, "postgres")
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	const dbPassword = "ds-pass-91c7e4"
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	dsURL := u.String()
	leaks := func(what string, b []byte) {
		t.Helper()
		for _, s := range []string{apiKey, dsURL, dbPassword} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s shows the secret %q: %s", what, s, b)
			}
		}
	}

	ts.must(201, "POST", "/api/v1/flows", secretFlow, nil)
	ts.must(201, "POST", "/api/v1/flows/sec/versions", `{"target": "js"}`, nil)

	// Names are checked, and a name is plain or secret, not both.
	var e apiErr
	ts.must(400, "POST", "/api/v1/flows/sec/deployments", `{"env": {"K": "a"}, "secrets": {"K": "b"}}`, &e)
	if !strings.Contains(e.Error, "K") {
		t.Errorf("error %q does not name the variable", e.Error)
	}
	ts.must(400, "POST", "/api/v1/flows/sec/deployments", `{"secrets": {"1BAD": "value-123456"}}`, &e)
	ts.must(400, "POST", "/api/v1/flows/sec/deployments", `{"env": {"a-b": "x"}}`, &e)
	if strings.Contains(e.Error, "value-123456") {
		t.Errorf("error %q shows a value", e.Error)
	}

	req := map[string]any{
		"env":         map[string]string{"MODE": "live"},
		"secrets":     map[string]string{"API_KEY": apiKey},
		"datasources": map[string]string{"main": dsURL},
	}
	var created struct {
		ID          string            `json:"id"`
		Env         map[string]string `json:"env"`
		Secrets     map[string]string `json:"secrets"`
		Datasources map[string]string `json:"datasources"`
	}
	leaks("the create answer", ts.must(201, "POST", "/api/v1/flows/sec/deployments", req, &created))
	if created.Env["MODE"] != "live" || created.Secrets["API_KEY"] != "set" || created.Datasources["main"] != "set" {
		t.Errorf("create answer: env %v secrets %v datasources %v", created.Env, created.Secrets, created.Datasources)
	}
	ts.waitRunning(created.ID)
	ts.waitServes("GET", "/sec")

	// The flow sees its secret and reaches its datasource.
	body := get(t, ts.gateway+"/sec")
	if body != fmt.Sprintf(`{"answer":42,"len":%d,"mode":"live"}`, len(apiKey)) {
		t.Fatalf("the flow answered %s", body)
	}

	var one struct {
		Secrets     map[string]string `json:"secrets"`
		Datasources map[string]string `json:"datasources"`
		Instances   []struct {
			PID int `json:"pid"`
		} `json:"instances"`
	}
	leaks("GET deployment", ts.must(200, "GET", "/api/v1/deployments/"+created.ID, nil, &one))
	if one.Secrets["API_KEY"] != "set" || one.Datasources["main"] != "set" || len(one.Instances) == 0 {
		t.Fatalf("GET deployment: %+v", one)
	}
	leaks("GET deployments", ts.must(200, "GET", "/api/v1/deployments?flow=sec", nil, nil))
	leaks("GET all deployments", ts.must(200, "GET", "/api/v1/deployments?all=1", nil, nil))

	// The log line that held the secret is there, redacted.
	var logs []struct{ Message string }
	waitFor(t, func() bool {
		ts.must(200, "GET", "/api/v1/deployments/"+created.ID+"/logs", nil, &logs)
		for _, l := range logs {
			if l.Message == "calling with [redacted]" {
				return true
			}
		}
		return false
	})
	leaks("the logs", ts.must(200, "GET", "/api/v1/deployments/"+created.ID+"/logs", nil, nil))

	// Not in the instance's environment, which other processes can read.
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", one.Instances[0].PID))
	switch {
	case errors.Is(err, os.ErrNotExist) && !procExists():
		t.Log("no /proc here: the instance's environment is not checked")
	case err != nil:
		t.Fatalf("instance environment: %v", err)
	default:
		leaks("the instance's environment", environ)
		if !bytes.Contains(environ, []byte("FLOWLINE_SECRETS_FILE=")) {
			t.Errorf("instance environment has no FLOWLINE_SECRETS_FILE: %q", environ)
		}
	}

	// The file the instance reads them from is the server user's only.
	fi, err := os.Stat(filepath.Join(ts.dataDir, "bundles", created.ID, "secrets.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v, %v", fi, err)
	}

	// A test run takes secrets the same way, and shows none.
	test := map[string]any{"env": map[string]string{"MODE": "test"}, "secrets": map[string]string{"API_KEY": apiKey},
		"datasources": map[string]string{"main": dsURL}}
	var run struct {
		Response struct{ Body map[string]any }
		Trace    struct{ Logs []struct{ Message string } }
	}
	leaks("the test-run answer", ts.must(200, "POST", "/api/v1/flows/sec/test", test, &run))
	if run.Response.Body["len"] != float64(len(apiKey)) || run.Response.Body["answer"] != float64(42) ||
		len(run.Trace.Logs) == 0 || run.Trace.Logs[0].Message != "calling with [redacted]" {
		t.Errorf("test run: %+v", run)
	}
	ts.must(400, "POST", "/api/v1/flows/sec/test", `{"env": {"K": "a"}, "secrets": {"K": "b"}}`, nil)

	// The database holds none of them in plain text.
	leaks("the database", databaseText(t, ts, kind))
}

func procExists() bool {
	_, err := os.Stat("/proc/self/environ")
	return err == nil
}

// databaseText is everything the database holds of the deployments, as
// an attacker with a copy of it would read it.
func databaseText(t *testing.T, ts *testServer, kind string) []byte {
	t.Helper()
	if kind == "sqlite" {
		// The file and its write-ahead log, byte for byte.
		var all []byte
		for _, name := range []string{"flowline.db", "flowline.db-wal"} {
			b, err := os.ReadFile(filepath.Join(ts.dataDir, name))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte("sealed:v1:")) {
			t.Fatal("no sealed value in the SQLite files: are they the store's?")
		}
		return all
	}
	db, err := sql.Open("pgx", ts.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT env, datasources, secrets FROM deployments")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r[1], "sealed:v1:") || !strings.HasPrefix(r[2], "sealed:v1:") {
			t.Errorf("row not sealed: %q", r)
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(all)
	return b
}

func TestSecretKeyConfig(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	cfg, err := server.FromEnv(server.Defaults(), func(k string) string {
		if k == server.EnvSecretKey {
			return base64.StdEncoding.EncodeToString(key)
		}
		return ""
	})
	if err != nil || !bytes.Equal(cfg.SecretKey, key) {
		t.Fatalf("FromEnv with a key: %x, %v", cfg.SecretKey, err)
	}
	for _, bad := range []string{"not-base64!", base64.StdEncoding.EncodeToString(key[:31])} {
		_, err := server.FromEnv(server.Defaults(), func(k string) string {
			if k == server.EnvSecretKey {
				return bad
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "FLOWLINE_SECRET_KEY") || strings.Contains(err.Error(), bad) {
			t.Errorf("FromEnv with key %q: %v", bad, err)
		}
	}

	// A deployment's secrets come back after a restart with the same key;
	// another key is refused at start, naming the setting.
	url, dir := storetest.Database(t, "sqlite")
	withKey := func(k []byte) func(*server.Config) { return func(c *server.Config) { c.SecretKey = k } }
	ts := startOn(t, url, dir, withKey(key))
	ts.must(201, "POST", "/api/v1/flows", strings.Replace(strings.Replace(secretFlow, `"sec"`, `"keyed"`, 1), "/sec", "/keyed", 1), nil)
	ts.must(201, "POST", "/api/v1/flows/keyed/versions", `{}`, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/keyed/deployments",
		map[string]any{"secrets": map[string]string{"API_KEY": apiKey}, "env": map[string]string{"MODE": "m"},
			"datasources": map[string]string{"main": postgresURL(t)}}, &d)
	ts.waitRunning(d.ID)
	ts.stop()
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was made although the key is configured: %v", err)
	}

	ts2 := startOn(t, url, dir, withKey(key))
	ts2.waitServes("GET", "/keyed")
	if body := get(t, ts2.GatewayURL()+"/keyed"); !strings.Contains(body, fmt.Sprintf(`"len":%d`, len(apiKey))) {
		t.Fatalf("after a restart: %s", body)
	}
	ts2.stop()

	cfg = server.Defaults()
	cfg.Addr, cfg.GatewayAddr, cfg.DatabaseURL, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", url, dir
	cfg.SecretKey = bytes.Repeat([]byte{0x11}, 32)
	if s, err := server.New(context.Background(), cfg, nil); err == nil {
		s.Close(context.Background())
		t.Fatal("a server with another key started")
	} else if !strings.Contains(err.Error(), "FLOWLINE_SECRET_KEY") {
		t.Errorf("error %q does not name FLOWLINE_SECRET_KEY", err)
	}
}

// postgresURL is a fresh Postgres database's URL for a datasource.
func postgresURL(t *testing.T) string {
	t.Helper()
	u, _ := storetest.Database(t, "postgres")
	return u
}
