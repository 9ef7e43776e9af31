package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// maxDocument bounds a flow document sent to the API.
const maxDocument = 4 << 20

// flowStore is what the flows API needs of the store.
type flowStore interface {
	CreateFlow(ctx context.Context, name string, doc []byte) (*store.Flow, error)
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
	ListFlows(ctx context.Context) ([]store.Flow, error)
	SaveFlow(ctx context.Context, name string, ifRevision int, newName string, doc []byte) (*store.Flow, error)
	DeleteFlow(ctx context.Context, name string) error
	ListRevisions(ctx context.Context, name string) ([]store.Revision, error)
	GetRevision(ctx context.Context, name string, rev int) (*store.Revision, error)
	ListVersions(ctx context.Context, flowName string) ([]store.Version, error)
	ListDeployments(ctx context.Context, f store.DeploymentFilter) ([]store.Deployment, error)
}

type flowsAPI struct {
	store    flowStore
	manager  *deploy.Manager // which flows are deployed, and how they are
	registry *flow.Registry
}

// flowView is a flow as the API shows it.
type flowView struct {
	Name      string          `json:"name"`
	Revision  int             `json:"revision"`
	Document  json.RawMessage `json:"document"`
	UpdatedAt time.Time       `json:"updated_at"`
	CreatedAt time.Time       `json:"created_at"`
}

func viewFlow(f *store.Flow) flowView {
	return flowView{Name: f.Name, Revision: f.Revision, Document: json.RawMessage(f.Document), UpdatedAt: f.UpdatedAt, CreatedAt: f.CreatedAt}
}

// readDocument reads and parses a flow document from the request body.
func readDocument(c *gin.Context) (*flow.Document, []byte, error) {
	data, err := readBody(c, maxDocument)
	if err != nil {
		return nil, nil, err
	}
	d, err := flow.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	return d, data, nil
}

func readBody(c *gin.Context, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// decodeJSON decodes a request body strictly into v.
func decodeJSON(c *gin.Context, limit int64, v any) error {
	data, err := readBody(c, limit)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{Status: http.StatusBadRequest, Message: "malformed request body: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}

func (a flowsAPI) create(c *gin.Context) {
	d, data, err := readDocument(c)
	if err != nil {
		fail(c, err)
		return
	}
	f, err := a.store.CreateFlow(c, d.Name, data)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", strconv.Itoa(f.Revision))
	c.PureJSON(http.StatusCreated, viewFlow(f))
}

func (a flowsAPI) get(c *gin.Context) {
	f, err := a.store.GetFlow(c, c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("ETag", strconv.Itoa(f.Revision))
	c.PureJSON(http.StatusOK, viewFlow(f))
}

// flowSummary is a line of the flows list.
type flowSummary struct {
	Name          string           `json:"name"`
	Revision      int              `json:"revision"`
	Description   string           `json:"description"`
	Method        string           `json:"method"`
	Path          string           `json:"path"`
	UpdatedAt     time.Time        `json:"updated_at"`
	LatestVersion *versionView     `json:"latest_version"`
	Deployments   []deploymentLine `json:"deployments"`
}

type deploymentLine struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Target  string `json:"target"`
	Status  string `json:"status"`
}

func (a flowsAPI) list(c *gin.Context) {
	flows, err := a.store.ListFlows(c)
	if err != nil {
		fail(c, err)
		return
	}
	deps, err := a.store.ListDeployments(c, store.DeploymentFilter{Active: true})
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]flowSummary, 0, len(flows))
	for _, f := range flows {
		sum := flowSummary{Name: f.Name, Revision: f.Revision, UpdatedAt: f.UpdatedAt, Deployments: []deploymentLine{}}
		var d flow.Document
		if json.Unmarshal(f.Document, &d) == nil {
			sum.Description = d.Description
			sum.Method, sum.Path, _ = flow.Route(&d)
		}
		if vs, err := a.store.ListVersions(c, f.Name); err == nil && len(vs) > 0 {
			v := viewVersion(&vs[0])
			sum.LatestVersion = &v
		}
		for _, dep := range deps {
			if dep.FlowID == f.ID {
				status := dep.Status
				if st, ok := a.manager.Status(c, &dep); ok {
					status = st.State
				}
				sum.Deployments = append(sum.Deployments, deploymentLine{ID: dep.ID, Version: dep.VersionNumber, Target: dep.Target, Status: status})
			}
		}
		out = append(out, sum)
	}
	c.PureJSON(http.StatusOK, out)
}

// ifMatch reads the If-Match revision; a quoted ETag is accepted too.
func ifMatch(c *gin.Context) (int, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" {
		return 0, &apiError{Status: http.StatusPreconditionRequired, Message: "saving needs If-Match with the revision you edited (from GET, or the ETag header)"}
	}
	h = strings.TrimPrefix(h, "W/")
	n, err := strconv.Atoi(strings.Trim(h, `"`))
	if err != nil || n < 0 {
		return 0, &apiError{Status: http.StatusBadRequest, Message: fmt.Sprintf("If-Match %q is not a revision number", h)}
	}
	return n, nil
}

func (a flowsAPI) save(c *gin.Context) {
	name := c.Param("name")
	rev, err := ifMatch(c)
	if err != nil {
		fail(c, err)
		return
	}
	d, data, err := readDocument(c)
	if err != nil {
		fail(c, err)
		return
	}
	f, err := a.store.SaveFlow(c, name, rev, d.Name, data)
	if err != nil {
		if isStale(err) {
			cur, gerr := a.store.GetFlow(c, name)
			extra := gin.H{}
			if gerr == nil {
				extra["current_revision"] = cur.Revision
			}
			fail(c, &apiError{Status: http.StatusConflict, Message: fmt.Sprintf("flow %s was saved by someone else since revision %d", name, rev), Extra: extra})
			return
		}
		fail(c, err)
		return
	}
	c.Header("ETag", strconv.Itoa(f.Revision))
	c.PureJSON(http.StatusOK, viewFlow(f))
}

func (a flowsAPI) delete(c *gin.Context) {
	name := c.Param("name")
	if a.manager.Deployed(name) {
		fail(c, errStatus(http.StatusConflict, fmt.Sprintf("flow %s is deployed; undeploy it first", name)))
		return
	}
	if err := a.store.DeleteFlow(c, name); err != nil {
		fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type revisionView struct {
	Revision  int       `json:"revision"`
	CreatedAt time.Time `json:"created_at"`
}

func (a flowsAPI) revisions(c *gin.Context) {
	revs, err := a.store.ListRevisions(c, c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]revisionView, len(revs))
	for i, r := range revs {
		out[i] = revisionView{Revision: r.Revision, CreatedAt: r.CreatedAt}
	}
	c.PureJSON(http.StatusOK, out)
}

// revision answers one saved state of a flow, the base a designer merges
// against when its save meets someone else's.
func (a flowsAPI) revision(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("revision"))
	if err != nil || n < 1 {
		fail(c, errStatus(http.StatusBadRequest, "revision must be a positive number"))
		return
	}
	r, err := a.store.GetRevision(c, c.Param("name"), n)
	if err != nil {
		fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"revision": r.Revision, "document": json.RawMessage(r.Document), "created_at": r.CreatedAt})
}

// analyzeRequest is a document to analyze, with the node outputs of its
// last test run (by node id) to type what the flow itself does not say.
type analyzeRequest struct {
	Flow    json.RawMessage `json:"flow"`
	Samples map[string]any  `json:"samples"`
}

// analyze answers a document's problems, type problems included, and the
// type of each node's output: what the designer checks and completes
// expressions with as the user works.
func (a flowsAPI) analyze(c *gin.Context) {
	var req analyzeRequest
	if err := decodeJSON(c, 2*maxDocument, &req); err != nil {
		fail(c, err)
		return
	}
	d, err := flow.Parse(req.Flow)
	if err != nil {
		if de, ok := err.(*flow.DocumentError); ok {
			c.PureJSON(http.StatusOK, flow.Analysis{Problems: de.Problems, Types: map[string]*flow.Type{}})
			return
		}
		fail(c, err)
		return
	}
	an := flow.Analyze(d, a.registry, req.Samples)
	if an.Problems == nil {
		an.Problems = []flow.Problem{}
	}
	c.PureJSON(http.StatusOK, an)
}

// problems answers a validation: every problem, never nil.
func problems(p []flow.Problem) gin.H {
	if p == nil {
		p = []flow.Problem{}
	}
	return gin.H{"errors": p}
}

func (a flowsAPI) validate(c *gin.Context) {
	f, err := a.store.GetFlow(c, c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	d, err := flow.Parse(f.Document)
	if err != nil {
		fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, problems(flow.Validate(d, a.registry)))
}

// validateDocument validates an unsaved document, for the designer's live
// checks. A document that does not even parse is answered with its problems
// too, so the designer has one shape to show.
func (a flowsAPI) validateDocument(c *gin.Context) {
	data, err := readBody(c, maxDocument)
	if err != nil {
		fail(c, err)
		return
	}
	d, err := flow.Parse(data)
	if err != nil {
		if de, ok := err.(*flow.DocumentError); ok {
			c.PureJSON(http.StatusOK, problems(de.Problems))
			return
		}
		fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, problems(flow.Validate(d, a.registry)))
}
