// Package conformance reads the shared conformance cases and checks any way
// of running a flow against them: the test run, a JS bundle, a Go bundle.
// The cases live outside the repository (../shared/conformance), plus the
// project's own under internal/conformance/cases.
package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/flowline/flowline/flow"
)

// Case is one flow with the requests to send and what must come back.
type Case struct {
	File     string            `json:"-"`
	Name     string            `json:"name"`
	Env      map[string]string `json:"env"`
	SetupSQL []string          `json:"setup_sql"`
	Flow     json.RawMessage   `json:"flow"`
	Requests []Exchange        `json:"requests"`
	// ExtraEgress lists what the flow may call besides the stub upstream
	// (egress allow-list entries; the project's own cases only).
	ExtraEgress []string `json:"egress_allow"`
}

// Exchange is a request and its expectation.
type Exchange struct {
	Request Request `json:"request"`
	Expect  Expect  `json:"expect"`
}

// Request is a request as a case writes it.
type Request struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Query       map[string]any    `json:"query,omitempty"` // string or list of strings
	Headers     map[string]string `json:"headers,omitempty"`
	Body        json.RawMessage   `json:"body,omitempty"`
	RawBody     *string           `json:"raw_body,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
}

// Expect is what a response must be.
type Expect struct {
	Status  int             `json:"status"`
	Headers map[string]any  `json:"headers,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
	Text    *string         `json:"text,omitempty"`
	Logs    []any           `json:"logs,omitempty"`
}

// Invalid is a flow validation must refuse.
type Invalid struct {
	File         string          `json:"-"`
	Name         string          `json:"name"`
	Flow         json.RawMessage `json:"flow"`
	ExpectErrors []any           `json:"expect_errors"`
}

// SharedDir finds ../shared/conformance beside the repository, or the
// directory named by FLOWLINE_CONFORMANCE_DIR.
func SharedDir() (string, error) {
	if d := os.Getenv("FLOWLINE_CONFORMANCE_DIR"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "conformance")
			if _, err := os.Stat(shared); err != nil {
				return "", fmt.Errorf("conformance cases not found beside the repository (%s): %w", shared, err)
			}
			return shared, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance: no go.mod above the working directory")
		}
		dir = parent
	}
}

// OwnDir is the project's own cases, internal/conformance/cases in the repository.
func OwnDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "internal", "conformance"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance: no go.mod above the working directory")
		}
		dir = parent
	}
}

// All reads the shared cases, then the project's own.
func All() ([]Case, error) {
	shared, err := SharedDir()
	if err != nil {
		return nil, err
	}
	cases, err := LoadCases(shared)
	if err != nil {
		return nil, err
	}
	own, err := OwnDir()
	if err != nil {
		return nil, err
	}
	more, err := LoadCases(own)
	if err != nil {
		return nil, err
	}
	return append(cases, more...), nil
}

// LoadCases reads every case file of dir/cases.
func LoadCases(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "cases", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var cases []Case
	for _, f := range files {
		var c Case
		if err := readJSON(f, &c); err != nil {
			return nil, err
		}
		c.File = filepath.Base(f)
		cases = append(cases, c)
	}
	return cases, nil
}

// LoadInvalid reads every file of dir/invalid.
func LoadInvalid(dir string) ([]Invalid, error) {
	files, err := filepath.Glob(filepath.Join(dir, "invalid", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Invalid
	for _, f := range files {
		var c Invalid
		if err := readJSON(f, &c); err != nil {
			return nil, err
		}
		c.File = filepath.Base(f)
		out = append(out, c)
	}
	return out, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// NodeTypes lists the node types a case's flow uses.
func (c *Case) NodeTypes() []string {
	var d struct {
		Nodes []struct {
			Type string `json:"type"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal(c.Flow, &d)
	var types []string
	for _, n := range d.Nodes {
		types = append(types, n.Type)
	}
	return types
}

// Missing names the node types of the case that r does not know.
func (c *Case) Missing(r *flow.Registry) []string {
	var missing []string
	for _, t := range c.NodeTypes() {
		if _, ok := r.Lookup(t); !ok && !contains(missing, t) {
			missing = append(missing, t)
		}
	}
	return missing
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// HTTPRequest builds the request to send to base (a URL without trailing slash).
func (r Request) HTTPRequest(base string) (*http.Request, error) {
	target := base + r.Path
	if len(r.Query) > 0 {
		q := url.Values{}
		keys := make([]string, 0, len(r.Query))
		for k := range r.Query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch v := r.Query[k].(type) {
			case []any:
				for _, s := range v {
					q.Add(k, fmt.Sprint(s))
				}
			default:
				q.Add(k, fmt.Sprint(v))
			}
		}
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + q.Encode()
	}
	var body *strings.Reader
	contentType := ""
	switch {
	case r.RawBody != nil:
		body = strings.NewReader(*r.RawBody)
		contentType = r.ContentType
	case len(r.Body) > 0:
		body = strings.NewReader(string(r.Body))
		contentType = "application/json"
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(r.Method, target, body)
	} else {
		req, err = http.NewRequest(r.Method, target, nil)
	}
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// Response is what came back, in a form every runner can fill.
type Response struct {
	Status  int
	Headers http.Header
	Body    []byte
}

// LogLine is a log line as the API shows it.
type LogLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Node    string `json:"node"`
	TraceID string `json:"trace_id"`
}

var traceIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Check compares a response (and the logs of its trace) with an expectation
// and returns every difference.
func Check(e Expect, resp Response, logs []LogLine) []string {
	var diffs []string
	if resp.Status != e.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, want %d (body %s)", resp.Status, e.Status, truncate(resp.Body)))
	}
	traceID := resp.Headers.Get("X-Trace-Id")
	if !traceIDRE.MatchString(traceID) {
		diffs = append(diffs, fmt.Sprintf("X-Trace-Id %q is not 32 lower-case hex digits", traceID))
	}
	for name, want := range e.Headers {
		vals, ok := resp.Headers[http.CanonicalHeaderKey(name)]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("header %s missing", name))
			continue
		}
		if err := Match(want, vals[0]); err != nil {
			diffs = append(diffs, fmt.Sprintf("header %s: %v", name, err))
		}
	}
	if len(e.Body) > 0 {
		var want, got any
		_ = json.Unmarshal(e.Body, &want)
		if err := json.Unmarshal(resp.Body, &got); err != nil {
			diffs = append(diffs, fmt.Sprintf("body is not JSON: %s", truncate(resp.Body)))
		} else if err := Match(want, got); err != nil {
			diffs = append(diffs, fmt.Sprintf("body %s: %v", truncate(resp.Body), err))
		}
	}
	if e.Text != nil && string(resp.Body) != *e.Text {
		diffs = append(diffs, fmt.Sprintf("text %q, want %q", resp.Body, *e.Text))
	}
	if len(e.Logs) > 0 {
		if err := matchLogs(e.Logs, logs, traceID); err != nil {
			diffs = append(diffs, err.Error())
		}
	}
	return diffs
}

func matchLogs(want []any, got []LogLine, traceID string) error {
	i := 0
	for _, w := range want {
		found := false
		for ; i < len(got); i++ {
			g := got[i]
			if g.TraceID != traceID {
				continue
			}
			line := map[string]any{"level": g.Level, "message": g.Message, "node": g.Node, "trace_id": g.TraceID}
			if matchSubset(w, line) == nil {
				found = true
				i++
				break
			}
		}
		if !found {
			b, _ := json.Marshal(w)
			gb, _ := json.Marshal(got)
			return fmt.Errorf("log line %s not found in order among %s", b, gb)
		}
	}
	return nil
}

// matchSubset matches the keys want names, ignoring others in got.
func matchSubset(want any, got map[string]any) error {
	wm, ok := want.(map[string]any)
	if !ok {
		return errors.New("log expectation is not an object")
	}
	for k, w := range wm {
		if err := Match(w, got[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// Match compares a decoded JSON value with an expectation that may hold
// {"$match": regex} and {"$any": true}: objects must have exactly the keys
// given, arrays the same length and order, numbers compare by value.
func Match(want, got any) error {
	if m, ok := want.(map[string]any); ok && len(m) == 1 {
		if re, ok := m["$match"].(string); ok {
			s, isStr := got.(string)
			if !isStr {
				return fmt.Errorf("got %v, want a string matching %s", got, re)
			}
			ok, err := regexp.MatchString(re, s)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%q does not match %s", s, re)
			}
			return nil
		}
		if _, ok := m["$any"]; ok {
			if got == nil {
				return errors.New("got null, want any value")
			}
			return nil
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("got %s, want an object", jsonText(got))
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("unexpected key %q", k)
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("missing key %q", k)
			}
			if err := Match(wv, gv); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %s, want %s", jsonText(got), jsonText(want))
		}
		for i := range w {
			if err := Match(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	default:
		if jsonText(want) != jsonText(got) {
			return fmt.Errorf("got %s, want %s", jsonText(got), jsonText(want))
		}
	}
	return nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// CheckInvalid reports the expected problems that are not among got.
func CheckInvalid(c Invalid, got []flow.Problem) []string {
	var diffs []string
	for _, w := range c.ExpectErrors {
		found := false
		for _, p := range got {
			sev := flow.SeverityError
			if p.Warning() {
				sev = flow.SeverityWarning
			}
			m := map[string]any{"node": p.Node, "field": p.Field, "message": p.Message, "severity": string(sev)}
			if matchSubset(w, m) == nil {
				found = true
				break
			}
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("expected problem %s not reported; got %v", jsonText(w), got))
		}
	}
	return diffs
}

// Send sends r to base and reads the whole answer.
func Send(base string, r Request) (Response, error) {
	req, err := r.HTTPRequest(base)
	if err != nil {
		return Response{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Headers: resp.Header, Body: body}, nil
}

// EgressWith is the egress allow-list a run of the case needs: the stub
// upstream's host:port (it listens on 127.0.0.1, which http.request's
// default policy refuses) and the case's own egress_allow entries. Every
// runner passes it, as a deployment's or a test run's "egress": {"allow"},
// or as engine.Options.Egress.
func (c *Case) EgressWith(upstream string) []string {
	allow := []string{}
	if u, err := url.Parse(upstream); err == nil && u.Host != "" {
		allow = append(allow, u.Host)
	}
	return append(allow, c.ExtraEgress...)
}

// EnvWith is the case's env with UPSTREAM set to the stub upstream's URL.
func (c *Case) EnvWith(upstream string) map[string]string {
	env := map[string]string{"UPSTREAM": upstream}
	for k, v := range c.Env {
		env[k] = v
	}
	return env
}
