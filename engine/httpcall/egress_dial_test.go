package httpcall_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/engine/httpcall"
)

// These tests give a flow's HTTP client a fake DNS and a dial function
// that fails the test when asked for any address off 127.0.0.0/8, so that
// the egress policy meets private and metadata addresses through the whole
// client (transport, redirects, pooling) without a packet leaving the
// loopback interface.

type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][]string // name -> the answer of each lookup in turn (the last one repeats)
	n       map[string]int
}

func (d *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	as := d.answers[host]
	if len(as) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(d.n[host], len(as)-1)
	d.n[host]++
	return []netip.Addr{netip.MustParseAddr(as[i])}, nil
}

// loopbackDial connects to 127.0.0.0/8 only; anything else fails the test.
func loopbackDial(t *testing.T) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !netip.MustParsePrefix("127.0.0.0/8").Contains(ap.Addr()) {
			t.Errorf("the flow's client was about to connect to %s %s, off the loopback range", network, address)
			return nil, errors.New("test: no connections off loopback")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
}

// egressFlow is a flow whose node calc makes one call through the flow's
// client, given a fake DNS and a dial function.
type egressFlow struct {
	*engine.Flow
	call    *httpcall.Call
	url     string
	headers [][2]any
	out     map[string]any
	err     error
}

func newEgressFlow(t *testing.T, dns *fakeDNS, dial func(ctx context.Context, network, address string) (net.Conn, error), allow ...string) *egressFlow {
	t.Helper()
	p, err := egress.Parse(allow)
	if err != nil {
		t.Fatal(err)
	}
	ef := &egressFlow{}
	m := engine.Manifest{Flow: "t", Version: 1, Target: "go", Method: "GET", Path: "/t",
		Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "calc", Type: "http.request"}, {ID: "done", Type: "response"}}}
	o := engine.Options{Egress: p, Dial: dial}
	if dns != nil {
		o.Resolver = dns
	}
	ef.Flow, err = engine.New(m, engine.ProgramFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("calc")
		ef.out, ef.err = ef.call.Do(x, ef.url, ef.headers, nil)
		if ef.err != nil {
			x.Fail(ef.err, false)
			return
		}
		x.End(ef.out, "out")
		x.Begin("done")
		x.Respond(200, nil, nil)
	}), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ef.Close)
	return ef
}

// callOnce serves one request in which node calc calls url with headers.
func (ef *egressFlow) callOnce(call *httpcall.Call, url string, headers [][2]any) (map[string]any, error) {
	ef.call, ef.url, ef.headers = call, url, headers
	ef.Serve(httptest.NewRequest("GET", "/t", nil), false)
	return ef.out, ef.err
}

// TestEgressRebinding: a name that resolved to an allowed address on one
// connection and to a private or metadata address on the next is refused
// on the next: every new connection resolves and checks again.
func TestEgressRebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close") // every call dials anew
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	f := newEgressFlow(t, &fakeDNS{answers: map[string][]string{"rebind.example": {"127.0.0.1", "10.0.0.7", "169.254.169.254"}}, n: map[string]int{}},
		loopbackDial(t), "127.0.0.1:"+port)
	call, _ := httpcall.New(httpcall.Spec{Method: "GET", Retries: 2})
	url := "http://rebind.example:" + port + "/"
	if out, err := f.callOnce(call, url, nil); err != nil || out["body"] != "ok" {
		t.Fatalf("first call: %v %v", out, err)
	}
	for _, want := range []string{"10.0.0.7:" + port + " (a private address)", "169.254.169.254:" + port + " (a link-local address"} {
		_, err := f.callOnce(call, url, nil)
		var re *egress.RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("after rebinding: %v, want a refusal of %s", err, want)
		}
	}
}

// TestEgressHostHeader: a Host header naming another host is refused
// before anything is dialled when the URL's host is not on the list, and
// sent when it is.
func TestEgressHostHeader(t *testing.T) {
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	call, _ := httpcall.New(httpcall.Spec{Method: "GET"})

	// A public name, allowed without a list: the Host header is refused
	// and nothing is dialled (the dial function would fail the test).
	f := newEgressFlow(t, &fakeDNS{answers: map[string][]string{"api.example.com": {"93.184.216.34"}}, n: map[string]int{}}, loopbackDial(t))
	_, err := f.callOnce(call, "http://api.example.com/x", [][2]any{{"Host", "admin.internal"}})
	if err == nil || !strings.Contains(err.Error(), "Host header") || !strings.Contains(err.Error(), "api.example.com:80") {
		t.Errorf("Host override on an unlisted destination: %v", err)
	}

	// Listed by name: the Host header goes with the request.
	f = newEgressFlow(t, &fakeDNS{answers: map[string][]string{"api.example.com": {"127.0.0.1"}}, n: map[string]int{}}, loopbackDial(t), "api.example.com:"+port)
	if out, err := f.callOnce(call, "http://api.example.com:"+port+"/x", [][2]any{{"Host", "admin.internal"}}); err != nil || out["body"] != "ok" || gotHost != "admin.internal" {
		t.Errorf("Host override on a listed destination: %v %v, host %q", out, err, gotHost)
	}
}

// TestEgressNoEnvironmentProxy: HTTP_PROXY and its kin are not used, so a
// proxy cannot make the connection the policy should have judged.
func TestEgressNoEnvironmentProxy(t *testing.T) {
	f := newEgressFlow(t, nil, loopbackDial(t))
	client, err := httpcall.Client(f.Flow)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := client.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Fatalf("the flow's transport uses a proxy function (%T)", client.Transport)
	}
	if client.CheckRedirect == nil {
		t.Fatal("redirects are not checked")
	}
}
