package gateway

import (
	"net"
	"net/http"
	"time"
)

// Timeouts of the gateway's listener (see NewServer).
const (
	// ReadHeaderTimeout bounds the wait for a request's headers, against
	// clients that open connections and send nothing (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, body included. The
	// gateway reads bodies completely before proxying, so a slow upload
	// never ties up an instance; once the body is in, the handler lifts
	// this deadline for the time the instance takes.
	ReadTimeout = 30 * time.Second
	// IdleTimeout closes keep-alive connections idle for this long.
	IdleTimeout = 120 * time.Second
	// MaxHeaderBytes limits the size of request headers.
	MaxHeaderBytes = 64 << 10
)

// NewServer returns an http.Server for the gateway's own listener, with
// timeouts for slow or idle clients. It sets no WriteTimeout: deadlines
// differ per deployment, so the handler sets a write deadline on each
// proxied request from its route's deadline.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// NewTransport returns the transport the gateway proxies with: keep-alive
// connections pooled generously per instance, no proxy from the
// environment, and no transparent compression (bodies pass through as the
// instance sent them).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}
