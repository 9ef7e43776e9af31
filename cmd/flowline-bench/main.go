// Command flowline-bench measures published flows against hand-written Go
// net/http handlers doing the same work, with wrk on 127.0.0.1, and writes
// the results to BENCHMARKS.md. `make bench` runs it.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
	"github.com/flowline/flowline/server"
	"github.com/flowline/flowline/server/gateway"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	flowline    string
	duration    time.Duration
	connections int
	threads     int
	out         string
	workloads   string
	targets     string
	cold        bool
	starts      int
	rounds      int
}

// handEnv asks the bench binary to serve one workload's hand-written
// handler and print its address: the hand-written side runs as a process
// of its own, as the bundles do.
const handEnv = "FLOWLINE_BENCH_HAND"

func run(args []string, stdout, stderr io.Writer) int {
	if name := os.Getenv(handEnv); name != "" {
		return serveHand(name, os.Getenv("FLOWLINE_BENCH_UPSTREAM"), stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("flowline-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.flowline, "flowline", "bin/flowline", "the flowline binary instances run as")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "wrk duration per measurement")
	fs.IntVar(&o.connections, "connections", 32, "wrk connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "where to write the report")
	fs.StringVar(&o.workloads, "workloads", "W1,W2,W3", "workloads to run")
	fs.StringVar(&o.targets, "targets", "js,go", "bundle targets to compare with the hand-written handler")
	fs.BoolVar(&o.cold, "cold", true, "also measure publish-to-first-200 of a Go bundle with an empty build cache (slow)")
	fs.IntVar(&o.starts, "starts", 10, "instance starts to time per target")
	fs.IntVar(&o.rounds, "rounds", 1, "measurements of each row, interleaved; the report shows the median")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Fprintln(stderr, "flowline-bench: wrk not found; install it (apt-get install wrk)")
		return 1
	}
	exe, err := filepath.Abs(o.flowline)
	if err != nil {
		fmt.Fprintln(stderr, "flowline-bench:", err)
		return 1
	}
	rep, err := bench(context.Background(), o, exe, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "flowline-bench:", err)
		return 1
	}
	if err := os.WriteFile(o.out, []byte(rep), 0o644); err != nil {
		fmt.Fprintln(stderr, "flowline-bench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", o.out)
	return 0
}

// result is one wrk measurement.
type result struct {
	workload, impl, via string
	rps                 float64
	requests            float64 // served during the measurement
	p50, p99            time.Duration
	cpu                 time.Duration // server CPU per request: this process, plus the instance's
	errors              string
}

// timing is a measured duration of the publish and start path.
type timing struct {
	what   string
	target string
	d      time.Duration
	note   string
}

func bench(ctx context.Context, o options, exe string, log io.Writer) (string, error) {
	dir, err := os.MkdirTemp("", "flowline-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	stub := conformance.NewStub()
	defer stub.Close()

	cfg := server.Defaults()
	cfg.Addr, cfg.GatewayAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.HostCommand = []string{exe, "host"}
	cfg.HostEnv = []string{"FLOWLINE_LOG_LEVEL=warn"}
	cfg.GoCommand = os.Getenv(server.EnvGo) // Go bundles are built with it (default: go on PATH)
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	if err := srv.Start(ctx); err != nil {
		return "", err
	}
	defer srv.Close(context.Background())
	api := "http://" + srv.APIAddr()

	// The hand-written handlers run behind a gateway of the same code,
	// so both sides pay the same proxy hop.
	// Configured and served as the server's own (server.New): metrics on,
	// the same body limit and timeouts.
	hgw, err := gateway.New(gateway.Config{MaxBodyBytes: cfg.MaxBody, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", err
	}
	hgwLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go gateway.NewServer("", hgw).Serve(hgwLn)
	var hroutes []gateway.Route

	reg := nodes.Registry()
	var results []result
	var timings []timing
	var notes []string
	bundles := map[string]string{} // target -> bundle directory of a W1 deployment
	for _, w := range workloads(stub.URL) {
		if !strings.Contains(","+o.workloads+",", ","+w.name+",") {
			continue
		}
		if missing := w.missing(reg); len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("%s skipped: node types not built yet: %s", w.name, strings.Join(missing, ", ")))
			continue
		}
		// What to measure: the hand-written handler and each target's
		// bundle, each served directly and behind the gateway. The
		// bundles run side by side, each flow under a path prefix of its
		// own (/js, /go), so that the rounds can interleave.
		type subject struct {
			impl, direct, gw string
			pid              int // the instance, for its CPU time
			w                workload
		}
		addr, hand, err := startHand(w.name, stub.URL)
		if err != nil {
			return "", err
		}
		hroutes = append(hroutes, gateway.Route{DeploymentID: w.name, Flow: w.name, Method: w.method, Path: w.route,
			Backends: func() []string { return []string{addr} }})
		if err := hgw.SetRoutes(hroutes); err != nil {
			return "", err
		}
		subjects := []subject{{impl: "hand-written Go", direct: "http://" + addr, gw: "http://" + hgwLn.Addr().String(), pid: hand.Process.Pid, w: w}}
		var deployed []string
		for _, target := range strings.Split(o.targets, ",") {
			tw := w.prefixed("/" + target)
			inst, id, pid, err := deployFlow(api, tw, target)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s %s: %v", w.name, target, err))
				continue
			}
			deployed = append(deployed, id)
			if bundles[target] == "" {
				// Keep a copy of the bundle (where the server writes it) to time instance starts.
				keep := filepath.Join(dir, "kept", target)
				if err := os.CopyFS(keep, os.DirFS(filepath.Join(dir, "bundles", id))); err == nil {
					bundles[target] = keep
				}
			}
			subjects = append(subjects, subject{impl: target + " bundle", direct: "http://" + inst, gw: srv.GatewayURL(), pid: pid, w: tw})
		}
		runs := map[string][]result{}
		var order []string
		for round := 0; round < o.rounds; round++ {
			for _, sub := range subjects {
				for _, via := range []struct{ name, base string }{{"direct", sub.direct}, {"gateway", sub.gw}} {
					before := serverCPU(sub.pid)
					r, err := wrk(ctx, o, sub.w, via.base)
					if err != nil {
						return "", err
					}
					if n := r.requests; n > 0 && before >= 0 {
						if after := serverCPU(sub.pid); after >= before {
							r.cpu = time.Duration(float64(after-before) / n)
						}
					}
					r.workload, r.impl, r.via = w.name, sub.impl, via.name
					fmt.Fprintf(log, "%s %-16s %-8s %10.0f req/s  p50 %v  p99 %v  cpu/req %v\n", r.workload, r.impl, r.via, r.rps, r.p50, r.p99, r.cpu)
					key := sub.impl + "|" + via.name
					if runs[key] == nil {
						order = append(order, key)
					}
					runs[key] = append(runs[key], r)
				}
			}
		}
		for _, key := range order {
			results = append(results, medianResult(runs[key]))
		}
		_ = hand.Process.Kill()
		_ = hand.Wait()
		for _, id := range deployed {
			if err := del(api + "/api/v1/deployments/" + id); err != nil {
				return "", err
			}
		}
	}

	// Publish to first 200, and instance start to ready.
	for _, target := range strings.Split(o.targets, ",") {
		d, err := publishTo200(api, srv.GatewayURL(), target, "warm")
		if err != nil {
			notes = append(notes, fmt.Sprintf("publish-to-200 %s: %v", target, err))
		} else {
			timings = append(timings, timing{what: "publish to first 200", target: target, d: d, note: noteFor(target, "warm")})
			fmt.Fprintf(log, "publish to first 200, %s (%s): %v\n", target, noteFor(target, "warm"), d)
		}
	}
	if o.cold && strings.Contains(","+o.targets+",", ",go,") {
		d, err := coldPublish(api, srv.GatewayURL())
		if err != nil {
			notes = append(notes, fmt.Sprintf("publish-to-200 go, cold: %v", err))
		} else {
			timings = append(timings, timing{what: "publish to first 200", target: "go", d: d, note: noteFor("go", "cold")})
			fmt.Fprintf(log, "publish to first 200, go (%s): %v\n", noteFor("go", "cold"), d)
		}
	}
	for _, target := range strings.Split(o.targets, ",") {
		if bundles[target] == "" {
			continue
		}
		argv := []string{exe, "host"}
		if target == "go" {
			argv = []string{filepath.Join(bundles[target], "flow")}
		}
		listen, ready, err := startToReady(argv, bundles[target], o.starts)
		if err != nil {
			notes = append(notes, fmt.Sprintf("start-to-ready %s: %v", target, err))
			continue
		}
		timings = append(timings,
			timing{what: "instance start to listening line", target: target, d: listen, note: fmt.Sprintf("median of %d starts", o.starts)},
			timing{what: "instance start to /readyz 200", target: target, d: ready, note: fmt.Sprintf("median of %d starts", o.starts)})
		fmt.Fprintf(log, "start to ready, %s: listening %v, ready %v\n", target, listen, ready)
	}
	return report(o, results, timings, notes), nil
}

// startHand runs this binary as the server of a workload's hand-written
// handler and returns its address.
func startHand(workload, upstream string) (string, *exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), handEnv+"="+workload, "FLOWLINE_BENCH_UPSTREAM="+upstream)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", nil, fmt.Errorf("hand-written %s: %w", workload, err)
	}
	return strings.TrimSpace(line), cmd, nil
}

// serveHand serves a workload's hand-written handler on a bare net/http
// server until killed.
func serveHand(name, upstream string, stdout, stderr io.Writer) int {
	for _, w := range workloads(upstream) {
		if w.name != name {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, ln.Addr().String())
		if err := http.Serve(ln, w.handler); err != nil {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	fmt.Fprintf(stderr, "no workload %s\n", name)
	return 2
}

// medianResult is the run with the median throughput.
func medianResult(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int { return cmp.Compare(a.rps, b.rps) })
	return s[len(s)/2]
}

func noteFor(target, cache string) string {
	if target != "go" {
		return "generate only; no build"
	}
	if cache == "cold" {
		return "empty build cache: the runtime and its dependencies compile"
	}
	return "warm build cache: main package and link"
}

var helloSeq int

// publishTo200 creates a hello flow on a route of its own and times its
// publish, deploy and first 200 through the gateway.
func publishTo200(api, gatewayURL, target, label string) (time.Duration, error) {
	helloSeq++
	name := fmt.Sprintf("p2r-%s-%s-%d", target, label, helloSeq)
	path := "/" + name
	doc := map[string]any{"version": 1, "name": name,
		"nodes": []any{
			map[string]any{"id": "start", "type": "trigger.http", "config": map[string]any{"method": "GET", "path": path}},
			map[string]any{"id": "done", "type": "response", "config": map[string]any{"body": `{"message": "hello"}`}},
		},
		"edges": []any{map[string]any{"from": "start", "to": "done"}}}
	if _, err := post(api+"/api/v1/flows", doc); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := post(api+"/api/v1/flows/"+name+"/versions", map[string]any{"target": target}); err != nil {
		return 0, err
	}
	if _, err := post(api+"/api/v1/flows/"+name+"/deployments", map[string]any{}); err != nil {
		return 0, err
	}
	deadline := start.Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(gatewayURL + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s never answered 200", path)
}

// coldPublish is publishTo200 for target go with an empty build cache: the
// server's go command inherits this process's GOCACHE.
func coldPublish(api, gatewayURL string) (time.Duration, error) {
	cache, err := os.MkdirTemp("", "flowline-bench-gocache-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(cache)
	old, had := os.LookupEnv("GOCACHE")
	os.Setenv("GOCACHE", cache)
	defer func() {
		if had {
			os.Setenv("GOCACHE", old)
		} else {
			os.Unsetenv("GOCACHE")
		}
	}()
	return publishTo200(api, gatewayURL, "go", "cold")
}

// startToReady starts an instance of the bundle in dir n times and returns
// the medians of the time to its listening line and to its first /readyz 200.
func startToReady(argv []string, dir string, n int) (listen, ready time.Duration, err error) {
	var ls, rs []time.Duration
	for range n {
		l, r, err := startOnce(argv, dir)
		if err != nil {
			return 0, 0, err
		}
		ls, rs = append(ls, l), append(rs, r)
	}
	return median(ls), median(rs), nil
}

func startOnce(argv []string, dir string) (listen, ready time.Duration, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "FLOWLINE_BUNDLE_DIR="+dir, "FLOWLINE_LISTEN=127.0.0.1:0", "FLOWLINE_FLOW_ENV={}")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	addr := ""
	for sc.Scan() {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" {
			addr = l.Addr
			break
		}
	}
	if addr == "" {
		return 0, 0, fmt.Errorf("%s: no listening line", argv[0])
	}
	listen = time.Since(start)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	client := &http.Client{Timeout: time.Second}
	for time.Since(start) < 30*time.Second {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return listen, time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, 0, fmt.Errorf("%s: not ready in 30s", argv[0])
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// deployFlow creates, publishes and deploys a workload's flow and returns
// the address of its instance once it serves, the deployment's id and the
// instance's process id.
func deployFlow(api string, w workload, target string) (addr, id string, pid int, err error) {
	var doc map[string]any
	_ = json.Unmarshal(w.flow, &doc)
	name := fmt.Sprintf("%s-%s", strings.ToLower(w.name), target)
	doc["name"] = name
	if _, err := post(api+"/api/v1/flows", doc); err != nil {
		return "", "", 0, err
	}
	if _, err := post(api+"/api/v1/flows/"+name+"/versions", map[string]any{"target": target}); err != nil {
		return "", "", 0, err
	}
	out, err := post(api+"/api/v1/flows/"+name+"/deployments", map[string]any{"env": w.env, "egress": map[string]any{"allow": w.egress}})
	if err != nil {
		return "", "", 0, err
	}
	var d struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(out, &d)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(api + "/api/v1/deployments/" + d.ID)
		if err == nil {
			var st struct {
				Status    string `json:"status"`
				Instances []struct {
					Addr  string `json:"addr"`
					State string `json:"state"`
					PID   int    `json:"pid"`
				} `json:"instances"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Status == "running" {
				for _, in := range st.Instances {
					if in.State == "ready" {
						return in.Addr, d.ID, in.PID, nil
					}
				}
			}
			if st.Status == "failed" {
				return "", "", 0, fmt.Errorf("deployment failed")
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", "", 0, fmt.Errorf("deployment not running in time")
}

// serverCPU is the CPU time used so far by this process (the hand-written
// handlers, the server, the gateways) and by the instance pid when not 0,
// or -1 when it cannot be read (only Linux's /proc is read).
func serverCPU(pid int) time.Duration {
	total := time.Duration(0)
	for _, p := range []string{"self", strconv.Itoa(pid)} {
		if p == "0" {
			continue
		}
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			return -1
		}
		// Fields after the command name (which may hold spaces): utime and
		// stime are the 12th and 13th, in clock ticks of 1/100 s.
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			return -1
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+s) * 10 * time.Millisecond
	}
	return total
}

func del(url string) error {
	req, _ := http.NewRequest("DELETE", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("DELETE %s: %d", url, resp.StatusCode)
	}
	return nil
}

func post(url string, v any) ([]byte, error) {
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, out)
	}
	return out, nil
}

var (
	rpsRE     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	totalRE   = regexp.MustCompile(`(\d+) requests in`)
	pctRE     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	nonOKRE   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	socketsRE = regexp.MustCompile(`Socket errors: .*`)
)

// wrk measures one workload at base. It first checks that the answer is the
// expected one, so a broken endpoint cannot post a fast number.
func wrk(ctx context.Context, o options, w workload, base string) (result, error) {
	r := result{workload: w.name}
	// The gateway may take a moment to route to a new deployment.
	for wait := time.Now().Add(10 * time.Second); ; {
		req, _ := http.NewRequest(w.method, base+w.path, strings.NewReader(w.body))
		if w.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return r, fmt.Errorf("%s at %s: %w", w.name, base, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && strings.Contains(string(got), w.expect) {
			break
		}
		if time.Now().After(wait) {
			return r, fmt.Errorf("%s at %s answered %d %s, want %s", w.name, base, resp.StatusCode, got, w.expect)
		}
		time.Sleep(20 * time.Millisecond)
	}
	script, err := os.CreateTemp("", "wrk-*.lua")
	if err != nil {
		return r, err
	}
	defer os.Remove(script.Name())
	fmt.Fprintf(script, "wrk.method = %q\n", w.method)
	if w.body != "" {
		fmt.Fprintf(script, "wrk.body = [==[%s]==]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", w.body)
	}
	script.Close()
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections),
		"-d", o.duration.String(), "--latency", "-s", script.Name(), base+w.path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return r, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if m := rpsRE.FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := totalRE.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	for _, m := range pctRE.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		d := time.Duration(v * float64(map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[3])]))
		if string(m[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := nonOKRE.FindSubmatch(out); m != nil {
		r.errors = string(m[1]) + " non-2xx"
	}
	if m := socketsRE.Find(out); m != nil {
		r.errors = strings.TrimSpace(r.errors + " " + string(m))
	}
	return r, nil
}

func report(o options, results []result, timings []timing, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (cmd/flowline-bench) on %s. wrk on 127.0.0.1, %d threads, %d connections, %s per measurement, all rows in one run on one machine (the load generator shares its cores with what it measures, so ratios matter more than absolute numbers). Each row is the median of %d interleaved measurements; the bundles of a workload run side by side, each under a path prefix of its own (/js, /go).\n\n",
		time.Now().UTC().Format("2006-01-02"), o.threads, o.connections, o.duration, o.rounds)
	b.WriteString("- W1: `GET /hello?name=` returning a greeting.\n- W2: conformance case 03's order transform (`POST /orders`).\n- W3: conformance case 08's two upstream calls to a local stub.\n\n" +
		"The hand-written handlers (cmd/flowline-bench/handlers.go) do the same work as the flows, trace id included, " +
		"served by a bare net/http server in a process of their own, as an instance is; the bundles also answer /healthz, " +
		"/readyz and /metrics, count every request and set read timeouts. \"gateway\" rows go through the same gateway " +
		"code, configured as the server's, in front of both. Server CPU per request is the CPU time of the serving " +
		"process plus the bench process (gateways, stub upstream) over the requests served.\n\n")
	b.WriteString("| workload | implementation | served | req/s | p50 | p99 | ratio to hand-written (same path) | server CPU per request | errors |\n|---|---|---|---:|---:|---:|---:|---:|---|\n")
	base := map[string]float64{}
	for _, r := range results {
		if r.impl == "hand-written Go" {
			base[r.workload+r.via] = r.rps
		}
	}
	for _, r := range results {
		ratio := "1.00"
		if r.impl != "hand-written Go" && base[r.workload+r.via] > 0 {
			ratio = fmt.Sprintf("%.2f", r.rps/base[r.workload+r.via])
		}
		cpu := ""
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.1fµs", float64(r.cpu.Nanoseconds())/1000)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %s× | %s | %s |\n", r.workload, r.impl, r.via, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), ratio, cpu, r.errors)
	}
	if len(timings) > 0 {
		b.WriteString("\n## Publish and start\n\n| what | target | time | how |\n|---|---|---:|---|\n")
		for _, t := range timings {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.what, t.target, t.d.Round(time.Millisecond/10), t.note)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	b.WriteString("\n")
	return b.String()
}
