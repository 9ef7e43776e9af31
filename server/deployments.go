package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// deploymentStore is what the deployments API needs of the store.
type deploymentStore interface {
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
	ListVersions(ctx context.Context, flowName string) ([]store.Version, error)
	GetVersion(ctx context.Context, flowName string, number int) (*store.Version, error)
	GetDeployment(ctx context.Context, id string) (*store.Deployment, error)
	ListDeployments(ctx context.Context, f store.DeploymentFilter) ([]store.Deployment, error)
}

// deploymentsAPI deploys, shows and undeploys; the manager does the work.
type deploymentsAPI struct {
	store      deploymentStore
	manager    *deploy.Manager
	gatewayURL func() string // known once the gateway listens
	audit      func(c *gin.Context, action, target, detail string)
}

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
// http.request's allow-list (engine/egress.Parse), a list of CIDRs, IP
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

func (a deploymentsAPI) view(ctx context.Context, d *store.Deployment) deploymentView {
	v := deploymentView{
		ID: d.ID, Flow: d.FlowName, Version: d.VersionNumber, Target: d.Target, Status: d.Status, Message: d.Message,
		URL: a.gatewayURL() + d.Path, Method: d.Method, Path: d.Path, Env: nonNil(d.Env),
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
	if st, ok := a.manager.Status(ctx, d); ok {
		v.Status, v.Message = st.State, st.Message
		if st.Instances != nil {
			v.Instances = st.Instances
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
	if _, ok := a.manager.Target(req.Target); !ok {
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
		EgressAllow: policy.Entries(),
	}
	if err := a.manager.Deploy(c, d, v.Files); err != nil {
		fail(c, fmt.Errorf("deploy %s: %w", name, err))
		return
	}
	a.audit(c, "deploy", name, fmt.Sprintf("version %d to %s as deployment %s", d.VersionNumber, d.Target, d.ID))
	c.PureJSON(http.StatusCreated, a.view(c, d))
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
		out[i] = a.view(c, &deps[i])
	}
	c.PureJSON(http.StatusOK, out)
}

func (a deploymentsAPI) get(c *gin.Context) {
	d, err := a.store.GetDeployment(c, c.Param("id"))
	if err != nil {
		fail(c, fmt.Errorf("deployment %s: %w", c.Param("id"), err))
		return
	}
	c.PureJSON(http.StatusOK, a.view(c, d))
}

// delete undeploys: the route goes first, then the instances drain.
func (a deploymentsAPI) delete(c *gin.Context) {
	id := c.Param("id")
	d, err := a.store.GetDeployment(c, id)
	if err != nil {
		fail(c, fmt.Errorf("undeploy %s: %w", id, err))
		return
	}
	if err := a.manager.Stop(c, d); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "undeploy", d.FlowName, fmt.Sprintf("deployment %s (version %d)", d.ID, d.VersionNumber))
	c.Status(http.StatusNoContent)
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
	t, ok := a.manager.Target(d.Target)
	if !ok {
		fail(c, errStatus(http.StatusNotFound, "deployment target "+d.Target+" is not configured"))
		return
	}
	// Trace ids are lower-case hex; one pasted in upper case means the same.
	f := deploy.LogFilter{TraceID: strings.ToLower(c.Query("trace_id")), Level: c.Query("level")}
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
