package runtime

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// resources are what a loaded flow's nodes pool between requests: one HTTP
// client (its connections) for every http.request node, one database pool
// per datasource. They are made on first use and released by Flow.Close.
type resources struct {
	maxUpstreamBody int64 // Options.MaxUpstreamBody

	mu     sync.Mutex
	closed bool
	client *http.Client
	pools  map[string]*pgxpool.Pool
}

// httpClient returns the flow's HTTP client, made on first use.
func (r *resources) httpClient() *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client == nil {
		r.client = &http.Client{
			Transport: &http.Transport{
				Proxy: http.ProxyFromEnvironment,
				DialContext: (&net.Dialer{
					Timeout:   10 * time.Second,
					KeepAlive: 30 * time.Second,
				}).DialContext,
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
