package store_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/store"
	"github.com/flowline/flowline/store/storetest"
)

const (
	secretValue = "sk-live-0123456789"
	dsURL       = "postgres://app:db-pass-42@db.internal/shop"
)

// deployWithSecrets stores a deployment of a new flow with a secret and a
// datasource.
func deployWithSecrets(t *testing.T, s *store.Store, flow string) *store.Deployment {
	t.Helper()
	mustCreate(t, s, flow)
	if _, err := s.CreateVersion(t.Context(), store.NewVersion{Flow: flow, Target: "js", Document: doc(flow, 1)}); err != nil {
		t.Fatal(err)
	}
	d := &store.Deployment{FlowName: flow, VersionNumber: 1, Target: "local", Method: "GET", Path: "/" + flow,
		Env: map[string]string{"MODE": "plain"}, Secrets: map[string]string{"API_KEY": secretValue},
		Datasources: map[string]string{"main": dsURL}}
	if err := s.CreateDeployment(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func wantSecrets(t *testing.T, what string, d *store.Deployment) {
	t.Helper()
	if d.Secrets["API_KEY"] != secretValue || d.Datasources["main"] != dsURL || d.Env["MODE"] != "plain" {
		t.Fatalf("%s: secrets %v, datasources %v, env %v", what, d.Secrets, d.Datasources, d.Env)
	}
}

// wantSealed checks that the database holds the secrets sealed only.
func wantSealed(t *testing.T, s *store.Store, id string) {
	t.Helper()
	for _, column := range []string{"secrets", "datasources"} {
		raw, err := store.RawColumn(t.Context(), s, id, column)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "sealed:v1:") || strings.Contains(raw, secretValue) || strings.Contains(raw, "db-pass-42") {
			t.Fatalf("%s column holds %q, want a sealed value", column, raw)
		}
	}
}

func TestSecretsSealedAtRest(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		d := deployWithSecrets(t, s, "f")
		wantSealed(t, s, d.ID)
		got, err := s.GetDeployment(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantSecrets(t, "GetDeployment", got)
		list, err := s.ListDeployments(ctx, store.DeploymentFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("ListDeployments = %v, %v", list, err)
		}
		wantSecrets(t, "ListDeployments", &list[0])
		if env, _ := store.RawColumn(ctx, s, d.ID, "env"); env != `{"MODE":"plain"}` {
			t.Errorf("env column %q: plain variables stay readable", env)
		}

		// A sealed value belongs to its row: moved to another deployment,
		// it does not open.
		other := deployWithSecrets(t, s, "g")
		raw, _ := store.RawColumn(ctx, s, d.ID, "secrets")
		if err := store.SetRawColumn(ctx, s, other.ID, "secrets", raw); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetDeployment(ctx, other.ID)
		wantErr(t, "GetDeployment of a moved secret", err, store.ErrSecretKey)
	})
}

func TestPlainSecretsSealedAtOpen(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url, dataDir := storetest.Database(t, kind)
			s, err := store.Open(ctx, url, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			d := deployWithSecrets(t, s, "f")
			// As an older version wrote it: plain JSON, no secrets column.
			if err := store.SetRawColumn(ctx, s, d.ID, "datasources", `{"main":"`+dsURL+`"}`); err != nil {
				t.Fatal(err)
			}
			if err := store.SetRawColumn(ctx, s, d.ID, "secrets", `{}`); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetDeployment(ctx, d.ID)
			if err != nil || got.Datasources["main"] != dsURL || len(got.Secrets) != 0 {
				t.Fatalf("plain row: %+v, %v", got, err)
			}
			s.Close()

			s, err = store.Open(ctx, url, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, column := range []string{"secrets", "datasources"} {
				if raw, _ := store.RawColumn(ctx, s, d.ID, column); !strings.HasPrefix(raw, "sealed:v1:") || strings.Contains(raw, "db-pass-42") {
					t.Errorf("%s after re-open: %q, want it sealed", column, raw)
				}
			}
			got, err = s.GetDeployment(ctx, d.ID)
			if err != nil || got.Datasources["main"] != dsURL {
				t.Fatalf("sealed row: %+v, %v", got, err)
			}
		})
	}
}

func TestSecretKey(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url, dataDir := storetest.Database(t, kind)

			// Without a key, one is made in the data directory, private,
			// and used again.
			s, err := store.Open(ctx, url, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			d := deployWithSecrets(t, s, "f")
			s.Close()
			keyFile := filepath.Join(dataDir, store.KeyFile)
			fi, err := os.Stat(keyFile)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, %v", fi, err)
			}
			text, _ := os.ReadFile(keyFile)
			key, err := store.DecodeKey(string(text))
			if err != nil {
				t.Fatalf("key file holds %q: %v", text, err)
			}
			s, err = store.Open(ctx, url, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetDeployment(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantSecrets(t, "after re-open", got)
			s.Close()
			if again, _ := os.ReadFile(keyFile); !bytes.Equal(again, text) {
				t.Fatal("the key file changed")
			}

			// The same key given by configuration opens the same secrets.
			byURL := url
			if kind == store.DialectSQLite {
				byURL = "sqlite://" + filepath.Join(dataDir, store.DefaultFile)
			}
			s, err = store.Open(ctx, byURL, "", store.WithSecretKey(key))
			if err != nil {
				t.Fatalf("open with the key file's key: %v", err)
			}
			if _, err := s.GetDeployment(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			s.Close()

			// Another key: refused at once, naming the setting.
			other := bytes.Repeat([]byte{1}, store.KeySize)
			_, err = store.Open(ctx, url, dataDir, store.WithSecretKey(other))
			if !errors.Is(err, store.ErrSecretKey) || !strings.Contains(err.Error(), "FLOWLINE_SECRET_KEY") {
				t.Fatalf("open with another key: %v", err)
			}

			// A server with another key that is already running fails
			// the reads of what the other one seals.
			s2url, s2dir := storetest.Database(t, kind)
			a, err := store.Open(ctx, s2url, s2dir)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := store.Open(ctx, s2url, s2dir, store.WithSecretKey(other))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			d2 := deployWithSecrets(t, a, "g")
			_, err = b.GetDeployment(ctx, d2.ID)
			if !errors.Is(err, store.ErrSecretKey) || !strings.Contains(err.Error(), "FLOWLINE_SECRET_KEY") {
				t.Fatalf("read with another key: %v", err)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestDecodeKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb}, store.KeySize)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		if got, err := store.DecodeKey(" " + enc.EncodeToString(key) + "\n"); err != nil || !bytes.Equal(got, key) {
			t.Errorf("DecodeKey(%s) = %x, %v", enc.EncodeToString(key), got, err)
		}
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(key[:16])} {
		if _, err := store.DecodeKey(bad); !errors.Is(err, store.ErrSecretKey) {
			t.Errorf("DecodeKey(%q) = %v, want ErrSecretKey", bad, err)
		}
	}
	if _, err := store.Open(t.Context(), "", t.TempDir(), store.WithSecretKey([]byte("short"))); !errors.Is(err, store.ErrSecretKey) {
		t.Errorf("Open with a short key: %v", err)
	}
}
