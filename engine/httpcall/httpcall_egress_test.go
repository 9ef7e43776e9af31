package httpcall_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/httpcall"
)

// countingServer is a server on 127.0.0.1 that counts its requests and
// answers with the Host it was asked for; it stands in for the server's
// own API, which the default egress policy must keep flows away from.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"host": "`+r.Host+`", "secret": "the API's answer"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func hostPort(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// TestHTTPRequestEgress: a call to a loopback server fails by default,
// naming the address and the allow-list, without retries and without the
// server seeing a request; the allow-list opens it by address and port.
func TestHTTPRequestEgress(t *testing.T) {
	api, hits := countingServer(t, nil)
	port := api.URL[strings.LastIndex(api.URL, ":")+1:]
	get := httpCall(t, httpcall.Spec{Method: "GET", Retries: 3})
	call := func(o engine.Options, url string, headers ...[2]any) enginetest.NodeRun {
		return enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return get.Do(x, url, headers, nil) })
	}
	refused := func(name string, r enginetest.NodeRun, addr, reason string) {
		t.Helper()
		var ne *engine.NodeError
		if r.Err == nil || !errors.As(r.Err, &ne) || ne.Kind != engine.KindUpstream || r.Res.Response.Status != 502 {
			t.Fatalf("%s: %v, status %d; want a 502", name, r.Err, r.Res.Response.Status)
		}
		msg := r.Err.Error()
		for _, want := range []string{"the egress policy refuses " + addr, reason, `add "` + addr + `"`, "egress allow-list"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", name, msg, want)
			}
		}
		if strings.Contains(msg, "secret") {
			t.Errorf("%s: the message shows the query: %q", name, msg)
		}
	}

	start := time.Now()
	refused("default", call(engine.Options{}, api.URL+"/api/v1/deployments?token=secret"), "127.0.0.1:"+port, "a loopback address")
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a refusal took %v: it must not be retried", d)
	}
	refused("IPv4-mapped", call(engine.Options{}, "http://[::ffff:127.0.0.1]:"+port+"/"), "127.0.0.1:"+port, "a loopback address")
	refused("unspecified", call(engine.Options{}, "http://0.0.0.0:"+port+"/"), "0.0.0.0:"+port, "an unspecified address")
	// localhost resolves to 127.0.0.1, ::1 or both: the first refused is named.
	if r := call(engine.Options{}, "http://localhost:"+port+"/"); r.Err == nil || r.Res.Response.Status != 502 ||
		!strings.Contains(r.Err.Error(), ":"+port+" (a loopback address)") {
		t.Errorf("localhost: %v", r.Err)
	}
	refused("other port", call(engine.Options{Egress: mustPolicy("127.0.0.1:1")}, api.URL+"/"), "127.0.0.1:"+port, "a loopback address")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server saw %d requests while the policy refused them", n)
	}

	for _, allow := range []string{"127.0.0.1:" + port, "127.0.0.1", "127.0.0.0/8", "::ffff:127.0.0.1"} {
		r := call(engine.Options{Egress: mustPolicy(allow)}, api.URL+"/api/v1/deployments")
		if r.Err != nil || r.Out.(map[string]any)["status"] != 200 {
			t.Errorf("allowed by %q: %v %v", allow, r.Out, r.Err)
		}
	}
	r := call(engine.Options{Egress: mustPolicy("127.0.0.1:" + port)}, "http://[::ffff:127.0.0.1]:"+port+"/")
	if r.Err != nil {
		t.Errorf("an IPv4-mapped URL of an allowed address: %v", r.Err)
	}
	r = call(engine.Options{Egress: mustPolicy("localhost:" + port)}, "http://localhost:"+port+"/")
	if r.Err != nil {
		t.Errorf("allowed by name: %v", r.Err)
	}
	if hits.Load() == 0 {
		t.Fatal("no allowed call reached the server")
	}
}

// TestHTTPRequestEgressRedirects: a redirect is a new destination, checked
// like the first: from an allowed server to a refused one fails the node
// (whether the location is an address or a name), and is not retried.
func TestHTTPRequestEgressRedirects(t *testing.T) {
	target, targetHits := countingServer(t, nil)
	var to string
	from, fromHits := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			_, _ = io.WriteString(w, "here")
			return
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	o := engine.Options{Egress: mustPolicy(hostPort(from))}
	get := httpCall(t, httpcall.Spec{Method: "GET", Retries: 3})
	call := func(location string) enginetest.NodeRun {
		to = location
		fromHits.Store(0)
		return enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return get.Do(x, from.URL+"/go", nil, nil) })
	}
	port := target.URL[strings.LastIndex(target.URL, ":")+1:]
	for _, location := range []string{target.URL + "/api/v1/deployments", "http://localhost:" + port + "/x", "http://169.254.169.254/latest/meta-data/"} {
		r := call(location)
		if r.Err == nil || r.Res.Response.Status != 502 || !strings.Contains(r.Err.Error(), "the egress policy refuses") {
			t.Errorf("redirect to %s: %v, status %d; want a refusal", location, r.Err, r.Res.Response.Status)
		}
		if n := fromHits.Load(); n != 1 {
			t.Errorf("redirect to %s: the allowed server saw %d requests; a refusal is not retried", location, n)
		}
	}
	if r := call(target.URL + "/x"); r.Err == nil || !strings.Contains(r.Err.Error(), "redirected: the egress policy refuses 127.0.0.1:"+port) {
		t.Errorf("the message should say a redirect led there: %v", r.Err)
	}
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("the refused server saw %d requests", n)
	}
	// Redirects within what is allowed are followed.
	if r := call(from.URL + "/final"); r.Err != nil || r.Out.(map[string]any)["body"] != "here" {
		t.Errorf("redirect within the allow-list: %v %v", r.Out, r.Err)
	}
}

// TestHTTPRequestEgressHost: a Host header that names another host goes
// only to a destination the allow-list names; one that names the URL's
// own host is harmless.
func TestHTTPRequestEgressHost(t *testing.T) {
	api, _ := countingServer(t, nil)
	get := httpCall(t, httpcall.Spec{Method: "GET"})
	call := func(o engine.Options, host string) enginetest.NodeRun {
		return enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) {
			return get.Do(x, api.URL+"/", [][2]any{{"Host", host}}, nil)
		})
	}
	r := call(engine.Options{Egress: mustPolicy(hostPort(api))}, "admin.internal")
	if r.Err != nil || r.Out.(map[string]any)["body"].(map[string]any)["host"] != "admin.internal" {
		t.Errorf("a listed destination gets the Host header: %v %v", r.Out, r.Err)
	}
	r = call(engine.Options{Egress: mustPolicy(hostPort(api))}, "127.0.0.1")
	if r.Err != nil || r.Out.(map[string]any)["body"].(map[string]any)["host"] != "127.0.0.1" {
		t.Errorf("a Host header naming the URL's host: %v %v", r.Out, r.Err)
	}
	if r := call(engine.Options{}, "localhost"); r.Err == nil || r.Res.Response.Status != 502 {
		t.Errorf("default policy: %v", r.Err)
	}
}

func TestOptionsFromEnvEgress(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == contract.EnvEgressAllow {
				return v
			}
			return ""
		}
	}
	o, err := engine.OptionsFromEnv(env(`["127.0.0.1:9000", "10.1.2.0/24", "Billing.Internal:8443"]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Egress.Entries(), " "); got != "127.0.0.1:9000 10.1.2.0/24 billing.internal:8443" {
		t.Errorf("entries %q", got)
	}
	if o, err := engine.OptionsFromEnv(env("")); err != nil || o.Egress != nil {
		t.Errorf("unset: %v %v", o.Egress, err)
	}
	for _, bad := range []string{`"127.0.0.1"`, `[1]`, `["http://x"]`} {
		if _, err := engine.OptionsFromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), contract.EnvEgressAllow) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
