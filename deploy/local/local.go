// Package local is the embedded deploy target: a process supervisor that
// runs every instance of a deployment as a process of its own on this
// machine, on its own loopback port.
//
// An instance is started from the deployment's deploy.Spec.Command (a Go
// bundle's binary) or else Config.Command, with the FLOWLINE_* variables
// of the instance contract added to the server's environment. It reports
// its address in its first log line ({"msg":"listening","addr":...}), and
// receives traffic only once its GET /readyz answers 200. A crashed instance
// is restarted with an exponential back-off; Stop takes instances out of
// traffic first, then sends SIGTERM so they finish what they are doing, and
// SIGKILL after Config.StopTimeout.
//
// On Linux the instances get SIGTERM when the server dies, so they never
// outlive it; there is nothing to reattach to after a restart, and the
// server deploys what its store says is deployed again.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/engine/redact"
)

// Config configures a Supervisor. Zero fields take the defaults given.
type Config struct {
	// Command is the argv an instance is started from, e.g.
	// [path of the flowline binary, "host"]. Required.
	Command []string
	// Env holds extra KEY=value pairs for every instance, on top of the
	// server's environment and before the contract's variables.
	Env []string
	// Logger receives the supervisor's own events (default: discard).
	Logger *slog.Logger

	// ReadyTimeout is how long a started instance may take to answer
	// /readyz with 200 before it is killed and counted as failed (30s).
	ReadyTimeout time.Duration
	// StopTimeout is how long a draining instance may take to exit after
	// SIGTERM before it is killed (10s).
	StopTimeout time.Duration
	// DrainDelay is how long an instance taken out of traffic keeps
	// running before it gets SIGTERM, so that requests already routed to
	// it arrive (100ms; negative for none).
	DrainDelay time.Duration
	// LogBuffer is the number of log lines kept per deployment (10000);
	// LogBytes bounds their size in all (8 MiB), so that a flow that logs
	// big values cannot grow the server.
	LogBuffer int
	LogBytes  int
	// KeepStopped is how many stopped deployments keep their logs (32);
	// the ones stopped longest ago are forgotten.
	KeepStopped int

	// StartAttempts is how many times in a row an instance may fail before
	// it has ever been ready; then it is given up and the deployment (or
	// the new version it was rolling out) fails (3).
	StartAttempts int
	// BackoffMin and BackoffMax bound the wait before a crashed instance is
	// restarted; it doubles with every crash (100ms, 10s) and starts over
	// once an instance stayed up for StableAfter (30s).
	BackoffMin, BackoffMax time.Duration
	StableAfter            time.Duration

	// ReadyPoll is the interval of /readyz checks until an instance is
	// ready (100ms); HealthInterval the interval afterwards (2s). An
	// instance whose /readyz fails three checks in a row is taken out of
	// traffic until it answers 200 again.
	ReadyPoll      time.Duration
	HealthInterval time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadyTimeout, 30*time.Second)
	def(&c.StopTimeout, 10*time.Second)
	def(&c.DrainDelay, 100*time.Millisecond)
	if c.DrainDelay < 0 {
		c.DrainDelay = 0
	}
	def(&c.BackoffMin, 100*time.Millisecond)
	def(&c.BackoffMax, 10*time.Second)
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	def(&c.StableAfter, 30*time.Second)
	def(&c.ReadyPoll, 100*time.Millisecond)
	def(&c.HealthInterval, 2*time.Second)
	if c.LogBuffer <= 0 {
		c.LogBuffer = 10000
	}
	if c.LogBytes <= 0 {
		c.LogBytes = 8 << 20
	}
	if c.KeepStopped <= 0 {
		c.KeepStopped = 32
	}
	if c.StartAttempts <= 0 {
		c.StartAttempts = 3
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Supervisor runs deployments as local processes. It implements
// deploy.Target. Its methods are safe for concurrent use.
type Supervisor struct {
	cfg    Config
	log    *slog.Logger
	health *http.Client
	ctx    context.Context // ends with Close
	cancel context.CancelFunc

	mu   sync.Mutex
	deps map[string]*deployment
	subs map[chan struct{}]struct{}
	// stoppedOrder lists stopped deployments, stopped longest ago first.
	stoppedOrder []string
	closed       bool

	// backends maps deployment id -> addresses of ready instances; it is
	// replaced, never changed, so Backends needs no lock.
	backends atomic.Pointer[map[string][]string]
	wg       sync.WaitGroup // instance goroutines
}

var _ deploy.Target = (*Supervisor)(nil)

// New returns a supervisor; it starts nothing until Deploy.
func New(cfg Config) *Supervisor {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{
		cfg: cfg,
		log: cfg.Logger,
		health: &http.Client{
			Timeout:   2 * time.Second,
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		},
		ctx:    ctx,
		cancel: cancel,
		deps:   map[string]*deployment{},
		subs:   map[chan struct{}]struct{}{},
	}
	s.backends.Store(&map[string][]string{})
	return s
}

// deployment is everything known about one deployment id. Its fields are
// guarded by Supervisor.mu (logs has a lock of its own).
type deployment struct {
	id   string
	logs *logStore
	seq  int // numbers instances

	stable   *generation   // the version serving, once it was ready
	next     *generation   // the version being rolled out
	draining []*generation // superseded or stopped, kept while their instances exit
	failure  *generation   // the generation that failed, while the deployment is failed
	stopped  bool
	failed   bool
	message  string
}

// generation is the set of instances of one Deploy call.
type generation struct {
	spec      deploy.Spec
	ctx       context.Context
	cancel    context.CancelFunc
	instances []*instance
	failed    string // why it was given up
	// redact hides the spec's secrets in what its instances print: the
	// runtime redacts its own lines, but not a crash's panic output.
	redact *redact.Redactor
}

type instance struct {
	id   string
	done chan struct{} // closed when its goroutine ends

	// guarded by Supervisor.mu
	state     string
	addr      string
	pid       int
	restarts  int
	startedAt time.Time
	lastError string
	everReady bool
	exited    bool // its goroutine is done: stopped, or given up
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Deploy starts the instances of s, or replaces the deployment with that
// id: the new instances start, and once all of them are ready the old ones
// drain. If the new ones fail, the old ones keep serving and Status says
// why. It returns once the deployment is registered.
func (s *Supervisor) Deploy(ctx context.Context, spec deploy.Spec) error {
	if len(s.cfg.Command) == 0 && len(spec.Command) == 0 {
		return errors.New("local deploy: no instance command configured")
	}
	if !idPattern.MatchString(spec.ID) {
		return fmt.Errorf("local deploy: invalid deployment id %q", spec.ID)
	}
	scaling, err := spec.Scaling.Normalize()
	if err != nil {
		return fmt.Errorf("local deploy %s: %w", spec.ID, err)
	}
	spec.Scaling = scaling
	if spec.Deadline < 0 {
		return fmt.Errorf("local deploy %s: negative deadline", spec.ID)
	}
	if spec.BundleDir == "" {
		return fmt.Errorf("local deploy %s: no bundle directory", spec.ID)
	}
	dir, err := filepath.Abs(spec.BundleDir)
	if err != nil {
		return fmt.Errorf("local deploy %s: %w", spec.ID, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("local deploy %s: bundle: %w", spec.ID, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("local deploy %s: bundle %s is not a directory", spec.ID, dir)
	}
	spec.BundleDir = dir
	// The argv instances run: the bundle's own (a Go binary, resolved in
	// the bundle directory) or the configured host.
	if len(spec.Command) > 0 {
		spec.Command = slices.Clone(spec.Command)
		if !strings.Contains(spec.Command[0], "/") {
			spec.Command[0] = filepath.Join(dir, spec.Command[0])
		}
		if _, err := os.Stat(spec.Command[0]); err != nil {
			return fmt.Errorf("local deploy %s: instance command: %w", spec.ID, err)
		}
	} else {
		spec.Command = s.cfg.Command
	}
	spec.Env = maps.Clone(spec.Env)
	spec.Secrets = maps.Clone(spec.Secrets)
	spec.Datasources = maps.Clone(spec.Datasources)
	spec.EgressAllow = slices.Clone(spec.EgressAllow)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeSecrets(dir, spec); err != nil {
		return fmt.Errorf("local deploy %s: %w", spec.ID, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("local deploy: supervisor closed")
	}
	d := s.deps[spec.ID]
	if d == nil {
		d = &deployment{id: spec.ID, logs: newLogStore(s.cfg.LogBuffer, s.cfg.LogBytes)}
		s.deps[spec.ID] = d
	}
	if d.stopped {
		d.stopped = false
		d.stable = nil
	}
	d.failed, d.failure, d.message = false, nil, ""
	if d.next != nil {
		// A rollout in progress is superseded by this one.
		s.retire(d, d.next)
		d.next = nil
	}
	gctx, cancel := context.WithCancel(s.ctx)
	g := &generation{spec: spec, ctx: gctx, cancel: cancel, redact: specRedactor(spec)}
	for range spec.Scaling.Min {
		d.seq++
		g.instances = append(g.instances, &instance{
			id:    fmt.Sprintf("%s-%d", spec.ID, d.seq),
			done:  make(chan struct{}),
			state: deploy.InstanceStarting,
		})
	}
	d.next = g
	for _, in := range g.instances {
		s.wg.Add(1)
		go s.run(d, g, in)
	}
	s.log.Info("deploying", "deployment", spec.ID, "flow", spec.Flow, "version", spec.Version, "instances", len(g.instances))
	s.changedLocked(d)
	return nil
}

// Stop drains and stops every instance of the deployment and waits for
// them to exit, or for ctx to end.
func (s *Supervisor) Stop(ctx context.Context, id string) error {
	s.mu.Lock()
	d := s.deps[id]
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("local stop %s: %w", id, deploy.ErrNotFound)
	}
	for _, g := range []*generation{d.stable, d.next} {
		if g != nil {
			s.retire(d, g)
		}
	}
	d.stable, d.next = nil, nil
	d.stopped, d.failed, d.failure, d.message = true, false, nil, ""
	s.forgetStoppedLocked(id)
	var wait []*instance
	for _, g := range d.draining {
		wait = append(wait, g.instances...)
	}
	s.changedLocked(d)
	s.mu.Unlock()

	s.log.Info("stopping", "deployment", id)
	for _, in := range wait {
		select {
		case <-in.done:
		case <-ctx.Done():
			return fmt.Errorf("local stop %s: %w", id, ctx.Err())
		}
	}
	// No instance needs the secrets any more: they stay on disk no
	// longer than they are used (a deployment brought back deploys anew).
	s.mu.Lock()
	if d.stopped {
		for _, g := range d.draining {
			if err := os.Remove(filepath.Join(g.spec.BundleDir, contract.SecretsFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.log.Warn("remove secrets file", "deployment", id, "error", err.Error())
			}
		}
	}
	s.mu.Unlock()
	return nil
}

// forgetStoppedLocked notes that id stopped, and forgets the deployments
// stopped longest ago beyond KeepStopped, with their logs, so that memory
// does not grow with the number of past deployments.
func (s *Supervisor) forgetStoppedLocked(id string) {
	s.stoppedOrder = append(slices.DeleteFunc(s.stoppedOrder, func(x string) bool { return x == id }), id)
	for len(s.stoppedOrder) > s.cfg.KeepStopped {
		old := s.stoppedOrder[0]
		s.stoppedOrder = s.stoppedOrder[1:]
		if d := s.deps[old]; d != nil && d.stopped && allExited(d.draining) {
			d.logs.closeAll()
			delete(s.deps, old)
		}
	}
}

func allExited(gs []*generation) bool {
	for _, g := range gs {
		for _, in := range g.instances {
			select {
			case <-in.done:
			default:
				return false
			}
		}
	}
	return true
}

// retire takes g out of service: its instances drain and exit.
func (s *Supervisor) retire(d *deployment, g *generation) {
	g.cancel()
	d.draining = append(d.draining, g)
}

// Status reports the deployment's state and its instances.
func (s *Supervisor) Status(ctx context.Context, id string) (deploy.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deps[id]
	if d == nil {
		return deploy.Status{}, fmt.Errorf("local status %s: %w", id, deploy.ErrNotFound)
	}
	st := deploy.Status{ID: id, Instances: []deploy.Instance{}}
	ready := false
	var lastErr string
	for _, g := range d.generations() {
		for _, in := range g.instances {
			st.Instances = append(st.Instances, deploy.Instance{
				ID:        in.id,
				Addr:      in.addr,
				PID:       in.pid,
				State:     in.state,
				Restarts:  in.restarts,
				StartedAt: in.startedAt,
				LastError: in.lastError,
			})
			if in.state == deploy.InstanceReady {
				ready = true
			}
			if in.lastError != "" && in.state != deploy.InstanceStopped {
				lastErr = in.id + ": " + in.lastError
			}
		}
	}
	st.Message = d.message
	switch {
	case d.stopped:
		st.State = deploy.StateStopped
	case ready:
		st.State = deploy.StateRunning
	case d.failed:
		st.State = deploy.StateFailed
	default:
		st.State = deploy.StatePending
		if st.Message == "" && lastErr != "" {
			st.Message = "no instance ready; last error: " + lastErr
		}
	}
	return st, nil
}

// generations lists d's generations: the serving one, the one rolling out,
// and those draining.
func (d *deployment) generations() []*generation {
	var gs []*generation
	if d.stable != nil {
		gs = append(gs, d.stable)
	}
	if d.next != nil {
		gs = append(gs, d.next)
	}
	gs = append(gs, d.draining...)
	if d.failure != nil && !slices.Contains(gs, d.failure) {
		gs = append(gs, d.failure)
	}
	return gs
}

// Logs returns the kept log lines of the deployment that pass f, oldest
// first.
func (s *Supervisor) Logs(ctx context.Context, id string, f deploy.LogFilter) ([]deploy.LogLine, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("local logs %s: %w", id, err)
	}
	d, err := s.lookup(id)
	if err != nil {
		return nil, fmt.Errorf("local logs %s: %w", id, err)
	}
	return d.logs.lines(f), nil
}

// FollowLogs streams the lines logged from now on that pass f, until ctx
// ends or the supervisor is closed; then the channel is closed. A reader
// that falls far behind loses lines, and is told how many.
func (s *Supervisor) FollowLogs(ctx context.Context, id string, f deploy.LogFilter) (<-chan deploy.LogLine, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("local follow logs %s: %w", id, err)
	}
	d, err := s.lookup(id)
	if err != nil {
		return nil, fmt.Errorf("local follow logs %s: %w", id, err)
	}
	fl := d.logs.follow(f)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.ctx.Done():
		}
		d.logs.unfollow(fl)
	}()
	return fl.ch, nil
}

func (s *Supervisor) lookup(id string) (*deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.deps[id]; d != nil {
		return d, nil
	}
	return nil, deploy.ErrNotFound
}

// Backends returns the addresses (host:port) of the deployment's ready
// instances. It takes no lock, so a gateway may call it on every request.
// The slice is shared: do not modify it.
func (s *Supervisor) Backends(id string) []string {
	return (*s.backends.Load())[id]
}

// Subscribe returns a channel that receives a value whenever the
// deployments change (instances becoming ready or unready, rollouts,
// stops). Notifications are coalesced: a slow reader sees one value for
// several changes. Call cancel to unsubscribe.
func (s *Supervisor) Subscribe() (changes <-chan struct{}, cancel func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}

// Close stops every deployment and waits for all instances to exit, or for
// ctx to end. The supervisor cannot be used afterwards.
func (s *Supervisor) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	ids := slices.Sorted(maps.Keys(s.deps))
	s.mu.Unlock()

	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() { errs <- s.Stop(ctx, id) }()
	}
	var err error
	for range ids {
		err = errors.Join(err, <-errs)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("local close: %w", ctx.Err()))
	}
	s.cancel()
	s.mu.Lock()
	for _, d := range s.deps {
		d.logs.closeAll()
	}
	s.mu.Unlock()
	return err
}

// changedLocked moves rollouts along, republishes the ready backends and
// notifies subscribers. s.mu must be held.
func (s *Supervisor) changedLocked(d *deployment) {
	if g := d.next; g != nil {
		switch {
		case g.failed != "":
			d.next = nil
			s.retire(d, g)
			if d.stable != nil {
				d.message = fmt.Sprintf("version %d failed to start and was rolled back; version %d keeps serving: %s",
					g.spec.Version, d.stable.spec.Version, g.failed)
			} else {
				d.failed, d.failure = true, g
				d.message = g.failed
			}
			s.log.Error("deployment failed", "deployment", d.id, "version", g.spec.Version, "error", g.failed)
		case allReady(g):
			if d.stable != nil {
				s.retire(d, d.stable)
			}
			d.stable, d.next = g, nil
			d.failed, d.failure, d.message = false, nil, ""
			s.log.Info("deployment ready", "deployment", d.id, "version", g.spec.Version)
		}
	}
	if !d.stopped {
		d.draining = slices.DeleteFunc(d.draining, func(g *generation) bool {
			return !slices.ContainsFunc(g.instances, func(in *instance) bool { return !in.exited })
		})
	}

	var addrs []string
	for _, g := range []*generation{d.stable, d.next} {
		if g == nil {
			continue
		}
		for _, in := range g.instances {
			if in.state == deploy.InstanceReady {
				addrs = append(addrs, in.addr)
			}
		}
	}
	cur := *s.backends.Load()
	if !slices.Equal(cur[d.id], addrs) {
		m := maps.Clone(cur)
		if len(addrs) == 0 {
			delete(m, d.id)
		} else {
			m[d.id] = addrs
		}
		s.backends.Store(&m)
	}
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func allReady(g *generation) bool {
	for _, in := range g.instances {
		if in.state != deploy.InstanceReady {
			return false
		}
	}
	return true
}

// setState changes an instance's state and publishes the change.
func (s *Supervisor) setState(d *deployment, in *instance, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.state == state {
		return
	}
	in.state = state
	if state == deploy.InstanceReady {
		in.everReady = true
	}
	s.changedLocked(d)
}

// event records a supervisor event in the deployment's logs, where the
// debug console shows it beside the instances' own lines.
func (s *Supervisor) event(d *deployment, in *instance, level, msg string) {
	d.logs.add(deploy.LogLine{Time: time.Now(), Level: level, Message: msg, Instance: in.id})
}

// inheritedEnv names the server variables an instance may see: the
// system's basics and the operator's limits for code.js and http.request.
// The rest of the server's environment (database URLs, credentials) stays
// with the server: instances run user code. HOME is not among them, so
// that no client library finds the server's own credential files
// (~/.pgpass); PGPASSFILE and PGSERVICEFILE point nowhere for the same
// reason.
var inheritedEnv = []string{"PATH", "TMPDIR", "LANG", "LC_ALL", "TZ", "GOCOVERDIR",
	"FLOWLINE_MAX_UPSTREAM_BODY", "FLOWLINE_CODE_MAX_MEMORY", "FLOWLINE_TESTRUN_MEMORY",
	"FLOWLINE_EXPR_MAX_MEMORY", "FLOWLINE_EXPR_MAX_STEPS"}

// BaseEnv is the environment every process that runs user code starts
// from: instances, and the server's test runs.
func BaseEnv() []string {
	env := []string{"PGPASSFILE=" + os.DevNull, "PGSERVICEFILE=" + os.DevNull}
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (s *Supervisor) instanceEnv(spec deploy.Spec, id string) []string {
	flowEnv, _ := json.Marshal(nonNil(spec.Env))
	// Always set, so that the deployment alone decides: an allow-list
	// in the supervisor's extra environment never reaches an instance.
	egressAllow, _ := json.Marshal(append([]string{}, spec.EgressAllow...))
	env := append(BaseEnv(), s.cfg.Env...)
	env = append(env,
		contract.EnvBundleDir+"="+spec.BundleDir,
		contract.EnvListen+"=127.0.0.1:0",
		contract.EnvFlowEnv+"="+string(flowEnv),
		contract.EnvSecretsFile+"="+filepath.Join(spec.BundleDir, contract.SecretsFileName),
		contract.EnvInstance+"="+id,
		contract.EnvDeployment+"="+spec.ID,
		contract.EnvEgressAllow+"="+string(egressAllow),
	)
	if spec.Deadline > 0 {
		env = append(env, contract.EnvDeadline+"="+spec.Deadline.String())
	}
	return env
}

// writeSecrets writes the spec's secrets where its instances read them
// (contract.EnvSecretsFile): readable by the server's user only, and atomically, so
// an instance starting meanwhile reads the old file or the new one whole.
// The file is written even when there are no secrets, so that an instance
// never reads a previous deployment's.
func writeSecrets(dir string, spec deploy.Spec) error {
	data, err := json.Marshal(struct {
		Env         map[string]string `json:"env"`
		Datasources map[string]string `json:"datasources"`
	}{nonNil(spec.Secrets), nonNil(spec.Datasources)})
	if err != nil {
		return fmt.Errorf("secrets file: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+contract.SecretsFileName+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("secrets file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("secrets file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("secrets file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("secrets file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("secrets file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, contract.SecretsFileName)); err != nil {
		return fmt.Errorf("secrets file: %w", err)
	}
	return nil
}

// specRedactor hides the spec's secret variables, datasource URLs and
// their passwords.
func specRedactor(spec deploy.Spec) *redact.Redactor {
	var values []string
	for _, v := range spec.Secrets {
		values = append(values, v)
	}
	for _, u := range spec.Datasources {
		values = append(values, redact.URLSecrets(u)...)
	}
	return redact.New(values...)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// loopbackAddr makes the address an instance reports dialable: an empty or
// unspecified host becomes 127.0.0.1.
func loopbackAddr(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), true
}
