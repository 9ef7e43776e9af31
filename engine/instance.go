package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine/egress"
)

// DrainTimeout bounds how long in-flight requests may take to finish after
// SIGTERM.
const DrainTimeout = 30 * time.Second

// OptionsFromEnv reads an instance's options from its environment.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	if s := getenv(contract.EnvFlowEnv); s != "" {
		if err := json.Unmarshal([]byte(s), &o.Env); err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvFlowEnv, err)
		}
	}
	if s := getenv(contract.EnvDatasources); s != "" {
		if err := json.Unmarshal([]byte(s), &o.Datasources); err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvDatasources, err)
		}
	}
	if path := getenv(contract.EnvSecretsFile); path != "" {
		if err := readSecrets(path, &o); err != nil {
			return o, err
		}
	}
	if s := getenv(contract.EnvDeadline); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvDeadline, err)
		}
		o.Deadline = d
	}
	o.LogLevel = getenv(contract.EnvLogLevel)
	if s := getenv(contract.EnvMaxBody); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvMaxBody, err)
		}
		o.MaxBody = n
	}
	if s := getenv(contract.EnvEgressAllow); s != "" {
		var allow []string
		if err := json.Unmarshal([]byte(s), &allow); err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvEgressAllow, err)
		}
		p, err := egress.Parse(allow)
		if err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvEgressAllow, err)
		}
		o.Egress = p
	}
	if s := getenv(contract.EnvMaxUpstreamBody); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return o, fmt.Errorf("%s: %w", contract.EnvMaxUpstreamBody, err)
		}
		o.MaxUpstreamBody = n
	}
	return o, nil
}

// readSecrets adds the secrets file's variables to o.Env (and to
// o.Secrets, to be redacted) and its datasources to o.Datasources.
func readSecrets(path string, o *Options) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", contract.EnvSecretsFile, err)
	}
	var sf contract.Secrets
	if err := json.Unmarshal(b, &sf); err != nil {
		// Not %w: a JSON syntax error quotes nothing, but say so plainly.
		return fmt.Errorf("%s: %s is not a JSON secrets file: %v", contract.EnvSecretsFile, path, err)
	}
	if len(sf.Env) > 0 && o.Env == nil {
		o.Env = make(map[string]string, len(sf.Env))
	}
	for _, k := range slices.Sorted(maps.Keys(sf.Env)) {
		o.Env[k] = sf.Env[k]
		o.Secrets = append(o.Secrets, sf.Env[k])
	}
	if len(sf.Datasources) > 0 && o.Datasources == nil {
		o.Datasources = make(map[string]string, len(sf.Datasources))
	}
	maps.Copy(o.Datasources, sf.Datasources)
	return nil
}

// InstanceLogger is the JSON logger every instance writes to stdout; the
// deploy targets read it line by line.
// Its own lifecycle lines (listening, draining) always pass; the level of
// FLOWLINE_LOG_LEVEL filters the flow's lines (Options.LogLevel).
func InstanceLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
	lg := slog.New(h)
	if id := getenv(contract.EnvInstance); id != "" {
		lg = lg.With(contract.LogInstance, id)
	}
	return lg
}

// Main runs an instance of a compiled flow: what a Go bundle's main calls.
func Main(m Manifest, prog Program) {
	lg := InstanceLogger(os.Stdout, os.Getenv)
	o, err := OptionsFromEnv(os.Getenv)
	if err != nil {
		lg.Error("bad instance environment", "error", err.Error())
		os.Exit(2)
	}
	lg = slog.New(o.Redactor().Handler(lg.Handler())) // a load error may quote a datasource URL
	o.Logger = lg
	f, err := New(m, prog, o)
	if err != nil {
		lg.Error("load flow", "error", err.Error())
		os.Exit(1)
	}
	if err := RunInstance(f, os.Getenv(contract.EnvListen), lg); err != nil {
		lg.Error("instance stopped", "error", err.Error())
		os.Exit(1)
	}
}

// RunInstance serves f until SIGTERM or SIGINT, then drains.
func RunInstance(f *Flow, listen string, lg *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return ServeInstance(ctx, f, listen, lg)
}

// ServeInstance serves the flow with /healthz, /readyz and /metrics beside
// it until ctx ends; then /readyz answers 503 while in-flight requests
// finish. It logs {"msg": "listening", "addr": ...} once it accepts.
func ServeInstance(ctx context.Context, f *Flow, listen string, lg *slog.Logger) error {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	var ready atomic.Bool
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", instrument(reg, f))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready.Store(true)
	lg.Info(contract.MsgListening, contract.LogAddr, ln.Addr().String(), "flow", f.Manifest.Flow, "version", f.Manifest.Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	ready.Store(false)
	lg.Info("draining")
	sctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	f.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("drain: %w", err)
	}
	lg.Info("stopped")
	return nil
}

// instrument counts requests and their latency by status.
func instrument(reg *prometheus.Registry, h http.Handler) http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowline_requests_total", Help: "Requests served, by status code.",
	}, []string{"code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "flowline_request_duration_seconds", Help: "Time to serve a request, by status code.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"code"})
	reg.MustRegister(requests, latency)
	return newInstrumented(requests, latency, h)
}
