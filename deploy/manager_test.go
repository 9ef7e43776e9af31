package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/deploy/local"
	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
	"github.com/flowline/flowline/store/storetest"
)

// envInstance makes the test binary run as an instance (see instance).
const envInstance = "FLOWLINE_MANAGER_TEST_INSTANCE"

func TestMain(m *testing.M) {
	if os.Getenv(envInstance) == "1" {
		os.Exit(instance())
	}
	os.Exit(m.Run())
}

// instance follows the instance contract as a bundle does: it listens
// where it is told, says so in its first log line, answers /readyz, and
// answers every other request with its deployment id and the bundle's
// "version" file, so a test sees which deployment served it.
func instance() int {
	ln, err := net.Listen("tcp", os.Getenv(contract.EnvListen))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	slog.New(slog.NewJSONHandler(os.Stdout, nil)).Info(contract.MsgListening, contract.LogAddr, ln.Addr().String())
	version, _ := os.ReadFile(filepath.Join(os.Getenv(contract.EnvBundleDir), "version"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", os.Getenv(contract.EnvDeployment), version)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	return 0
}

// routeTable keeps what the manager last handed the gateway.
type routeTable struct {
	mu     sync.Mutex
	routes []gateway.Route
}

func (rt *routeTable) set(routes []gateway.Route) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.routes = routes
	return nil
}

// serve answers what the route for path sends back, "" when there is no
// route or no ready instance.
func (rt *routeTable) serve(t *testing.T, path string) string {
	t.Helper()
	rt.mu.Lock()
	var backends func() []string
	for _, r := range rt.routes {
		if r.Path == path {
			backends = r.Backends
		}
	}
	rt.mu.Unlock()
	if backends == nil {
		return ""
	}
	addrs := backends()
	if len(addrs) == 0 {
		return ""
	}
	resp, err := http.Get("http://" + addrs[0] + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// rig is a manager on a real store and the local target, with a data
// directory that outlives it, as a server's does across a restart.
type rig struct {
	t       *testing.T
	st      *store.Store
	dataDir string
	routes  *routeTable
	sup     *local.Supervisor
	m       *deploy.Manager
	running bool
}

func (r *rig) start() {
	r.t.Helper()
	r.routes = &routeTable{}
	r.sup = local.New(local.Config{
		Command:   []string{os.Args[0]},
		Env:       []string{envInstance + "=1"},
		Logger:    slog.New(slog.NewTextHandler(r.t.Output(), nil)),
		ReadyPoll: 20 * time.Millisecond, DrainDelay: 10 * time.Millisecond,
	})
	r.m = deploy.NewManager(deploy.ManagerConfig{
		Store:     r.st,
		Targets:   map[string]deploy.Target{"local": r.sup},
		BundleDir: filepath.Join(r.dataDir, "bundles"),
		SetRoutes: r.routes.set,
		Logger:    slog.New(slog.NewTextHandler(r.t.Output(), nil)),
		Interval:  50 * time.Millisecond,
	})
	r.running = true
	r.t.Cleanup(r.stop) // when the test fails half way
	if err := r.m.Start(r.t.Context()); err != nil {
		r.t.Fatalf("start: %v", err)
	}
}

// stop is the server going away: the manager stops watching and the local
// target's instances die with it; the store keeps what should run.
func (r *rig) stop() {
	r.t.Helper()
	if !r.running {
		return
	}
	r.running = false
	r.m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.sup.Close(ctx); err != nil {
		r.t.Errorf("close target: %v", err)
	}
}

// publish stores a version of flow whose bundle says which version it is.
func (r *rig) publish(flowName string, n int) {
	r.t.Helper()
	ctx := r.t.Context()
	doc := fmt.Appendf(nil, `{"name":%q,"nodes":[]}`, flowName)
	if _, err := r.st.GetFlow(ctx, flowName); errors.Is(err, store.ErrNotFound) {
		if _, err := r.st.CreateFlow(ctx, flowName, doc); err != nil {
			r.t.Fatal(err)
		}
	}
	_, err := r.st.CreateVersion(ctx, store.NewVersion{Flow: flowName, Target: "js", Document: doc,
		Files: map[string][]byte{"version": fmt.Appendf(nil, "v%d", n)}})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) deploy(flowName string, version int, path string) (*store.Deployment, error) {
	r.t.Helper()
	v, err := r.st.GetVersion(r.t.Context(), flowName, version)
	if err != nil {
		r.t.Fatal(err)
	}
	d := &store.Deployment{FlowID: v.FlowID, FlowName: flowName, VersionNumber: version, Target: "local", Method: "GET", Path: path}
	return d, r.m.Deploy(r.t.Context(), d, v.Files)
}

// eventually polls cond until it holds; the bound is generous because
// process start-up is slow under the race detector.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) status(id string) string {
	d, err := r.st.GetDeployment(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return d.Status
}

// TestManager follows deployments through their life: deployed, replaced
// by a new version without a gap, refused another flow's route, brought
// back after a restart, and undeployed.
func TestManager(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			r := &rig{t: t, st: storetest.Open(t, kind), dataDir: t.TempDir()}
			r.start()
			r.publish("orders", 1)
			r.publish("orders", 2)
			r.publish("other", 1)

			d1, err := r.deploy("orders", 1, "/orders")
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "version 1 serving and recorded running", func() bool {
				return r.routes.serve(t, "/orders") == d1.ID+" v1" && r.status(d1.ID) == deploy.StateRunning
			})
			if !r.m.Deployed("orders") || r.m.Deployed("other") {
				t.Fatal("Deployed does not say which flows are deployed")
			}

			// Another flow's route: refused, nothing recorded.
			_, err = r.deploy("other", 1, "/orders")
			var rce *deploy.RouteConflictError
			if !errors.As(err, &rce) || rce.Flow != "orders" || rce.Deployment != d1.ID {
				t.Fatalf("deploying another flow on the same route: %v", err)
			}
			if deps, _ := r.st.ListDeployments(t.Context(), store.DeploymentFilter{FlowName: "other"}); len(deps) != 0 {
				t.Fatalf("a refused deployment was recorded: %+v", deps)
			}
			if _, err := r.m.Status(t.Context(), &store.Deployment{ID: "x", Target: "nomad"}); err {
				t.Fatal("status of a deployment on an unconfigured target")
			}
			d := &store.Deployment{FlowName: "other", VersionNumber: 1, Target: "nomad", Method: "GET", Path: "/x"}
			if err := r.m.Deploy(t.Context(), d, nil); !errors.Is(err, deploy.ErrUnknownTarget) {
				t.Fatalf("deploy to an unconfigured target: %v", err)
			}

			// A new version takes over once it runs; the old one drains.
			d2, err := r.deploy("orders", 2, "/orders")
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "version 2 serving, version 1 stopped and drained", func() bool {
				_, err := os.Stat(filepath.Join(r.dataDir, "bundles", d1.ID))
				return r.routes.serve(t, "/orders") == d2.ID+" v2" && r.status(d1.ID) == deploy.StateStopped && os.IsNotExist(err)
			})

			// A restart brings back what the store says should run.
			r.stop()
			if got := r.routes.serve(t, "/orders"); got != "" {
				t.Fatalf("still served after the target closed: %q", got)
			}
			r.start()
			eventually(t, "version 2 serving again after the restart", func() bool {
				return r.routes.serve(t, "/orders") == d2.ID+" v2" && r.status(d2.ID) == deploy.StateRunning
			})
			if r.status(d1.ID) != deploy.StateStopped {
				t.Fatal("a drained deployment came back after the restart")
			}

			// Undeploy: the route goes, the store says stopped, the bundle
			// is removed, and the route is free for another flow.
			got, err := r.st.GetDeployment(t.Context(), d2.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.m.Stop(t.Context(), got); err != nil {
				t.Fatal(err)
			}
			if r.routes.serve(t, "/orders") != "" || r.status(d2.ID) != deploy.StateStopped || r.m.Deployed("orders") {
				t.Fatal("an undeployed deployment still serves or is not recorded stopped")
			}
			if _, err := os.Stat(filepath.Join(r.dataDir, "bundles", d2.ID)); !os.IsNotExist(err) {
				t.Fatalf("the undeployed bundle is still there: %v", err)
			}
			d3, err := r.deploy("other", 1, "/orders")
			if err != nil {
				t.Fatalf("the freed route: %v", err)
			}
			eventually(t, "the other flow serving the freed route", func() bool {
				return r.routes.serve(t, "/orders") == d3.ID+" v1"
			})
		})
	}
}

// TestManagerStartFailure: a deployment its target refuses is recorded
// failed with the reason, and is not brought back by a restart.
func TestManagerStartFailure(t *testing.T) {
	r := &rig{t: t, st: storetest.Open(t, store.DialectSQLite), dataDir: t.TempDir()}
	r.start()
	r.publish("bad", 1)
	f, err := r.st.GetFlow(t.Context(), "bad")
	if err != nil {
		t.Fatal(err)
	}
	d := &store.Deployment{FlowID: f.ID, FlowName: "bad", VersionNumber: 1, Target: "local", Method: "GET", Path: "/bad"}
	files := map[string][]byte{"../escape": []byte("x")}
	if err := r.m.Deploy(t.Context(), d, files); err == nil {
		t.Fatal("a bundle with a bad file name was deployed")
	}
	got, err := r.st.GetDeployment(t.Context(), d.ID)
	if err != nil || got.Status != deploy.StateFailed || got.Message == "" {
		t.Fatalf("refused deployment recorded as %+v, %v", got, err)
	}
	if r.m.Deployed("bad") {
		t.Fatal("a failed deployment counts as deployed")
	}
	r.stop()
	r.start()
	if r.m.Deployed("bad") {
		t.Fatal("a failed deployment was brought back by a restart")
	}
}
