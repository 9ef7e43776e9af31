// Package deploy runs published versions of flows. A Manager keeps the
// deployments: what the store says should run, what the targets report,
// the statuses written back, the routes handed to the gateway, and what
// comes back after a restart. A Target places the instances of a
// deployment somewhere (this machine, a Nomad cluster), keeps them running,
// stops them, and reports their status, addresses and logs. The interface
// is kept small, after the shape of Nomad's driver plugins: the manager
// holds the state of record, a target only runs what it is told to run.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned for a deployment id the target does not know.
var ErrNotFound = errors.New("deployment not found")

// DefaultDeadline is the request deadline of a deployment that sets none.
const DefaultDeadline = 30 * time.Second

// Spec is what to run: one published version of a flow.
type Spec struct {
	ID      string // the deployment id; deploying an id again replaces it
	Flow    string
	Version int

	// Method and Path are the route of the flow's trigger (Path like
	// /orders/:shop). Targets pass them on to whoever routes traffic.
	Method, Path string

	// BundleDir is the directory, on the control plane's disk, holding
	// the bundle's files (manifest.json, bundle.js or the binary, ...).
	// A target that runs instances elsewhere ships the files from there.
	BundleDir string

	// Command, when set, is the argv of an instance instead of the
	// target's own instance command (the JS host): a Go bundle runs its
	// binary. A Command[0] without a slash names a file in BundleDir. The
	// instance contract (environment, listening line, health endpoints)
	// is the same either way.
	Command []string

	Env map[string]string // the flow's plain variables
	// Secrets are the flow's secret variables (seen as env.NAME like
	// Env's) and Datasources the datasource URLs, which hold passwords.
	// Targets never put either in an instance's environment or command
	// line, where other processes and logs can read them, and never log
	// them.
	Secrets     map[string]string
	Datasources map[string]string // datasource name -> URL
	Scaling     Scaling
	Deadline    time.Duration // request deadline; zero means DefaultDeadline

	// EgressAllow is the allow-list of http.request's egress policy
	// (engine/egress.Parse entries); empty allows nothing internal.
	// Targets hand it to instances as FLOWLINE_EGRESS_ALLOW.
	EgressAllow []string
}

// Scaling is the scaling policy of a deployment. Min is the number of
// instances kept running (at least 1; zero means 1); Max bounds what an
// autoscaler may add (zero means Min).
type Scaling struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Normalize returns the policy with its defaults filled in, or an error when
// it cannot be met.
func (s Scaling) Normalize() (Scaling, error) {
	if s.Min < 0 || s.Max < 0 {
		return s, fmt.Errorf("scaling: min and max must not be negative (min %d, max %d)", s.Min, s.Max)
	}
	if s.Min == 0 {
		s.Min = 1
	}
	if s.Max == 0 {
		s.Max = s.Min
	}
	if s.Max < s.Min {
		return s, fmt.Errorf("scaling: max %d is below min %d", s.Max, s.Min)
	}
	return s, nil
}

// Instance states.
const (
	InstanceStarting = "starting" // started, not ready (yet, or no longer)
	InstanceReady    = "ready"    // receives traffic
	InstanceDraining = "draining" // no new traffic, finishing what it has
	InstanceCrashed  = "crashed"  // exited unexpectedly; restarted after a back-off unless given up
	InstanceStopped  = "stopped"
)

// Instance is one running copy of a deployment.
type Instance struct {
	ID        string    `json:"id"`
	Addr      string    `json:"addr,omitempty"` // host:port, once known
	PID       int       `json:"pid,omitempty"`
	State     string    `json:"state"`
	Restarts  int       `json:"restarts"`
	StartedAt time.Time `json:"started_at"`
	LastError string    `json:"last_error,omitempty"`
}

// Deployment states: what Status.State reports, and the status the store
// keeps for a deployment (stopped ones are no longer active).
const (
	StatePending = "pending" // no instance ready yet
	StateRunning = "running" // at least one instance ready
	StateFailed  = "failed"  // instances keep failing before they ever become ready
	StateStopped = "stopped"
)

// Status is the observed state of a deployment.
type Status struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Message   string     `json:"message,omitempty"`
	Instances []Instance `json:"instances"`
}

// Log levels, lowest first.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// LogLine is one line an instance logged.
type LogLine struct {
	Time     time.Time `json:"time"`
	Level    string    `json:"level"` // debug, info, warn or error
	Message  string    `json:"message"`
	Node     string    `json:"node,omitempty"`
	TraceID  string    `json:"trace_id,omitempty"`
	Instance string    `json:"instance"`
}

// LogFilter selects log lines. Zero fields select everything.
type LogFilter struct {
	TraceID string
	Level   string // minimum level: debug, info, warn or error
	Since   time.Time
}

// Validate reports a filter the targets cannot apply.
func (f LogFilter) Validate() error {
	if f.Level != "" && LevelRank(f.Level) < 0 {
		return fmt.Errorf("unknown log level %q (want debug, info, warn or error)", f.Level)
	}
	return nil
}

// Match reports whether l passes the filter.
func (f LogFilter) Match(l LogLine) bool {
	if f.TraceID != "" && l.TraceID != f.TraceID {
		return false
	}
	if f.Level != "" && LevelRank(l.Level) < LevelRank(f.Level) {
		return false
	}
	if !f.Since.IsZero() && l.Time.Before(f.Since) {
		return false
	}
	return true
}

// LevelRank orders the levels (debug 0 ... error 3); it is -1 for anything
// else. Case is ignored.
func LevelRank(level string) int {
	switch strings.ToLower(level) {
	case LevelDebug:
		return 0
	case LevelInfo:
		return 1
	case LevelWarn:
		return 2
	case LevelError:
		return 3
	}
	return -1
}

// NormalizeLevel maps the level names loggers write (slog's "INFO",
// "WARN+2", "warning", "fatal", ...) to one of the four levels; anything
// unknown is info.
func NormalizeLevel(level string) string {
	l := strings.ToLower(strings.TrimSpace(level))
	switch {
	case strings.HasPrefix(l, "debug"), strings.HasPrefix(l, "trace"):
		return LevelDebug
	case strings.HasPrefix(l, "warn"):
		return LevelWarn
	case strings.HasPrefix(l, "err"), strings.HasPrefix(l, "fatal"), strings.HasPrefix(l, "panic"), strings.HasPrefix(l, "crit"):
		return LevelError
	}
	return LevelInfo
}

// Target runs deployments somewhere. It is what a deploy target
// implements, after Nomad's task driver: Deploy starts (StartTask), Stop
// stops and forgets (StopTask, DestroyTask), Status inspects
// (InspectTask), Subscribe tells of changes (TaskEvents). A target that
// still runs a deployment after the control plane restarts reports it in
// Status, and the manager adopts it instead of deploying it again (as
// Nomad's RecoverTask reattaches); the local target's instances die with
// the server, so it deploys them again.
type Target interface {
	// Deploy registers the deployment and starts its instances. It returns
	// once the deployment is registered; readiness is asynchronous (watch
	// Status). Deploying an id that is running replaces it without dropping
	// requests: new instances start, and the old ones drain once the new
	// ones are ready.
	Deploy(ctx context.Context, s Spec) error
	// Stop drains and stops every instance of the deployment.
	Stop(ctx context.Context, id string) error
	// Status reports the deployment's state and instances; ErrNotFound
	// for an id the target does not run (nor ran since it started).
	Status(ctx context.Context, id string) (Status, error)
	// Backends returns the addresses (host:port) of the deployment's
	// ready instances. The gateway calls it on every request: it must be
	// cheap and safe for concurrent use, and callers do not modify the
	// slice.
	Backends(id string) []string
	// Subscribe returns a channel that receives a value whenever a
	// deployment's state changes (instances ready or not, rollouts,
	// stops); several changes may give one value. cancel unsubscribes.
	Subscribe() (changes <-chan struct{}, cancel func())
	// Logs returns the kept log lines that pass f, newest last.
	Logs(ctx context.Context, id string, f LogFilter) ([]LogLine, error)
	// FollowLogs streams the lines logged from now on that pass f, until
	// ctx ends; then the channel is closed.
	FollowLogs(ctx context.Context, id string, f LogFilter) (<-chan LogLine, error)
}
