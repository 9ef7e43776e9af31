package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/flowline/flowline/server"
	"github.com/flowline/flowline/store/storetest"
)

// browser is a signed-in designer: a cookie jar and the session's CSRF
// token, which it sends on unsafe calls unless told not to.
type browser struct {
	ts     *testServer
	client *http.Client
	csrf   string
}

func (ts *testServer) signIn(t *testing.T, name, password string) (*browser, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{ts: ts, client: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	status := b.call(t, "POST", "/api/v1/session", `{"name": "`+name+`", "password": "`+password+`"}`, &out)
	b.csrf = out.CSRF
	return b, status
}

func (b *browser) call(t *testing.T, method, path, body string, out any, header ...string) int {
	t.Helper()
	req := b.ts.apiRequest(t.Context(), method, path, body)
	req.Header.Del("Authorization")
	if b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// TestRoles: an admin makes users; a new user must change the one-time
// password first; a viewer reads but cannot save, publish or deploy; a
// cookie caller's unsafe calls need the CSRF token; the audit log records
// who did what and only an admin reads it.
func TestRoles(t *testing.T) {
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)
	ts.must(201, "POST", "/api/v1/users", `{"name": "vera", "role": "viewer", "password": "first-pass-123"}`, nil)
	ts.must(201, "POST", "/api/v1/users", `{"name": "ed", "role": "editor", "password": "first-pass-456"}`, nil)
	ts.must(400, "POST", "/api/v1/users", `{"name": "x", "role": "owner", "password": "first-pass-456"}`, nil)
	ts.must(400, "POST", "/api/v1/users", `{"name": "short", "role": "viewer", "password": "short"}`, nil)
	ts.must(409, "POST", "/api/v1/users", `{"name": "ed", "role": "viewer", "password": "first-pass-456"}`, nil)

	if _, status := ts.signIn(t, "vera", "wrong-password"); status != 401 {
		t.Fatalf("wrong password: %d", status)
	}
	if _, status := ts.signIn(t, "nobody", "first-pass-123"); status != 401 {
		t.Fatalf("unknown user: %d", status)
	}
	vera, status := ts.signIn(t, "vera", "first-pass-123")
	if status != 200 {
		t.Fatalf("sign-in: %d", status)
	}
	if got := vera.call(t, "GET", "/api/v1/flows", "", nil); got != 403 {
		t.Fatalf("before changing the one-time password: %d, want 403", got)
	}
	if got := vera.call(t, "POST", "/api/v1/session/password", `{"current": "first-pass-123", "new": "vera-own-pass-1"}`, nil); got != 204 {
		t.Fatalf("change password: %d", got)
	}
	if got := vera.call(t, "GET", "/api/v1/flows", "", nil); got != 401 {
		t.Fatalf("the old session after a password change: %d, want 401", got)
	}
	vera, status = ts.signIn(t, "vera", "vera-own-pass-1")
	if status != 200 {
		t.Fatalf("sign-in with the new password: %d", status)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/flows", "", 200},
		{"GET", "/api/v1/flows/hello-go", "", 200},
		{"POST", "/api/v1/flows/hello-go/validate", "", 200},
		{"POST", "/api/v1/flows", strings.Replace(helloGoFlow, "hello-go", "other", 1), 403},
		{"POST", "/api/v1/flows/hello-go/test", `{"request": {"method": "GET", "path": "/hello-go"}}`, 403},
		{"POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, 403},
		{"POST", "/api/v1/flows/hello-go/deployments", `{}`, 403},
		{"DELETE", "/api/v1/flows/hello-go", "", 403},
		{"GET", "/api/v1/users", "", 403},
		{"GET", "/api/v1/audit", "", 403},
	} {
		if got := vera.call(t, c.method, c.path, c.body, nil); got != c.want {
			t.Errorf("viewer %s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}

	ed, _ := ts.signIn(t, "ed", "first-pass-456")
	ed.call(t, "POST", "/api/v1/session/password", `{"current": "first-pass-456", "new": "ed-own-pass-12"}`, nil)
	ed, _ = ts.signIn(t, "ed", "ed-own-pass-12")
	if got := ed.call(t, "POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, nil, "X-CSRF-Token", ""); got != 403 {
		t.Fatalf("publish without the CSRF token: %d, want 403", got)
	}
	if got := ed.call(t, "POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, nil, "X-CSRF-Token", "forged"); got != 403 {
		t.Fatalf("publish with a wrong CSRF token: %d, want 403", got)
	}
	if got := ed.call(t, "POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, nil); got != 201 {
		t.Fatalf("editor publish: %d", got)
	}
	if got := ed.call(t, "GET", "/api/v1/users", "", nil); got != 403 {
		t.Fatalf("editor lists users: %d", got)
	}

	// An editor's API token acts as the editor, until it is revoked.
	var tok struct {
		ID, Token string
	}
	if got := ed.call(t, "POST", "/api/v1/tokens", `{"name": "ci"}`, &tok); got != 201 || !strings.HasPrefix(tok.Token, "flt_") {
		t.Fatalf("create token: %d %+v", got, tok)
	}
	ts.must(201, "POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, nil, "Authorization", "Bearer "+tok.Token)
	ts.must(403, "GET", "/api/v1/users", nil, nil, "Authorization", "Bearer "+tok.Token)
	var toks []map[string]any
	ts.must(200, "GET", "/api/v1/tokens", nil, &toks, "Authorization", "Bearer "+tok.Token)
	if len(toks) != 1 || toks[0]["token"] != nil || strings.Contains(string(ts.must(200, "GET", "/api/v1/tokens?all=1", nil, nil)), tok.Token) {
		t.Fatalf("token listing shows the secret or the wrong tokens: %v", toks)
	}
	ts.must(204, "DELETE", "/api/v1/tokens/"+tok.ID, nil, nil, "Authorization", "Bearer "+tok.Token)
	ts.must(401, "GET", "/api/v1/flows", nil, nil, "Authorization", "Bearer "+tok.Token)

	// A disabled user is signed out at once.
	ts.must(200, "PATCH", "/api/v1/users/ed", `{"disabled": true}`, nil)
	if got := ed.call(t, "GET", "/api/v1/flows", "", nil); got != 401 {
		t.Fatalf("disabled user: %d, want 401", got)
	}
	if got := vera.call(t, "DELETE", "/api/v1/session", "", nil); got != 204 {
		t.Fatalf("sign out: %d", got)
	}
	if got := vera.call(t, "GET", "/api/v1/flows", "", nil); got != 401 {
		t.Fatalf("after signing out: %d", got)
	}

	var audit []struct{ Actor, Action, Target, Detail string }
	ts.must(200, "GET", "/api/v1/audit", nil, &audit)
	var seen []string
	for _, e := range audit {
		seen = append(seen, e.Actor+" "+e.Action+" "+e.Target)
	}
	for _, want := range []string{"ed publish hello-go", "api-token user.create vera", "ed token.create ed", "api-token user.update ed", "anonymous login.failed vera"} {
		if !strings.Contains(strings.Join(seen, "\n"), want) {
			t.Errorf("audit log lacks %q:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

// TestFirstAdmin: at first start the admin named by the configuration is
// made; without one, "admin" with a one-time password printed once.
func TestFirstAdmin(t *testing.T) {
	ts := startWith(t, func(c *server.Config) {
		c.AdminUser, c.AdminPassword, c.APIToken = "root", "root-password-1", ""
	})
	b, status := ts.signIn(t, "root", "root-password-1")
	if status != 200 || b.call(t, "GET", "/api/v1/flows", "", nil) != 200 {
		t.Fatalf("configured admin: sign-in %d", status)
	}

	var logs bytes.Buffer
	url, dir := storetest.Database(t, "sqlite")
	cfg := server.Defaults()
	cfg.DatabaseURL, cfg.DataDir = url, dir
	s, err := server.New(t.Context(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.Close(t.Context())
	if !strings.Contains(logs.String(), `"user":"admin"`) || !strings.Contains(logs.String(), "one_time_password") {
		t.Fatalf("no one-time password printed:\n%s", logs.String())
	}
	logs.Reset()
	s, err = server.New(t.Context(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.Close(t.Context())
	if strings.Contains(logs.String(), "one_time_password") {
		t.Fatal("the one-time password is printed again at the second start")
	}
}

// TestSignInLimits: only failed sign-ins count against an address, so many
// users behind one proxy can sign in; past ten failures even the right
// password waits. A proxy that rewrites Host is same-site when the
// designer's public URL is configured.
func TestSignInLimits(t *testing.T) {
	ts := startWith(t, func(c *server.Config) {
		c.AdminUser, c.AdminPassword, c.URL = "root", "root-password-1", "https://flowline.example"
	})
	for i := range 12 {
		if _, status := ts.signIn(t, "root", "root-password-1"); status != 200 {
			t.Fatalf("sign-in %d: %d", i, status)
		}
	}
	// The budget refills (one attempt per 6 s), and on a busy machine ten
	// password checks can take long enough to earn some back: fail until
	// the limit answers, which must be soon after the tenth failure.
	failures := 0
	for ; failures < 20; failures++ {
		if _, status := ts.signIn(t, "root", "wrong-password"); status == 429 {
			break
		}
	}
	if failures < 10 || failures == 20 {
		t.Fatalf("the limit answered after %d failures, want 10 or a few more", failures)
	}
	if _, status := ts.signIn(t, "root", "root-password-1"); status != 429 {
		t.Fatalf("after %d failures the right password got %d, want 429", failures, status)
	}
	ts.must(200, "GET", "/api/v1/flows", nil, nil, "Origin", "https://flowline.example")
	ts.must(403, "GET", "/api/v1/flows", nil, nil, "Origin", "https://evil.example")
}
