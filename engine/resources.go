package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowline/flowline/engine/egress"
)

// resources are what a loaded flow's nodes pool between requests: one HTTP
// client (its connections) for every http.request node, one database pool
// per datasource. They are made on first use and released by Flow.Close.
type resources struct {
	maxUpstreamBody int64          // Options.MaxUpstreamBody
	egress          *egress.Policy // Options.Egress; nil is the default policy
	// resolver and dial stand in for DNS and the network in tests, so
	// that the policy can meet any address without a packet leaving
	// the loopback interface; nil in every flow that serves.
	resolver egress.Resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)

	mu     sync.Mutex
	closed bool
	client *http.Client
	pools  map[string]*pgxpool.Pool
}

// httpClient returns the flow's HTTP client, made on first use. Every
// connection it makes passes the egress policy at dial time (each redirect
// and each new connection is a new dial), and no proxy from the
// environment stands between: a proxy would make the dial to itself, not
// to the destination the policy must judge.
func (r *resources) httpClient() *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		policy := r.egress
		r.client = &http.Client{
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= maxRedirects {
					return fmt.Errorf("stopped after %d redirects", maxRedirects)
				}
				// The dial checks the location in any case; checking
				// here too says in the message that a redirect led there.
				if err := policy.CheckURL(req.URL); err != nil {
					return fmt.Errorf("redirected: %w", err)
				}
				return nil
			},
			Transport: &http.Transport{
				Proxy:                 nil,
				DialContext:           (&egress.Dialer{Policy: policy, Resolver: r.resolver, Dial: r.dial}).DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          256,
				MaxIdleConnsPerHost:   64,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
		}
	}
	return r.client
}

// maxRedirects is how many redirects one attempt follows, as net/http's
// default does.
const maxRedirects = 10

// isRefused reports whether err is the egress policy's refusal.
func isRefused(err error) bool {
	var re *egress.RefusedError
	return errors.As(err, &re)
}

// close releases the connections and pools. A flow is closed once it no
// longer serves, so nothing uses them afterwards.
func (r *resources) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	for _, p := range r.pools {
		p.Close()
	}
	r.pools = nil
}
