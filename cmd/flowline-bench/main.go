// Command flowline-bench measures published flows against hand-written Go
// net/http handlers doing the same work, with wrk on 127.0.0.1, and writes
// the results to BENCHMARKS.md. `make bench` runs it.
package main

import (
	"bytes"
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
	"strconv"
	"strings"
	"time"

	"github.com/flowline/flowline/conformance"
	"github.com/flowline/flowline/flow/nodes"
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
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("flowline-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.flowline, "flowline", "bin/flowline", "the flowline binary instances run as")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "wrk duration per measurement")
	fs.IntVar(&o.connections, "connections", 32, "wrk connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "where to write the report")
	fs.StringVar(&o.workloads, "workloads", "W1,W2,W3", "workloads to run")
	fs.StringVar(&o.targets, "targets", "js", "bundle targets to compare with the hand-written handler")
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
	p50, p99            time.Duration
	errors              string
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
	hgw, err := gateway.New(gateway.Config{})
	if err != nil {
		return "", err
	}
	hgwLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go http.Serve(hgwLn, hgw)
	var hroutes []gateway.Route

	reg := nodes.Registry()
	var results []result
	var notes []string
	for _, w := range workloads(stub.URL) {
		if !strings.Contains(","+o.workloads+",", ","+w.name+",") {
			continue
		}
		if missing := w.missing(reg); len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("%s skipped: node types not built yet: %s", w.name, strings.Join(missing, ", ")))
			continue
		}
		// Hand-written baseline, direct and behind the gateway.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		hs := &http.Server{Handler: w.handler}
		go hs.Serve(ln)
		addr := ln.Addr().String()
		hroutes = append(hroutes, gateway.Route{DeploymentID: w.name, Flow: w.name, Method: w.method, Path: w.route,
			Backends: func() []string { return []string{addr} }})
		if err := hgw.SetRoutes(hroutes); err != nil {
			return "", err
		}
		for _, via := range []struct{ name, base string }{{"direct", "http://" + addr}, {"gateway", "http://" + hgwLn.Addr().String()}} {
			r, err := wrk(ctx, o, w, via.base)
			if err != nil {
				return "", err
			}
			r.impl, r.via = "hand-written Go", via.name
			fmt.Fprintf(log, "%s %-16s %-8s %10.0f req/s  p50 %v  p99 %v\n", r.workload, r.impl, r.via, r.rps, r.p50, r.p99)
			results = append(results, r)
		}
		hs.Close()

		for _, target := range strings.Split(o.targets, ",") {
			inst, err := deployFlow(api, w, target)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s %s: %v", w.name, target, err))
				continue
			}
			for _, via := range []struct{ name, base string }{{"direct", "http://" + inst}, {"gateway", srv.GatewayURL()}} {
				r, err := wrk(ctx, o, w, via.base)
				if err != nil {
					return "", err
				}
				r.impl, r.via = target+" bundle", via.name
				fmt.Fprintf(log, "%s %-16s %-8s %10.0f req/s  p50 %v  p99 %v\n", r.workload, r.impl, r.via, r.rps, r.p50, r.p99)
				results = append(results, r)
			}
		}
	}
	return report(o, results, notes), nil
}

// deployFlow creates, publishes and deploys a workload's flow and returns
// the address of its instance once it serves.
func deployFlow(api string, w workload, target string) (string, error) {
	var doc map[string]any
	_ = json.Unmarshal(w.flow, &doc)
	name := fmt.Sprintf("%s-%s", strings.ToLower(w.name), target)
	doc["name"] = name
	if _, err := post(api+"/api/v1/flows", doc); err != nil {
		return "", err
	}
	if _, err := post(api+"/api/v1/flows/"+name+"/versions", map[string]any{"target": target}); err != nil {
		return "", err
	}
	out, err := post(api+"/api/v1/flows/"+name+"/deployments", map[string]any{"env": w.env})
	if err != nil {
		return "", err
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
				} `json:"instances"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Status == "running" {
				for _, in := range st.Instances {
					if in.State == "ready" {
						return in.Addr, nil
					}
				}
			}
			if st.Status == "failed" {
				return "", fmt.Errorf("deployment failed")
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("deployment not running in time")
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
	pctRE     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	nonOKRE   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	socketsRE = regexp.MustCompile(`Socket errors: .*`)
)

// wrk measures one workload at base. It first checks that the answer is the
// expected one, so a broken endpoint cannot post a fast number.
func wrk(ctx context.Context, o options, w workload, base string) (result, error) {
	r := result{workload: w.name}
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
	if resp.StatusCode != 200 || !strings.Contains(string(got), w.expect) {
		return r, fmt.Errorf("%s at %s answered %d %s, want %s", w.name, base, resp.StatusCode, got, w.expect)
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

func report(o options, results []result, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (cmd/flowline-bench) on %s. wrk on 127.0.0.1, %d threads, %d connections, %s per row, all rows in one run on one machine (the load generator shares its cores with what it measures, so ratios matter more than absolute numbers).\n\n",
		time.Now().UTC().Format("2006-01-02"), o.threads, o.connections, o.duration)
	b.WriteString("- W1: `GET /hello?name=` returning a greeting.\n- W2: conformance case 03's order transform (`POST /orders`).\n- W3: conformance case 08's two upstream calls to a local stub.\n\n")
	b.WriteString("| workload | implementation | served | req/s | p50 | p99 | ratio to hand-written (same path) | errors |\n|---|---|---|---:|---:|---:|---:|---|\n")
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
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %s× | %s |\n", r.workload, r.impl, r.via, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), ratio, r.errors)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	b.WriteString("\n")
	return b.String()
}
