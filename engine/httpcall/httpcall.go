// Package httpcall is the http.request node's runtime: the request sent
// with the flow's trace, under the egress policy, retried where it is safe,
// and its answer read within the flow's limits.
package httpcall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"time"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/flow"
)

// http.request limits and defaults.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeoutMS   = 300_000 // 5 minutes; the request's deadline usually ends a call sooner
	MaxRetries     = 10

	retryBase = 100 * time.Millisecond
	retryCap  = 2 * time.Second
)

// Methods are the methods an http.request node may use.
var Methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// RetryMethods are the methods an http.request node may retry: the
// idempotent ones FLOW-FORMAT.md names.
var RetryMethods = []string{"GET", "HEAD", "PUT", "DELETE"}

// Spec is an http.request node's fixed settings.
type Spec struct {
	Method    string `json:"method"`
	TimeoutMS int    `json:"timeout_ms,omitempty"` // 0 means DefaultTimeout
	Retries   int    `json:"retries,omitempty"`
}

// Check reports what is wrong with the settings, field by field.
func (s Spec) Check() map[string]string {
	probs := map[string]string{}
	if !slices.Contains(Methods, s.Method) {
		probs["method"] = fmt.Sprintf("method %q must be one of %s", s.Method, strings.Join(Methods, ", "))
	}
	if s.TimeoutMS < 0 || s.TimeoutMS > MaxTimeoutMS {
		probs["timeout_ms"] = fmt.Sprintf("timeout_ms %d must be between 1 and %d (0 or absent means %d)", s.TimeoutMS, MaxTimeoutMS, DefaultTimeout.Milliseconds())
	}
	// Retries on a method that is never retried are allowed and have no
	// effect (FLOW-FORMAT.md); validation warns about them.
	if s.Retries < 0 || s.Retries > MaxRetries {
		probs["retries"] = fmt.Sprintf("retries %d must be between 0 and %d", s.Retries, MaxRetries)
	}
	return probs
}

// Call is a prepared http.request node.
type Call struct {
	method  string
	timeout time.Duration
	retries int
}

// New prepares an http.request node from its settings.
func New(s Spec) (*Call, error) {
	if probs := s.Check(); len(probs) > 0 {
		return nil, fmt.Errorf("http.request: %s", engine.JoinProblems(probs))
	}
	c := &Call{method: s.Method, timeout: DefaultTimeout}
	if slices.Contains(RetryMethods, s.Method) {
		c.retries = s.Retries // on other methods, retries have no effect
	}
	if s.TimeoutMS > 0 {
		c.timeout = time.Duration(s.TimeoutMS) * time.Millisecond
	}
	return c, nil
}

// Call runs the node with its url, headers and body (engine.Call).
func (c *Call) Call(x *engine.Exec, args []any) (any, string, error) {
	out, err := c.Do(x, engine.Arg(args, 0), engine.Pairs(engine.Arg(args, 1)), engine.Arg(args, 2))
	if err != nil {
		return nil, "", err
	}
	return out, flow.PortOut, nil
}

// Do runs an http.request node: it sends the request (retrying
// when the node allows it) and returns {"status", "headers", "body"}. A
// non-2xx status is an output like any other. Network failures, timeouts,
// a body over the limit and a body that declares JSON but does not parse
// are upstream failures (502 when unhandled); a url, header or body the
// node's expressions gave that cannot be sent is a node failure (500).
func (c *Call) Do(x *engine.Exec, url any, headers [][2]any, body any) (map[string]any, error) {
	rawURL, ok := url.(string)
	if !ok {
		return nil, fmt.Errorf("url must give a string, not %s", engine.Describe(url))
	}
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("url %q does not parse: %w", redactRawURL(rawURL), errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "":
		return nil, fmt.Errorf("url must be an http:// or https:// URL, not %s:", u.Scheme)
	case u.Scheme == "" || u.Host == "":
		return nil, errors.New("url must be absolute: http:// or https://, then a host")
	}
	var payload []byte
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		payload, contentType = []byte(b), "text/plain; charset=utf-8"
	default:
		if payload, err = engine.MarshalJSON(b); err != nil {
			return nil, fmt.Errorf("body cannot be sent as JSON: %w", err)
		}
		contentType = "application/json"
	}
	h := make(http.Header, len(headers)+3)
	host := ""
	for _, kv := range headers {
		if kv[1] == nil {
			continue
		}
		name, value := engine.String(kv[0]), engine.String(kv[1])
		if !validHeaderValue(value) {
			return nil, fmt.Errorf("header %s: the value holds a line break or control character", name)
		}
		if strings.EqualFold(name, "Host") {
			host = value
			continue
		}
		h.Add(name, value)
	}
	if contentType != "" && h.Get("Content-Type") == "" {
		h["Content-Type"] = []string{contentType}
	}
	if h.Get("User-Agent") == "" {
		h["User-Agent"] = flowlineUserAgent
	}
	h.Set("Traceparent", x.Trace.Traceparent(x.SpanID()))

	// The egress policy, once what the node's expressions gave is known
	// to be sendable (a url, header or body that is not stays a 500). The
	// dial checks every address the host resolves to; checking the URL
	// here refuses an IP address or a metadata name without a DNS lookup.
	// A refusal is an upstream failure, and never retried.
	opts := x.Flow().Options()
	policy := opts.Egress
	if err := policy.CheckURL(u); err != nil {
		return nil, engine.Upstream(fmt.Errorf("%s %s: %w", c.method, redactURL(u), err))
	}
	// A Host header does not change where the request goes, but an
	// ingress or proxy at that address may route by it, to hosts the
	// policy never saw. So it is sent only to destinations the allow-list
	// names (docs/palette.md).
	if host != "" && !sameHost(host, u) && !policy.Listed(u) {
		return nil, engine.Upstream(fmt.Errorf("%s %s: %w", c.method, redactURL(u), &egress.RefusedError{
			Addr:   net.JoinHostPort(u.Hostname(), urlPort(u)),
			Reason: "a Host header that names another host is sent only to destinations on the allow-list",
		}))
	}

	// One request is prepared for all attempts; each attempt sends a
	// shallow copy with its own context and, when there is a payload, a
	// fresh reader over it. Nothing that sends a request changes its URL
	// or header, so the copies share them.
	var reqBody io.Reader
	if payload != nil {
		reqBody = bytes.NewReader(payload)
	}
	tmpl, err := http.NewRequestWithContext(context.Background(), c.method, u.String(), reqBody)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.method, redactURL(u), err)
	}
	tmpl.Header = h
	if host != "" {
		tmpl.Host = host
	}

	client, err := Client(x.Flow())
	if err != nil {
		return nil, err
	}
	limit := opts.MaxUpstreamBody
	for attempt := 0; ; attempt++ {
		out, retry, err := c.attempt(x, client, u, tmpl, attempt, limit)
		if x.Context().Err() != nil {
			return nil, &engine.NodeError{Kind: engine.KindDeadline, Err: fmt.Errorf("%s %s: the request's deadline passed", c.method, redactURL(u))}
		}
		if !retry || attempt >= c.retries {
			return out, err
		}
		wait := backoff(attempt)
		if dl, ok := x.Context().Deadline(); ok && time.Until(dl) <= wait {
			return out, err // a retry would run into the deadline
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-x.Context().Done():
			t.Stop()
			return nil, &engine.NodeError{Kind: engine.KindDeadline, Err: fmt.Errorf("%s %s: the request's deadline passed", c.method, redactURL(u))}
		}
	}
}

// flowlineUserAgent is the User-Agent sent when the flow sets none; the
// transport only reads it.
var flowlineUserAgent = []string{"Flowline"}

// httpAttempt sends the request once. retry says whether the outcome is
// one that may be retried: a network failure or timeout, or 502/503/504.
func (c *Call) attempt(x *engine.Exec, client *http.Client, u *neturl.URL, tmpl *http.Request, attempt int, limit int64) (out map[string]any, retry bool, err error) {
	// The attempt is bounded by the node's timeout and by the request's
	// deadline. When the request's deadline comes first, it alone bounds
	// the attempt and no context of its own is needed.
	ctx := x.Context()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req := tmpl.WithContext(ctx)
	if attempt > 0 && tmpl.GetBody != nil {
		if req.Body, err = tmpl.GetBody(); err != nil {
			return nil, false, fmt.Errorf("%s %s: %w", c.method, redactURL(u), err)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		// A refusal is the same on every attempt: not retried.
		return nil, !isRefused(err), engine.Upstream(c.networkError(x, ctx, u, err))
	}
	defer resp.Body.Close()
	retry = resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout
	if resp.ContentLength > limit {
		return nil, false, engine.Upstream(fmt.Errorf("%s %s: the response body of %d bytes is over the limit of %d bytes", c.method, redactURL(u), resp.ContentLength, limit))
	}
	// The body is read into a pooled buffer; what the output keeps is
	// copied out of it (a string, or what engine.DecodeJSON makes).
	bp := engine.ReadBuffers.Get().(*[]byte)
	length := resp.ContentLength
	if length > maxPooledBody {
		length = -1 // grow as the body arrives, as io.ReadAll does
	}
	data, err := engine.ReadAll((*bp)[:0], io.LimitReader(resp.Body, limit+1), length, limit)
	defer func() {
		if cap(data) <= maxPooledBody {
			*bp = data[:0]
			engine.ReadBuffers.Put(bp)
		}
	}()
	if err != nil {
		return nil, true, engine.Upstream(c.networkError(x, ctx, u, err))
	}
	if int64(len(data)) > limit {
		return nil, false, engine.Upstream(fmt.Errorf("%s %s: the response body is over the limit of %d bytes", c.method, redactURL(u), limit))
	}
	headers := make(map[string]any, len(resp.Header))
	for k, vs := range resp.Header {
		if len(vs) > 0 {
			headers[lowerHeaderName(k)] = vs[0]
		}
	}
	var value any
	if len(data) > 0 {
		if isJSONResponse(resp.Header["Content-Type"]) {
			if value, err = engine.DecodeJSON(data); err != nil {
				return nil, retry, engine.Upstream(fmt.Errorf("%s %s: the response declares JSON but does not parse: %v", c.method, redactURL(u), err))
			}
		} else {
			value = string(data)
		}
	}
	out = make(map[string]any, 3)
	out["status"] = resp.StatusCode
	out["headers"] = headers
	out["body"] = value
	return out, retry, nil
}

// maxPooledBody is the largest response buffer kept for reuse.
const maxPooledBody = 64 << 10

// isJSONResponse is engine.IsJSONContentType for a response's Content-Type
// values, without parsing the common forms: "application/json" followed
// by parameters is JSON whether or not the parameters parse.
func isJSONResponse(vs []string) bool {
	if len(vs) == 0 {
		return false
	}
	ct := vs[0]
	if ct == "application/json" || strings.HasPrefix(ct, "application/json;") {
		return true
	}
	return engine.IsJSONContentType(ct)
}

// commonHeaderNames are the lower-case forms of the header names
// responses usually carry, so that the output's headers map need not
// make them anew for every response.
var commonHeaderNames = func() map[string]string {
	names := []string{"Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
		"Age", "Allow", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding",
		"Content-Language", "Content-Length", "Content-Location", "Content-Range", "Content-Security-Policy",
		"Content-Type", "Date", "Etag", "Expires", "Keep-Alive", "Last-Modified", "Link", "Location",
		"Pragma", "Retry-After", "Server", "Set-Cookie", "Strict-Transport-Security", "Traceparent",
		"Transfer-Encoding", "Vary", "Via", "Www-Authenticate", "X-Content-Type-Options", "X-Frame-Options",
		"X-Request-Id", "X-Trace-Id", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// lowerHeaderName is strings.ToLower(name), without allocating for the
// common names or for names already in lower case.
func lowerHeaderName(name string) string {
	if l, ok := commonHeaderNames[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// networkError says what went wrong without the URL's query, which may
// hold credentials and ends up in responses.
func (c *Call) networkError(x *engine.Exec, ctx context.Context, u *neturl.URL, err error) error {
	if ctx.Err() != nil && x.Context().Err() == nil {
		return fmt.Errorf("%s %s: timed out after %v", c.method, redactURL(u), c.timeout)
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", c.method, redactURL(u), err)
}

// backoff is the wait before retry n+1: exponential from retryBase, capped
// at retryCap, with the upper half jittered.
func backoff(n int) time.Duration {
	d := retryCap
	if n < 10 {
		d = min(retryBase<<n, retryCap)
	}
	return d/2 + rand.N(d/2+1)
}

// redactURL is u for messages, which unhandled failures send to the
// client: its path only. The host (often an internal one), the user
// information and the query (which may hold credentials) stay out.
func redactURL(u *neturl.URL) string {
	r := neturl.URL{Path: u.Path, RawPath: u.RawPath}
	if p := r.String(); p != "" {
		return p
	}
	return "/"
}

func redactRawURL(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			s = s[:j+3] + "…" + s[i:]
		}
	}
	return s
}

// sameHost reports whether a Host header names the URL's own host (its
// port aside).
func sameHost(header string, u *neturl.URL) bool {
	h := header
	if hh, _, err := net.SplitHostPort(header); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), ".")
	return strings.EqualFold(h, strings.TrimSuffix(u.Hostname(), "."))
}

// urlPort is the URL's port, or its scheme's default.
func urlPort(u *neturl.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters other than tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// clientKey is the flow resource of the HTTP client.
type clientKey struct{}

// client is a flow's HTTP client; the flow closes its idle connections.
type client struct{ *http.Client }

func (c client) Close() { c.CloseIdleConnections() }

// Client returns the flow's HTTP client, made on first use: one for every
// http.request node of the flow, so that they share connections. Every
// connection it makes passes the egress policy at dial time (each
// redirect and each new connection is a new dial), and no proxy from the
// environment stands between: a proxy would make the dial to itself, not
// to the destination the policy must judge.
func Client(f *engine.Flow) (*http.Client, error) {
	v, err := f.Resource(clientKey{}, func() (any, error) {
		o := f.Options()
		policy := o.Egress
		return client{&http.Client{
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
				DialContext:           (&egress.Dialer{Policy: policy, Resolver: o.Resolver, Dial: o.Dial}).DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          256,
				MaxIdleConnsPerHost:   64,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
		}}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(client).Client, nil
}

// maxRedirects is how many redirects one attempt follows, as net/http's
// default does.
const maxRedirects = 10

// isRefused reports whether err is the egress policy's refusal.
func isRefused(err error) bool {
	var re *egress.RefusedError
	return errors.As(err, &re)
}
