package jshost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/egress"
)

// A designer's test run executes in a process of its own, started by the
// server as a host in test-run mode: whatever the flow does (allocate
// without end, crash goja, spin), the control plane stays up. The server
// writes one TestRunJob as JSON to the child's stdin and reads one
// TestRunResult from its stdout; the child limits its own memory before it
// reads the job.

// DefaultTestRunMemory is the address-space limit of a test-run process.
// Go and goja reserve far more address space than they touch, so this is
// a backstop against runaway allocation, not a measure of use.
const DefaultTestRunMemory = 4 << 30

// TestRunJob is one test run, as the server hands it to a child process.
type TestRunJob struct {
	Files       map[string][]byte `json:"files"`
	Env         map[string]string `json:"env"`
	Datasources map[string]string `json:"datasources"`
	Deadline    time.Duration     `json:"deadline"`
	EgressAllow []string          `json:"egress_allow"`
	// Secrets are the values of Env that are secret (Options.Secrets):
	// the result shows them redacted.
	Secrets []string       `json:"secrets,omitempty"`
	Request TestRunRequest `json:"request"`
	// Pins are node outputs to use instead of running those nodes.
	Pins map[string]engine.Pin `json:"pins,omitempty"`
}

// TestRunRequest is the HTTP request a test run serves.
type TestRunRequest struct {
	Method string      `json:"method"`
	Target string      `json:"target"` // path and query
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// TestRunResult is what a test run gives: the answer as a client would
// see it, and the run's spans (with each node's input and output) and logs.
type TestRunResult struct {
	Status  int              `json:"status"`
	Header  http.Header      `json:"header"`
	Body    []byte           `json:"body"`
	TraceID string           `json:"trace_id"`
	Spans   []engine.Span    `json:"spans"`
	Logs    []engine.LogLine `json:"logs"`
	// Error is set, and nothing else, when the job could not run at all
	// (a bundle that does not load, say).
	Error string `json:"error,omitempty"`
}

// RunTestJob runs a job in this process, on the options o (the operator's
// limits) with the job's own. The child calls it; so may tests.
func RunTestJob(job *TestRunJob, o engine.Options, b Bindings) *TestRunResult {
	policy, err := egress.Parse(job.EgressAllow)
	if err != nil {
		return &TestRunResult{Error: err.Error()}
	}
	o.Env, o.Datasources, o.Egress, o.Deadline, o.Secrets, o.Pins = job.Env, job.Datasources, policy, job.Deadline, job.Secrets, job.Pins
	f, err := Load(job.Files, o, b)
	if err != nil {
		return &TestRunResult{Error: o.Redactor().String(fmt.Sprintf("load test bundle: %v", err))}
	}
	defer f.Close()
	r := job.Request
	hreq := httptest.NewRequest(r.Method, r.Target, bytes.NewReader(r.Body))
	for k, vs := range r.Header {
		hreq.Header[k] = vs
	}
	hreq.Host = "test.flowline.local"
	res := f.Serve(hreq, true)
	rec := httptest.NewRecorder()
	engine.WriteResponse(rec, hreq.Method == http.MethodHead, res.Trace, res.Response)
	return &TestRunResult{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes(),
		TraceID: res.Trace.ID, Spans: res.Spans, Logs: res.Logs}
}

// TestRunMain is a host process in test-run mode: it limits its memory,
// reads a job from in, runs it and writes the result to out.
func TestRunMain(in io.Reader, out io.Writer, getenv func(string) string, b Bindings) int {
	limit := int64(DefaultTestRunMemory)
	if s := getenv(contract.EnvTestRunMemory); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			fmt.Fprintf(out, `{"error": %q}`, contract.EnvTestRunMemory+" must be a positive number of bytes")
			return 2
		}
		limit = n
	}
	if err := limitAddressSpace(limit); err != nil {
		fmt.Fprintf(out, `{"error": %q}`, "limit memory: "+err.Error())
		return 1
	}
	var job TestRunJob
	if err := json.NewDecoder(in).Decode(&job); err != nil {
		fmt.Fprintf(out, `{"error": %q}`, "read test-run job: "+err.Error())
		return 2
	}
	o, err := engine.OptionsFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(out, `{"error": %q}`, "test-run environment: "+err.Error())
		return 2
	}
	res := RunTestJob(&job, o, b)
	data, err := json.Marshal(res)
	if err != nil {
		data, _ = json.Marshal(TestRunResult{Error: "encode test result: " + err.Error()})
	}
	if _, err := out.Write(data); err != nil {
		return 1
	}
	return 0
}
