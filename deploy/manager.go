package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// Store is what the manager needs of the store: the deployments of record
// and the bundles of their versions.
type Store interface {
	CreateDeployment(ctx context.Context, d *store.Deployment) error
	ListDeployments(ctx context.Context, f store.DeploymentFilter) ([]store.Deployment, error)
	UpdateDeploymentStatus(ctx context.Context, id, status, message string) error
	GetVersion(ctx context.Context, flowName string, number int) (*store.Version, error)
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	Store   Store
	Targets map[string]Target // by the name deployments give as their target
	// BundleDir is where bundles are written, one directory per
	// deployment id, for the targets to run.
	BundleDir string
	// SetRoutes hands the gateway a new route table (one route per
	// deployed flow, served by its newest deployment that has ready
	// instances); on an error the old one keeps serving.
	SetRoutes func([]gateway.Route) error
	Logger    *slog.Logger
	// Interval is how often statuses are polled besides the targets'
	// change notifications (1s).
	Interval time.Duration
}

// Manager owns deployments: it starts and stops them on their targets,
// keeps the statuses in the store current, drains a flow's older
// deployments once a newer one runs, hands the gateway its routes, and
// brings back after a restart what the store says should run.
type Manager struct {
	store     Store
	targets   map[string]Target
	bundleDir string
	setRoutes func([]gateway.Route) error
	log       *slog.Logger
	interval  time.Duration

	mu     sync.Mutex
	active map[string]*store.Deployment // what should run, by id; the manager's own copies

	routesMu sync.Mutex // one table built and handed over at a time, so an older never replaces a newer

	stopWatch context.CancelFunc
	watchDone chan struct{}
	drains    sync.WaitGroup // replaced deployments draining
}

// NewManager returns a manager; it runs nothing until Start or Deploy.
func NewManager(cfg ManagerConfig) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.SetRoutes == nil {
		cfg.SetRoutes = func([]gateway.Route) error { return nil }
	}
	return &Manager{
		store: cfg.Store, targets: cfg.Targets, bundleDir: cfg.BundleDir, setRoutes: cfg.SetRoutes,
		log: cfg.Logger, interval: cfg.Interval, active: map[string]*store.Deployment{},
	}
}

// RouteConflictError is Deploy's refusal of a route that another flow's
// active deployment serves (same method, same path shape).
type RouteConflictError struct {
	Method, Path string
	Flow         string // the flow serving it
	Deployment   string // by this deployment
}

func (e *RouteConflictError) Error() string {
	return fmt.Sprintf("%s %s is already served by flow %s (deployment %s)", e.Method, e.Path, e.Flow, e.Deployment)
}

// ErrUnknownTarget is returned for a deployment whose target is not
// configured.
var ErrUnknownTarget = errors.New("deploy target not configured")

// Targets lists the configured targets' names.
func (m *Manager) Targets() []string { return slices.Sorted(maps.Keys(m.targets)) }

// Target returns the named target.
func (m *Manager) Target(name string) (Target, bool) {
	t, ok := m.targets[name]
	return t, ok
}

// Deploy records d in the store as pending (setting its id) and starts it
// from the bundle's files. A flow that is already deployed keeps serving
// its old deployment until the new one runs; then the old one is drained.
// Another flow's route is refused with a *RouteConflictError. A deployment
// that fails to start is recorded as failed. d names its flow by FlowID,
// which routes are told apart by (a flow keeps it across renames).
func (m *Manager) Deploy(ctx context.Context, d *store.Deployment, files map[string][]byte) error {
	t, ok := m.targets[d.Target]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownTarget, d.Target)
	}
	if d.FlowID == "" {
		return errors.New("deploy: the deployment names no flow id")
	}
	d.Status = StatePending
	// The route check and the registration happen under one lock, so two
	// deploys cannot both take the same route.
	m.mu.Lock()
	if other := m.routeTaken(d.FlowID, d.Method, d.Path); other != nil {
		m.mu.Unlock()
		return &RouteConflictError{Method: d.Method, Path: d.Path, Flow: other.FlowName, Deployment: other.ID}
	}
	if err := m.store.CreateDeployment(ctx, d); err != nil {
		m.mu.Unlock()
		return err
	}
	own := *d
	m.active[d.ID] = &own
	m.mu.Unlock()

	if err := m.start(ctx, t, &own, files); err != nil {
		m.mu.Lock()
		delete(m.active, d.ID)
		m.mu.Unlock()
		_ = m.store.UpdateDeploymentStatus(context.WithoutCancel(ctx), d.ID, StateFailed, err.Error())
		return err
	}
	return nil
}

// routeTaken returns another flow's active deployment serving the same
// method and path shape. The caller holds m.mu.
func (m *Manager) routeTaken(flowID, method, path string) *store.Deployment {
	shape := contract.Shape(path)
	for _, d := range m.active {
		if d.FlowID != flowID && d.Method == method && contract.Shape(d.Path) == shape {
			return d
		}
	}
	return nil
}

// start writes the bundle where instances read it and hands the deployment
// to its target.
func (m *Manager) start(ctx context.Context, t Target, d *store.Deployment, files map[string][]byte) error {
	dir := filepath.Join(m.bundleDir, d.ID)
	if err := writeBundle(dir, files); err != nil {
		return err
	}
	var command []string
	if _, ok := files[golang.BinaryFile]; ok {
		command = []string{golang.BinaryFile} // a Go bundle is its own instance
	}
	err := t.Deploy(ctx, Spec{
		ID: d.ID, Flow: d.FlowName, Version: d.VersionNumber, Method: d.Method, Path: d.Path,
		BundleDir: dir, Command: command, Env: d.Env, Secrets: d.Secrets, Datasources: d.Datasources,
		Scaling:     Scaling{Min: d.Scaling.Min, Max: d.Scaling.Max},
		Deadline:    d.Deadline,
		EgressAllow: d.EgressAllow,
	})
	if err != nil {
		return fmt.Errorf("start deployment %s: %w", d.ID, err)
	}
	m.syncRoutes()
	return nil
}

// Stop undeploys d: its route goes first, then the store records it
// stopped, then its instances drain. Recorded before the drain, so that
// nothing waits on it: a flow whose last deployment is draining can be
// deleted at once.
func (m *Manager) Stop(ctx context.Context, d *store.Deployment) error {
	if err := m.retire(ctx, d); err != nil {
		return err
	}
	return m.drain(ctx, d)
}

// retire takes d out of traffic and records it stopped.
func (m *Manager) retire(ctx context.Context, d *store.Deployment) error {
	m.mu.Lock()
	delete(m.active, d.ID)
	m.mu.Unlock()
	m.syncRoutes()
	if err := m.store.UpdateDeploymentStatus(context.WithoutCancel(ctx), d.ID, StateStopped, "undeployed"); err != nil {
		return fmt.Errorf("undeploy %s: %w", d.ID, err)
	}
	return nil
}

// drain stops d's instances, letting them finish what they serve, and
// removes its bundle.
func (m *Manager) drain(ctx context.Context, d *store.Deployment) error {
	if t, ok := m.targets[d.Target]; ok {
		if err := t.Stop(ctx, d.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("undeploy %s: %w", d.ID, err)
		}
	}
	_ = os.RemoveAll(filepath.Join(m.bundleDir, d.ID))
	return nil
}

// Status is d's state as its target reports it now. ok is false when
// there is nothing to report beyond the store's record: d is stopped, its
// target is not configured, or the target does not run it.
func (m *Manager) Status(ctx context.Context, d *store.Deployment) (st Status, ok bool) {
	if d.Status == StateStopped {
		return Status{}, false
	}
	t, ok := m.targets[d.Target]
	if !ok {
		return Status{}, false
	}
	st, err := t.Status(ctx, d.ID)
	return st, err == nil
}

// Deployed reports whether a flow has an active deployment.
func (m *Manager) Deployed(flowName string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.active {
		if d.FlowName == flowName {
			return true
		}
	}
	return false
}

// writeBundle writes files into dir atomically: a crash leaves either no
// bundle or a whole one.
func writeBundle(dir string, files map[string][]byte) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	for name, b := range files {
		if name != filepath.Base(name) || name == "." || name == ".." {
			return fmt.Errorf("write bundle: bad file name %q", name)
		}
		mode := os.FileMode(0o644)
		if name == golang.BinaryFile { // a Go bundle's binary
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, mode); err != nil {
			return fmt.Errorf("write bundle: %w", err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}
