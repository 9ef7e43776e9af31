package local

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowline/flowline/contract"
)

// envFake makes the test binary run as a fake instance (see fakeInstance).
const envFake = "FLOWLINE_FAKE_INSTANCE"

func TestMain(m *testing.M) {
	if os.Getenv(envFake) == "1" {
		os.Exit(fakeInstance())
	}
	os.Exit(m.Run())
}

// fakeInstance follows the instance contract like a real bundle does. The
// flow's env (FLOWLINE_FLOW_ENV) steers it:
//
//	FAKE_FAIL_START=1   write an error to stderr and exit 1 at once
//	FAKE_NEVER_READY=1  /readyz never answers 200
//	FAKE_READY_FILE=p   /readyz answers 200 only once the file p exists
//	FAKE_CRASH_AFTER=n  exit 3 after serving n /work requests
//	FAKE_VERSION=v      reported by /work
//	FAKE_LEAK=1         print the secrets file on stderr, as a careless panic might
//
// GET /work answers {"instance", "version", "pid", ...} and logs JSON lines
// with the trace id of its traceparent; /work?wait_for_term=1 answers only
// after the process got SIGTERM (so it is surely in flight while draining).
func fakeInstance() int {
	knobs := map[string]string{}
	if err := json.Unmarshal([]byte(os.Getenv(contract.EnvFlowEnv)), &knobs); err != nil {
		fmt.Fprintln(os.Stderr, "bad FLOWLINE_FLOW_ENV:", err)
		return 2
	}
	if knobs["FAKE_FAIL_START"] != "" {
		fmt.Fprintln(os.Stderr, "boom: cannot load bundle")
		return 1
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp", os.Getenv(contract.EnvListen))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())
	fmt.Println("a plain line on stdout")
	fmt.Fprintln(os.Stderr, "a plain line on stderr")
	if knobs["FAKE_LEAK"] != "" {
		b, _ := os.ReadFile(os.Getenv(contract.EnvSecretsFile))
		fmt.Fprintln(os.Stderr, "panic: leaking", string(b))
	}

	var (
		draining      atomic.Bool
		served        atomic.Int64
		term          = make(chan struct{})
		crashAfter, _ = strconv.Atoi(knobs["FAKE_CRASH_AFTER"])
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready := !draining.Load() && knobs["FAKE_NEVER_READY"] == ""
		if f := knobs["FAKE_READY_FILE"]; f != "" {
			if _, err := os.Stat(f); err != nil {
				ready = false
			}
		}
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		traceID := ""
		if tp := r.Header.Get("Traceparent"); len(tp) == 55 {
			traceID = tp[3:35]
		}
		log.Debug("work debug", "node", "work", "trace_id", traceID)
		log.Info("work started", "node", "work", "trace_id", traceID, "span_id", "00f067aa0ba902b7")
		if r.URL.Query().Get("wait_for_term") != "" {
			<-term
			time.Sleep(50 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"instance":     os.Getenv(contract.EnvInstance),
			"deployment":   os.Getenv(contract.EnvDeployment),
			"bundle_dir":   os.Getenv(contract.EnvBundleDir),
			"deadline":     os.Getenv(contract.EnvDeadline),
			"secrets_file": os.Getenv(contract.EnvSecretsFile),
			"environ":      os.Environ(),
			"egress":       os.Getenv(contract.EnvEgressAllow),
			"version":      knobs["FAKE_VERSION"],
			"pid":          os.Getpid(),
		})
		log.Warn("work done", "node", "work", "trace_id", traceID, "status", 200)
		if n := served.Add(1); crashAfter > 0 && n >= int64(crashAfter) {
			go func() {
				time.Sleep(10 * time.Millisecond)
				fmt.Fprintln(os.Stderr, "panic: fake crash")
				os.Exit(3)
			}()
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	draining.Store(true)
	close(term)
	log.Info("draining")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
