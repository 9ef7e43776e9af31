package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// deploymentStore is what the deployments API needs of the store.
type deploymentStore interface {
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
	ListVersions(ctx context.Context, flowName string) ([]store.Version, error)
	GetVersion(ctx context.Context, flowName string, number int) (*store.Version, error)
	CreateDeployment(ctx context.Context, d *store.Deployment) error
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	ListDeployments(ctx context.Context, f store.DeploymentFilter) ([]store.Deployment, error)
	UpdateDeploymentStatus(ctx context.Context, id, status, message string) error
}

type deploymentsAPI struct {
	s     *Server
	store deploymentStore
}

// Deployment states kept in the store.
const (
	statusPending = "pending"
	statusRunning = "running"
	statusFailed  = "failed"
	statusStopped = "stopped"
)

type deployRequest struct {
	Version int    `json:"version"`
	Target  string `json:"target"`
	// Env holds plain variables, shown back as they are; Secrets holds
	// secret ones, which flows see as env.NAME too but which are never
	// shown again, and sealed in the store. Datasource URLs are secrets.
	Env         map[string]string `json:"env"`
	Secrets     map[string]string `json:"secrets"`
	Datasources map[string]string `json:"datasources"`
	Scaling     store.Scaling     `json:"scaling"`
	Deadline    string            `json:"deadline"`
	Egress      egressSpec        `json:"egress"`
}

// egressSpec is the "egress" field of a deployment and of a test run:
// http.request's allow-list (runtime/egress.Parse), a list of CIDRs, IP
// addresses and host names, each with an optional :port. Empty allows
// nothing internal: loopback, private, link-local and metadata addresses
// stay refused.
type egressSpec struct {
	Allow []string `json:"allow"`
}

// policy parses the allow-list; a bad entry is the client's mistake (400).
func (e egressSpec) policy() (*egress.Policy, error) {
	p, err := egress.Parse(e.Allow)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, err.Error())
	}
	return p, nil
}

type deploymentView struct {
	ID      string            `json:"id"`
	Flow    string            `json:"flow"`
	Version int               `json:"version"`
	Target  string            `json:"target"`
	Status  string            `json:"status"`
	Message string            `json:"message"`
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Env     map[string]string `json:"env"`
	// Secrets and Datasources show which names are set, each as "set":
	// their values are never returned.
	Secrets     map[string]string `json:"secrets"`
	Datasources map[string]string `json:"datasources"`
	Scaling     store.Scaling     `json:"scaling"`
	Deadline    string            `json:"deadline,omitempty"`
	Egress      egressSpec        `json:"egress"`
	Instances   []deploy.Instance `json:"instances"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func (s *Server) view(ctx context.Context, d *store.Deployment) deploymentView {
	v := deploymentView{
		ID: d.ID, Flow: d.FlowName, Version: d.VersionNumber, Target: d.Target, Status: d.Status, Message: d.Message,
		URL: s.gatewayURL + d.Path, Method: d.Method, Path: d.Path, Env: nonNil(d.Env),
		Secrets: setNames(d.Secrets), Datasources: setNames(d.Datasources),
		Scaling: d.Scaling, Egress: egressSpec{Allow: d.EgressAllow}, Instances: []deploy.Instance{},
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
	if v.Egress.Allow == nil {
		v.Egress.Allow = []string{}
	}
	if d.Deadline > 0 {
		v.Deadline = d.Deadline.String()
	}
	if t, ok := s.targets[d.Target]; ok && d.Status != statusStopped {
		if st, err := t.Status(ctx, d.ID); err == nil {
			v.Status, v.Message = st.State, st.Message
			if st.Instances != nil {
				v.Instances = st.Instances
			}
		}
	}
	return v
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// secretSet stands for a secret's value in every answer.
const secretSet = "set"

// setNames shows the names of secrets, never their values.
func setNames(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = secretSet
	}
	return out
}

// withSecrets checks a test run's variables as a deployment's, and
// returns them with its secrets among them, and the secret values, which
// the runtime redacts from all the run shows (engine.Options.Secrets).
func withSecrets(env, secrets map[string]string) (map[string]string, []string, error) {
	if err := checkVariables(env, secrets); err != nil {
		return nil, nil, err
	}
	if len(secrets) == 0 {
		return env, nil, nil
	}
	all := maps.Clone(env)
	if all == nil {
		all = make(map[string]string, len(secrets))
	}
	maps.Copy(all, secrets)
	return all, slices.Collect(maps.Values(secrets)), nil
}

// envName is what a variable's name may be: an identifier, so that
// expressions reach it as env.NAME.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// checkVariables refuses names that are not identifiers, and a name that
// is both plain and secret (which would env.NAME be?). Messages name the
// variable, never a value.
func checkVariables(env, secrets map[string]string) error {
	for _, m := range []struct {
		what string
		vars map[string]string
	}{{"env", env}, {"secret", secrets}} {
		for _, k := range slices.Sorted(maps.Keys(m.vars)) {
			if !envName.MatchString(k) {
				return errStatus(http.StatusBadRequest, fmt.Sprintf("%s name %q is not a valid variable name "+
					"(letters, digits and _, not starting with a digit, at most 64)", m.what, k))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		if _, ok := env[k]; ok {
			return errStatus(http.StatusBadRequest, fmt.Sprintf("%s is both in env and in secrets; give it once", k))
		}
	}
	return nil
}

// create deploys a version of a flow. A flow that is already deployed keeps
// serving its old version until the new one is ready; then the old one is
// drained.
func (a deploymentsAPI) create(c *gin.Context) {
	name := c.Param("name")
	var req deployRequest
	if err := decodeJSON(c, 1<<20, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Target == "" {
		req.Target = "local"
	}
	target, ok := a.s.targets[req.Target]
	if !ok {
		fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("deploy target %q is not configured on this server", req.Target)))
		return
	}
	scaling, err := deploy.Scaling{Min: req.Scaling.Min, Max: req.Scaling.Max}.Normalize()
	if err != nil {
		fail(c, errStatus(http.StatusBadRequest, err.Error()))
		return
	}
	var deadline time.Duration
	if req.Deadline != "" {
		if deadline, err = time.ParseDuration(req.Deadline); err != nil || deadline <= 0 {
			fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("deadline %q is not a positive duration such as 30s", req.Deadline)))
			return
		}
	}
	policy, err := req.Egress.policy()
	if err != nil {
		fail(c, err)
		return
	}
	if err := checkVariables(req.Env, req.Secrets); err != nil {
		fail(c, err)
		return
	}
	f, err := a.store.GetFlow(c, name)
	if err != nil {
		fail(c, fmt.Errorf("deploy %s: %w", name, err))
		return
	}
	if req.Version == 0 {
		vs, err := a.store.ListVersions(c, name)
		if err != nil {
			fail(c, fmt.Errorf("deploy %s: %w", name, err))
			return
		}
		if len(vs) == 0 {
			fail(c, errStatus(http.StatusConflict, fmt.Sprintf("flow %s has no published version; publish it first", name)))
			return
		}
		req.Version = vs[0].Number
	}
	v, err := a.store.GetVersion(c, name, req.Version)
	if err != nil {
		fail(c, fmt.Errorf("deploy %s version %d: %w", name, req.Version, err))
		return
	}
	var doc flow.Document
	if err := json.Unmarshal(v.Document, &doc); err != nil {
		fail(c, fmt.Errorf("deploy %s: stored document: %w", name, err))
		return
	}
	method, path, err := flow.Route(&doc)
	if err != nil {
		fail(c, fmt.Errorf("deploy %s: %w", name, err))
		return
	}
	d := &store.Deployment{
		FlowID: f.ID, FlowName: f.Name, VersionID: v.ID, VersionNumber: v.Number, Target: req.Target,
		Method: method, Path: path, Env: req.Env, Secrets: req.Secrets, Datasources: req.Datasources,
		Scaling: store.Scaling{Min: scaling.Min, Max: scaling.Max}, Deadline: deadline,
		EgressAllow: policy.Entries(), Status: statusPending,
	}
	// The route check and the registration happen under one lock, so two
	// deploys cannot both take the same route.
	a.s.mu.Lock()
	if other := a.s.routeTaken(f.ID, method, path); other != nil {
		a.s.mu.Unlock()
		fail(c, &apiError{Status: http.StatusConflict,
			Message: fmt.Sprintf("%s %s is already served by flow %s (deployment %s)", method, path, other.FlowName, other.ID),
			Extra:   gin.H{"deployment": other.ID, "flow": other.FlowName}})
		return
	}
	if err := a.store.CreateDeployment(c, d); err != nil {
		a.s.mu.Unlock()
		fail(c, fmt.Errorf("deploy %s: %w", name, err))
		return
	}
	a.s.deployments[d.ID] = d
	a.s.mu.Unlock()

	if err := a.s.start(c, target, d, v.Files); err != nil {
		a.s.mu.Lock()
		delete(a.s.deployments, d.ID)
		a.s.mu.Unlock()
		_ = a.store.UpdateDeploymentStatus(context.WithoutCancel(c), d.ID, statusFailed, err.Error())
		fail(c, fmt.Errorf("deploy %s: %w", name, err))
		return
	}
	a.s.audit(c, "deploy", name, fmt.Sprintf("version %d to %s as deployment %s", d.VersionNumber, d.Target, d.ID))
	c.PureJSON(http.StatusCreated, a.s.view(c, d))
}

// routeTaken returns another flow's active deployment serving the same
// method and path shape. The caller holds s.mu.
func (s *Server) routeTaken(flowID, method, path string) *store.Deployment {
	key := flow.RouteKey(method, path)
	for _, d := range s.deployments {
		if d.FlowID != flowID && flow.RouteKey(d.Method, d.Path) == key {
			return d
		}
	}
	return nil
}

// start writes the bundle where instances read it and hands the deployment
// to its target.
func (s *Server) start(ctx context.Context, t deploy.Target, d *store.Deployment, files map[string][]byte) error {
	dir := s.bundleDir(d.ID)
	if err := writeBundle(dir, files); err != nil {
		return err
	}
	var command []string
	if _, ok := files[golang.BinaryFile]; ok {
		command = []string{golang.BinaryFile} // a Go bundle is its own instance
	}
	err := t.Deploy(ctx, deploy.Spec{
		ID: d.ID, Flow: d.FlowName, Version: d.VersionNumber, Method: d.Method, Path: d.Path,
		BundleDir: dir, Command: command, Env: d.Env, Secrets: d.Secrets, Datasources: d.Datasources,
		Scaling:     deploy.Scaling{Min: d.Scaling.Min, Max: d.Scaling.Max},
		Deadline:    d.Deadline,
		EgressAllow: d.EgressAllow,
	})
	if err != nil {
		return fmt.Errorf("start deployment %s: %w", d.ID, err)
	}
	s.syncRoutes()
	return nil
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

func (a deploymentsAPI) list(c *gin.Context) {
	f := store.DeploymentFilter{FlowName: c.Query("flow"), Active: c.Query("all") == ""}
	deps, err := a.store.ListDeployments(c, f)
	if err != nil {
		fail(c, fmt.Errorf("list deployments: %w", err))
		return
	}
	out := make([]deploymentView, len(deps))
	for i := range deps {
		out[i] = a.s.view(c, &deps[i])
	}
	c.PureJSON(http.StatusOK, out)
}

func (a deploymentsAPI) get(c *gin.Context) {
	d, err := a.store.GetDeployment(c, c.Param("id"))
	if err != nil {
		fail(c, fmt.Errorf("deployment %s: %w", c.Param("id"), err))
		return
	}
	c.PureJSON(http.StatusOK, a.s.view(c, d))
}

// delete undeploys: the route goes first, then the instances drain.
func (a deploymentsAPI) delete(c *gin.Context) {
	id := c.Param("id")
	d, err := a.store.GetDeployment(c, id)
	if err != nil {
		fail(c, fmt.Errorf("undeploy %s: %w", id, err))
		return
	}
	if err := a.s.stop(c, d); err != nil {
		fail(c, err)
		return
	}
	a.s.audit(c, "undeploy", d.FlowName, fmt.Sprintf("deployment %s (version %d)", d.ID, d.VersionNumber))
	c.Status(http.StatusNoContent)
}

func (s *Server) stop(ctx context.Context, d *store.Deployment) error {
	s.mu.Lock()
	delete(s.deployments, d.ID)
	s.mu.Unlock()
	s.syncRoutes()
	if t, ok := s.targets[d.Target]; ok {
		if err := t.Stop(ctx, d.ID); err != nil && !errors.Is(err, deploy.ErrNotFound) {
			return fmt.Errorf("undeploy %s: %w", d.ID, err)
		}
	}
	if err := s.store.UpdateDeploymentStatus(context.WithoutCancel(ctx), d.ID, statusStopped, "undeployed"); err != nil {
		return fmt.Errorf("undeploy %s: %w", d.ID, err)
	}
	_ = os.RemoveAll(s.bundleDir(d.ID))
	return nil
}

// logs answers a deployment's log lines, or streams them as server-sent
// events with follow=1.
func (a deploymentsAPI) logs(c *gin.Context) {
	id := c.Param("id")
	d, err := a.store.GetDeployment(c, id)
	if err != nil {
		fail(c, fmt.Errorf("logs of %s: %w", id, err))
		return
	}
	t, ok := a.s.targets[d.Target]
	if !ok {
		fail(c, errStatus(http.StatusNotFound, "deployment target "+d.Target+" is not configured"))
		return
	}
	f := deploy.LogFilter{TraceID: c.Query("trace_id"), Level: c.Query("level")}
	if since := c.Query("since"); since != "" {
		ts, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			fail(c, errStatus(http.StatusBadRequest, "since must be an RFC 3339 time"))
			return
		}
		f.Since = ts
	}
	if err := f.Validate(); err != nil {
		fail(c, errStatus(http.StatusBadRequest, err.Error()))
		return
	}
	if c.Query("follow") == "" || c.Query("follow") == "0" {
		lines, err := t.Logs(c, id, f)
		if err != nil {
			if errors.Is(err, deploy.ErrNotFound) {
				lines = nil // stopped, or not started since the server restarted
			} else {
				fail(c, fmt.Errorf("logs of %s: %w", id, err))
				return
			}
		}
		if lines == nil {
			lines = []deploy.LogLine{}
		}
		c.PureJSON(http.StatusOK, lines)
		return
	}
	ch, err := t.FollowLogs(c.Request.Context(), id, f)
	if err != nil {
		fail(c, fmt.Errorf("follow logs of %s: %w", id, err))
		return
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	c.Writer.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	c.Stream(func(w io.Writer) bool {
		select {
		case l, ok := <-ch:
			if !ok {
				return false
			}
			b, _ := json.Marshal(l)
			fmt.Fprintf(w, "data: %s\n\n", b)
			return true
		case <-keepAlive.C:
			_, _ = io.WriteString(w, ": keep-alive\n\n")
			return true
		case <-c.Request.Context().Done():
			return false
		}
	})
}

// liveStatus is a deployment's state as its target sees it now.
func (s *Server) liveStatus(d *store.Deployment) string {
	if d.Status == statusStopped {
		return d.Status
	}
	if t, ok := s.targets[d.Target]; ok {
		if st, err := t.Status(context.Background(), d.ID); err == nil {
			return st.State
		}
	}
	return d.Status
}

// deployedFlow reports whether a flow has an active deployment.
func (s *Server) deployedFlow(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deployments {
		if d.FlowName == name {
			return true
		}
	}
	return false
}

// syncRoutes rebuilds the gateway's table: one route per deployed flow,
// served by its newest deployment that has ready instances, so a new
// version takes traffic only once it can serve it.
func (s *Server) syncRoutes() {
	s.mu.Lock()
	byFlow := map[string][]*store.Deployment{}
	for _, d := range s.deployments {
		byFlow[d.FlowID] = append(byFlow[d.FlowID], d)
	}
	s.mu.Unlock()
	routes := make([]gateway.Route, 0, len(byFlow))
	for _, deps := range byFlow {
		sort.Slice(deps, func(i, j int) bool { return deps[i].CreatedAt.After(deps[j].CreatedAt) })
		newest := deps[0]
		ids := make([]string, len(deps))
		for i, d := range deps {
			ids[i] = d.ID
		}
		routes = append(routes, gateway.Route{
			DeploymentID: newest.ID, FlowID: newest.FlowID, Flow: newest.FlowName, Method: newest.Method, Path: newest.Path,
			Deadline: newest.Deadline,
			Backends: func() []string {
				for _, id := range ids {
					if b := s.local.Backends(id); len(b) > 0 {
						return b
					}
				}
				return nil
			},
		})
	}
	if err := s.gateway.SetRoutes(routes); err != nil {
		s.log.Error("update gateway routes", "error", err.Error())
	}
}

// watch keeps stored statuses current, and drains a flow's older
// deployments once a newer one is running.
func (s *Server) watch(ctx context.Context) {
	defer close(s.watchDone)
	changes, cancel := s.local.Subscribe()
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-tick.C:
		}
		s.reconcile(ctx)
	}
}

func (s *Server) reconcile(ctx context.Context) {
	s.mu.Lock()
	deps := make([]*store.Deployment, 0, len(s.deployments))
	for _, d := range s.deployments {
		deps = append(deps, d)
	}
	s.mu.Unlock()
	newestRunning := map[string]time.Time{}
	for _, d := range deps {
		t, ok := s.targets[d.Target]
		if !ok {
			continue
		}
		st, err := t.Status(ctx, d.ID)
		if err != nil {
			continue
		}
		if st.State != d.Status || st.Message != d.Message {
			if err := s.store.UpdateDeploymentStatus(ctx, d.ID, st.State, st.Message); err == nil {
				s.mu.Lock()
				d.Status, d.Message = st.State, st.Message
				s.mu.Unlock()
			}
		}
		if st.State == statusRunning && d.CreatedAt.After(newestRunning[d.FlowID]) {
			newestRunning[d.FlowID] = d.CreatedAt
		}
	}
	for _, d := range deps {
		if n, ok := newestRunning[d.FlowID]; ok && d.CreatedAt.Before(n) {
			s.log.Info("draining replaced deployment", "flow", d.FlowName, "deployment", d.ID, "version", d.VersionNumber)
			if err := s.stop(ctx, d); err != nil {
				s.log.Error("drain replaced deployment", "deployment", d.ID, "error", err.Error())
			}
		}
	}
	s.syncRoutes()
}

// restore starts the deployments that were active when the server stopped.
func (s *Server) restore(ctx context.Context) error {
	deps, err := s.store.ListDeployments(ctx, store.DeploymentFilter{Active: true})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for i := range deps {
		d := &deps[i]
		if d.Status == statusFailed {
			continue
		}
		t, ok := s.targets[d.Target]
		if !ok {
			s.log.Warn("deployment target not configured; not restored", "deployment", d.ID, "target", d.Target)
			continue
		}
		v, err := s.store.GetVersion(ctx, d.FlowName, d.VersionNumber)
		if err != nil {
			s.log.Error("restore deployment", "deployment", d.ID, "error", err.Error())
			continue
		}
		s.mu.Lock()
		s.deployments[d.ID] = d
		s.mu.Unlock()
		if err := s.start(ctx, t, d, v.Files); err != nil {
			s.log.Error("restore deployment", "deployment", d.ID, "error", err.Error())
			continue
		}
		s.log.Info("restored deployment", "flow", d.FlowName, "version", d.VersionNumber, "deployment", d.ID)
	}
	return nil
}

func jsonRaw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}
