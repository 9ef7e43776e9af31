//go:build unix

package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/server/gateway"
)

// waitTimeout bounds every wait for a state; it is generous because the
// race detector slows process start-up.
const waitTimeout = 60 * time.Second

func newSupervisor(t *testing.T, modify func(*Config)) *Supervisor {
	t.Helper()
	cfg := Config{
		Command:        []string{os.Args[0]},
		Env:            []string{envFake + "=1"},
		Logger:         slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		ReadyTimeout:   30 * time.Second,
		StopTimeout:    10 * time.Second,
		BackoffMin:     10 * time.Millisecond,
		BackoffMax:     200 * time.Millisecond,
		ReadyPoll:      20 * time.Millisecond,
		HealthInterval: 200 * time.Millisecond,
	}
	if modify != nil {
		modify(&cfg)
	}
	s := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func spec(t *testing.T, id string, env map[string]string) deploy.Spec {
	return deploy.Spec{
		ID: id, Flow: "hello", Version: 1, Method: "GET", Path: "/work",
		BundleDir: t.TempDir(), Env: env,
	}
}

func mustDeploy(t *testing.T, s *Supervisor, sp deploy.Spec) {
	t.Helper()
	if err := s.Deploy(context.Background(), sp); err != nil {
		t.Fatalf("deploy: %v", err)
	}
}

// waitStatus polls the status until ok accepts it.
func waitStatus(t *testing.T, s *Supervisor, id, what string, ok func(deploy.Status) bool) deploy.Status {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st, err := s.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s; status: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allUp(n int) func(deploy.Status) bool {
	return func(st deploy.Status) bool {
		if st.State != deploy.StateRunning || len(st.Instances) != n {
			return false
		}
		for _, in := range st.Instances {
			if in.State != deploy.InstanceReady {
				return false
			}
		}
		return true
	}
}

type workReply struct {
	Instance    string   `json:"instance"`
	Deployment  string   `json:"deployment"`
	BundleDir   string   `json:"bundle_dir"`
	Deadline    string   `json:"deadline"`
	SecretsFile string   `json:"secrets_file"`
	Environ     []string `json:"environ"`
	Egress      string   `json:"egress"`
	Version     string   `json:"version"`
	PID         int      `json:"pid"`
}

func work(t *testing.T, url, traceID string) (int, workReply) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if traceID != "" {
		req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, workReply{}
	}
	defer resp.Body.Close()
	var w workReply
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &w); err != nil {
			t.Errorf("GET %s: %q: %v", url, body, err)
		}
	}
	return resp.StatusCode, w
}

func TestStartAndServe(t *testing.T) {
	s := newSupervisor(t, nil)
	sp := spec(t, "d1", nil)
	sp.Datasources = map[string]string{"main": "postgres://app:ds-password@db/x"}
	sp.Secrets = map[string]string{"API_KEY": "sk-secret-value"}
	sp.Env = map[string]string{"MODE": "plain", "FAKE_LEAK": "1"}
	sp.Deadline = 5 * time.Second
	sp.EgressAllow = []string{"10.1.2.0/24", "billing.internal:8443"}
	mustDeploy(t, s, sp)

	st := waitStatus(t, s, "d1", "running", allUp(1))
	in := st.Instances[0]
	if in.ID != "d1-1" || in.PID <= 0 || in.Addr == "" || in.StartedAt.IsZero() {
		t.Errorf("instance %+v", in)
	}
	if b := s.Backends("d1"); !slices.Equal(b, []string{in.Addr}) {
		t.Errorf("backends %v, want [%s]", b, in.Addr)
	}
	code, w := work(t, "http://"+in.Addr+"/work", "")
	if code != 200 || w.Instance != "d1-1" || w.Deployment != "d1" || w.PID != in.PID || w.Deadline != "5s" {
		t.Errorf("work: %d %+v", code, w)
	}
	if w.BundleDir != sp.BundleDir || w.Egress != `["10.1.2.0/24","billing.internal:8443"]` {
		t.Errorf("instance env: bundle %q egress %q", w.BundleDir, w.Egress)
	}
	// Secrets reach the instance in a file only it (the server's user)
	// may read, never in its environment.
	if w.SecretsFile != filepath.Join(sp.BundleDir, contract.SecretsFileName) {
		t.Errorf("secrets file %q, want %s in the bundle directory", w.SecretsFile, contract.SecretsFileName)
	}
	environ := strings.Join(w.Environ, "\n")
	if strings.Contains(environ, "sk-secret-value") || strings.Contains(environ, "ds-password") || !strings.Contains(environ, `"MODE":"plain"`) {
		t.Errorf("instance environment:\n%s", environ)
	}
	fi, err := os.Stat(w.SecretsFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v, %v", fi, err)
	}
	var secrets struct{ Env, Datasources map[string]string }
	if b, err := os.ReadFile(w.SecretsFile); err != nil || json.Unmarshal(b, &secrets) != nil ||
		secrets.Env["API_KEY"] != "sk-secret-value" || secrets.Datasources["main"] != sp.Datasources["main"] {
		t.Errorf("secrets file holds %+v (%v)", secrets, err)
	}
	// What an instance prints is redacted even when the runtime did not.
	var lines []deploy.LogLine
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(20 * time.Millisecond) {
		lines, _ = s.Logs(context.Background(), "d1", deploy.LogFilter{})
		if slices.ContainsFunc(lines, func(l deploy.LogLine) bool { return strings.Contains(l.Message, "leaking") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the leaking line was never logged: %+v", lines)
		}
	}
	for _, l := range lines {
		if strings.Contains(l.Message, "sk-secret-value") || strings.Contains(l.Message, "ds-password") {
			t.Errorf("log line shows a secret: %+v", l)
		}
	}

	if _, err := s.Status(context.Background(), "nope"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("status of unknown id: %v", err)
	}
	if err := s.Stop(context.Background(), "nope"); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("stop of unknown id: %v", err)
	}
	if _, err := s.Logs(context.Background(), "nope", deploy.LogFilter{}); !errors.Is(err, deploy.ErrNotFound) {
		t.Errorf("logs of unknown id: %v", err)
	}

	// Stopped, the deployment leaves no secret on disk.
	if err := s.Stop(context.Background(), "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.SecretsFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("secrets file after stop: %v", err)
	}
}

func TestDeployRefusesBadSpecs(t *testing.T) {
	s := newSupervisor(t, nil)
	for _, sp := range []deploy.Spec{
		{ID: "", BundleDir: t.TempDir()},
		{ID: "a b", BundleDir: t.TempDir()},
		{ID: "ok", BundleDir: filepath.Join(t.TempDir(), "missing")},
		{ID: "ok"},
		{ID: "ok", BundleDir: t.TempDir(), Scaling: deploy.Scaling{Min: 3, Max: 2}},
	} {
		if err := s.Deploy(context.Background(), sp); err == nil {
			t.Errorf("Deploy(%+v): no error", sp)
		}
	}
}

func TestTrafficOnlyAfterReady(t *testing.T) {
	s := newSupervisor(t, nil)
	readyFile := filepath.Join(t.TempDir(), "ready")
	mustDeploy(t, s, spec(t, "d2", map[string]string{"FAKE_READY_FILE": readyFile}))

	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.SetRoutes([]gateway.Route{{DeploymentID: "d2", Flow: "hello", Method: "GET", Path: "/work",
		Backends: func() []string { return s.Backends("d2") }}}); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	// Listening, but not ready: no traffic.
	st := waitStatus(t, s, "d2", "an address", func(st deploy.Status) bool {
		return len(st.Instances) == 1 && st.Instances[0].Addr != ""
	})
	if st.State != deploy.StatePending || st.Instances[0].State != deploy.InstanceStarting {
		t.Fatalf("status before ready: %+v", st)
	}
	if b := s.Backends("d2"); len(b) != 0 {
		t.Fatalf("backends before ready: %v", b)
	}
	if code, _ := work(t, front.URL+"/work", ""); code != http.StatusServiceUnavailable {
		t.Errorf("gateway before ready: %d, want 503", code)
	}

	if err := os.WriteFile(readyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "d2", "running", allUp(1))
	if code, w := work(t, front.URL+"/work", ""); code != 200 || w.Instance != "d2-1" {
		t.Errorf("gateway after ready: %d %+v", code, w)
	}
}

func TestScalingMin(t *testing.T) {
	s := newSupervisor(t, nil)
	sp := spec(t, "d3", nil)
	sp.Scaling = deploy.Scaling{Min: 3}
	mustDeploy(t, s, sp)
	st := waitStatus(t, s, "d3", "3 ready instances", allUp(3))
	pids, addrs, ids := map[int]bool{}, map[string]bool{}, map[string]bool{}
	for _, in := range st.Instances {
		pids[in.PID], addrs[in.Addr], ids[in.ID] = true, true, true
	}
	if len(pids) != 3 || len(addrs) != 3 || len(ids) != 3 {
		t.Errorf("instances not distinct: %+v", st.Instances)
	}
	if b := s.Backends("d3"); len(b) != 3 {
		t.Errorf("backends %v", b)
	}
}

func TestRestartAfterKill(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d4", nil))
	old := waitStatus(t, s, "d4", "running", allUp(1)).Instances[0]

	if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, s, "d4", "a restarted instance", func(st deploy.Status) bool {
		return allUp(1)(st) && st.Instances[0].PID != old.PID
	})
	in := st.Instances[0]
	if in.ID != old.ID || in.Restarts != 1 || !strings.Contains(in.LastError, "killed") {
		t.Errorf("restarted instance %+v", in)
	}
	if code, w := work(t, "http://"+in.Addr+"/work", ""); code != 200 || w.PID != in.PID {
		t.Errorf("work after restart: %d %+v", code, w)
	}
	lines, _ := s.Logs(context.Background(), "d4", deploy.LogFilter{Level: "error"})
	if !slices.ContainsFunc(lines, func(l deploy.LogLine) bool { return strings.Contains(l.Message, "restarting in") }) {
		t.Errorf("no crash line in the logs: %+v", lines)
	}
}

func TestCrashLoopAfterReadyKeepsRestarting(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d5", map[string]string{"FAKE_CRASH_AFTER": "1"}))
	for i := range 3 {
		st := waitStatus(t, s, "d5", "running", allUp(1))
		if st.Instances[0].Restarts != i {
			t.Fatalf("restarts %d, want %d", st.Instances[0].Restarts, i)
		}
		if code, _ := work(t, "http://"+st.Instances[0].Addr+"/work", ""); code != 200 {
			t.Fatalf("work: %d", code)
		}
		waitStatus(t, s, "d5", "the crash", func(st deploy.Status) bool { return st.Instances[0].Restarts == i+1 })
	}
	st := waitStatus(t, s, "d5", "running", allUp(1))
	if !strings.Contains(st.Instances[0].LastError, "fake crash") {
		t.Errorf("last error %q does not quote stderr", st.Instances[0].LastError)
	}
}

func TestStopDrains(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d6", nil))
	in := waitStatus(t, s, "d6", "running", allUp(1)).Instances[0]

	const trace = "0af7651916cd43dd8448eb211c80319c"
	type result struct {
		code int
		w    workReply
	}
	done := make(chan result, 1)
	go func() {
		code, w := work(t, "http://"+in.Addr+"/work?wait_for_term=1", trace)
		done <- result{code, w}
	}()
	waitLogs(t, s, "d6", deploy.LogFilter{TraceID: trace}, "work started")

	if err := s.Stop(context.Background(), "d6"); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != 200 || r.w.Instance != "d6-1" {
		t.Errorf("in-flight request during stop: %d %+v", r.code, r.w)
	}
	st, _ := s.Status(context.Background(), "d6")
	if st.State != deploy.StateStopped || len(st.Instances) != 1 || st.Instances[0].State != deploy.InstanceStopped {
		t.Errorf("status after stop: %+v", st)
	}
	if b := s.Backends("d6"); len(b) != 0 {
		t.Errorf("backends after stop: %v", b)
	}
	if err := syscall.Kill(in.PID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("instance process still there after stop: %v", err)
	}
	waitLogs(t, s, "d6", deploy.LogFilter{}, "stopped")

	// A stopped deployment can be deployed again.
	mustDeploy(t, s, spec(t, "d6", nil))
	st = waitStatus(t, s, "d6", "running again", allUp(1))
	if st.Instances[0].ID != "d6-2" {
		t.Errorf("redeployed instance %q", st.Instances[0].ID)
	}
}

func waitLogs(t *testing.T, s *Supervisor, id string, f deploy.LogFilter, msg string) []deploy.LogLine {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		lines, err := s.Logs(context.Background(), id, f)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(lines, func(l deploy.LogLine) bool { return strings.Contains(l.Message, msg) }) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q: %+v", msg, lines)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNeverReadyFails(t *testing.T) {
	s := newSupervisor(t, func(c *Config) {
		c.ReadyTimeout = 300 * time.Millisecond
		c.StartAttempts = 2
	})
	mustDeploy(t, s, spec(t, "d7", map[string]string{"FAKE_NEVER_READY": "1"}))
	st := waitStatus(t, s, "d7", "failed", func(st deploy.Status) bool { return st.State == deploy.StateFailed })
	if !strings.Contains(st.Message, "was not ready within 300ms") || !strings.Contains(st.Message, "2 times") {
		t.Errorf("message %q", st.Message)
	}
	if len(st.Instances) != 1 || st.Instances[0].State != deploy.InstanceCrashed || st.Instances[0].Restarts != 1 {
		t.Errorf("instances %+v", st.Instances)
	}
}

func TestFailingStartFails(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d8", map[string]string{"FAKE_FAIL_START": "1"}))
	st := waitStatus(t, s, "d8", "failed", func(st deploy.Status) bool { return st.State == deploy.StateFailed })
	if !strings.Contains(st.Message, "boom: cannot load bundle") || !strings.Contains(st.Message, "exit status 1") {
		t.Errorf("message %q", st.Message)
	}
}

func TestMissingCommandFails(t *testing.T) {
	s := newSupervisor(t, func(c *Config) { c.Command = []string{filepath.Join(t.TempDir(), "no-such-binary")} })
	mustDeploy(t, s, spec(t, "d9", nil))
	st := waitStatus(t, s, "d9", "failed", func(st deploy.Status) bool { return st.State == deploy.StateFailed })
	if !strings.Contains(st.Message, "could not start") {
		t.Errorf("message %q", st.Message)
	}
}

func TestLogs(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d10", nil))
	in := waitStatus(t, s, "d10", "running", allUp(1)).Instances[0]

	const t1, t2, t3 = "11111111111111111111111111111111", "22222222222222222222222222222222", "33333333333333333333333333333333"
	work(t, "http://"+in.Addr+"/work", t1)
	lines := waitLogs(t, s, "d10", deploy.LogFilter{TraceID: t1}, "work done")
	var msgs []string
	for _, l := range lines {
		if l.TraceID != t1 || l.Instance != "d10-1" || l.Node != "work" {
			t.Errorf("line %+v", l)
		}
		msgs = append(msgs, l.Level+" "+l.Message)
	}
	if want := []string{"debug work debug", "info work started", "warn work done status=200"}; !slices.Equal(msgs, want) {
		t.Errorf("trace lines %q, want %q", msgs, want)
	}

	since := time.Now()
	work(t, "http://"+in.Addr+"/work", t2)
	lines = waitLogs(t, s, "d10", deploy.LogFilter{Since: since, Level: "info"}, "work done")
	for _, l := range lines {
		if l.TraceID == t1 || l.Level == "debug" || l.Time.Before(since) {
			t.Errorf("line passed the filter: %+v", l)
		}
	}
	if _, err := s.Logs(context.Background(), "d10", deploy.LogFilter{Level: "loud"}); err == nil {
		t.Errorf("unknown level accepted")
	}

	// Plain output is kept as it is, stderr as errors.
	all, _ := s.Logs(context.Background(), "d10", deploy.LogFilter{})
	if !slices.ContainsFunc(all, func(l deploy.LogLine) bool { return l.Message == "a plain line on stdout" && l.Level == "info" }) ||
		!slices.ContainsFunc(all, func(l deploy.LogLine) bool { return l.Message == "a plain line on stderr" && l.Level == "error" }) ||
		!slices.ContainsFunc(all, func(l deploy.LogLine) bool { return strings.HasPrefix(l.Message, "listening addr=127.0.0.1:") }) {
		t.Errorf("plain lines or listening line missing: %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.Before(all[i-1].Time.Add(-time.Second)) {
			t.Errorf("lines out of order: %+v before %+v", all[i-1], all[i])
		}
	}

	// Follow.
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.FollowLogs(ctx, "d10", deploy.LogFilter{TraceID: t3, Level: "info"})
	if err != nil {
		t.Fatal(err)
	}
	work(t, "http://"+in.Addr+"/work", t3)
	var got []string
	timeout := time.After(waitTimeout)
	for len(got) < 2 {
		select {
		case l := <-ch:
			got = append(got, l.Message)
		case <-timeout:
			t.Fatalf("follow: got %q", got)
		}
	}
	if !slices.Equal(got, []string{"work started", "work done status=200"}) {
		t.Errorf("followed %q", got)
	}
	cancel()
	for range ch {
	}
}

func TestReplaceWithoutDroppingRequests(t *testing.T) {
	s := newSupervisor(t, nil)
	sp := spec(t, "d11", map[string]string{"FAKE_VERSION": "1"})
	sp.Scaling = deploy.Scaling{Min: 2}
	mustDeploy(t, s, sp)
	old := waitStatus(t, s, "d11", "running", allUp(2))

	gw, err := gateway.New(gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	routes := []gateway.Route{{DeploymentID: "d11", Flow: "hello", Method: "GET", Path: "/work",
		Backends: func() []string { return s.Backends("d11") }}}
	if err := gw.SetRoutes(routes); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(gw)
	defer front.Close()

	var (
		mu       sync.Mutex
		versions = map[string]int{}
		failures []string
		stop     = make(chan struct{})
		clients  sync.WaitGroup
	)
	for range 4 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(front.URL + "/work")
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					var w workReply
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || json.Unmarshal(body, &w) != nil {
						failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, body))
					}
					versions[w.Version]++
				}
				mu.Unlock()
			}
		}()
	}
	waitVersion := func(v string, n int) {
		deadline := time.Now().Add(waitTimeout)
		for {
			mu.Lock()
			got := versions[v]
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("version %s served %d requests, want %d", v, got, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitVersion("1", 20)

	sp2 := spec(t, "d11", map[string]string{"FAKE_VERSION": "2"})
	sp2.Version, sp2.Scaling = 2, deploy.Scaling{Min: 2}
	mustDeploy(t, s, sp2)
	st := waitStatus(t, s, "d11", "only the new instances", func(st deploy.Status) bool {
		return allUp(2)(st) && !slices.ContainsFunc(st.Instances, func(in deploy.Instance) bool {
			return in.ID == old.Instances[0].ID || in.ID == old.Instances[1].ID
		})
	})
	mu.Lock()
	n2 := versions["2"]
	mu.Unlock()
	waitVersion("2", n2+20)
	close(stop)
	clients.Wait()

	if len(failures) > 0 {
		t.Errorf("%d requests failed during the replacement, e.g. %q", len(failures), failures[0])
	}
	for _, in := range old.Instances {
		if err := syscall.Kill(in.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("old instance %s still running", in.ID)
		}
	}
	if st.Instances[0].ID != "d11-3" || st.Instances[1].ID != "d11-4" {
		t.Errorf("new instances %+v", st.Instances)
	}
	t.Logf("served: %v", versions)
}

func TestFailedReplacementKeepsOldVersion(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "d12", nil))
	old := waitStatus(t, s, "d12", "running", allUp(1)).Instances[0]

	bad := spec(t, "d12", map[string]string{"FAKE_FAIL_START": "1"})
	bad.Version = 2
	mustDeploy(t, s, bad)
	st := waitStatus(t, s, "d12", "the rollback", func(st deploy.Status) bool { return st.Message != "" && len(st.Instances) == 1 })
	if st.State != deploy.StateRunning || st.Instances[0].ID != old.ID || st.Instances[0].PID != old.PID ||
		!strings.Contains(st.Message, "version 2 failed to start") || !strings.Contains(st.Message, "cannot load bundle") {
		t.Errorf("status after failed replacement: %+v", st)
	}
	if b := s.Backends("d12"); !slices.Equal(b, []string{old.Addr}) {
		t.Errorf("backends %v", b)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	s := New(Config{Command: []string{os.Args[0]}, Env: []string{envFake + "=1"}, ReadyPoll: 20 * time.Millisecond})
	for _, id := range []string{"a", "b"} {
		sp := spec(t, id, nil)
		sp.Scaling.Min = 2
		mustDeploy(t, s, sp)
	}
	var pids []int
	for _, id := range []string{"a", "b"} {
		for _, in := range waitStatus(t, s, id, "running", allUp(2)).Instances {
			pids = append(pids, in.PID)
		}
	}
	changes, unsubscribe := s.Subscribe()
	defer unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d alive after close", pid)
		}
	}
	select {
	case <-changes:
	default:
		t.Errorf("no change notification")
	}
	if err := s.Deploy(context.Background(), spec(t, "c", nil)); err == nil {
		t.Errorf("deploy after close accepted")
	}
}

func TestFollowLogsEndsWithContext(t *testing.T) {
	s := newSupervisor(t, nil)
	mustDeploy(t, s, spec(t, "f1", nil))
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.FollowLogs(ctx, "f1", deploy.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range ch {
	}
}

func TestDeploySupersedesRollout(t *testing.T) {
	s := newSupervisor(t, nil)
	never := filepath.Join(t.TempDir(), "never")
	mustDeploy(t, s, spec(t, "r1", map[string]string{"FAKE_READY_FILE": never}))
	waitStatus(t, s, "r1", "an address", func(st deploy.Status) bool {
		return len(st.Instances) == 1 && st.Instances[0].Addr != ""
	})
	sp := spec(t, "r1", map[string]string{"FAKE_VERSION": "2"})
	sp.Version = 2
	mustDeploy(t, s, sp)
	st := waitStatus(t, s, "r1", "only the new instance", allUp(1))
	if st.Instances[0].ID != "r1-2" {
		t.Errorf("instances %+v", st.Instances)
	}
	if code, w := work(t, "http://"+st.Instances[0].Addr+"/work", ""); code != 200 || w.Version != "2" {
		t.Errorf("work: %d %+v", code, w)
	}
}

func TestStopDuringBackoff(t *testing.T) {
	s := newSupervisor(t, func(c *Config) { c.BackoffMin, c.BackoffMax = time.Hour, time.Hour })
	mustDeploy(t, s, spec(t, "b1", map[string]string{"FAKE_CRASH_AFTER": "1"}))
	in := waitStatus(t, s, "b1", "running", allUp(1)).Instances[0]
	work(t, "http://"+in.Addr+"/work", "")
	waitStatus(t, s, "b1", "the crash", func(st deploy.Status) bool { return st.Instances[0].State == deploy.InstanceCrashed })
	if err := s.Stop(context.Background(), "b1"); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status(context.Background(), "b1")
	if st.State != deploy.StateStopped || st.Instances[0].State != deploy.InstanceStopped {
		t.Errorf("status %+v", st)
	}
}

// TestForgetsOldStopped: past KeepStopped, the deployments stopped longest
// ago are forgotten with their logs; the newer stopped ones keep theirs.
func TestForgetsOldStopped(t *testing.T) {
	s := newSupervisor(t, func(c *Config) { c.KeepStopped = 1 })
	for _, id := range []string{"d1", "d2"} {
		mustDeploy(t, s, spec(t, id, nil))
		waitStatus(t, s, id, "running", allUp(1))
		if err := s.Stop(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Logs(t.Context(), "d1", deploy.LogFilter{}); !errors.Is(err, deploy.ErrNotFound) {
		t.Fatalf("logs of the oldest stopped deployment: %v, want ErrNotFound", err)
	}
	if lines, err := s.Logs(t.Context(), "d2", deploy.LogFilter{}); err != nil || len(lines) == 0 {
		t.Fatalf("logs of the newest stopped deployment: %d lines, %v", len(lines), err)
	}
}

// TestBaseEnv: user code never starts with the server's credentials: no
// database variables, no home directory whose files a client library reads.
func TestBaseEnv(t *testing.T) {
	t.Setenv("PGPASSWORD", "server-secret")
	t.Setenv("FLOWLINE_DATABASE_URL", "postgres://u:server-secret@db/x")
	t.Setenv("HOME", "/home/server")
	env := strings.Join(BaseEnv(), "\n")
	if strings.Contains(env, "server-secret") || strings.Contains(env, "HOME=") {
		t.Fatalf("base environment leaks the server's:\n%s", env)
	}
	if !strings.Contains(env, "PGPASSFILE="+os.DevNull) {
		t.Fatalf("PGPASSFILE does not point nowhere:\n%s", env)
	}
}
