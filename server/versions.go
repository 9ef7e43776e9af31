package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// versionStore is what publishing needs of the store.
type versionStore interface {
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
	CreateVersion(ctx context.Context, flowName, target string, doc []byte, files map[string][]byte) (*store.Version, error)
	ListVersions(ctx context.Context, flowName string) ([]store.Version, error)
	GetVersion(ctx context.Context, flowName string, number int) (*store.Version, error)
}

type versionsAPI struct {
	s     *Server
	store versionStore
}

type versionView struct {
	Version   int       `json:"version"`
	Target    string    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
}

func viewVersion(v *store.Version) versionView {
	return versionView{Version: v.Number, Target: v.Target, CreatedAt: v.CreatedAt}
}

type publishRequest struct {
	Target string `json:"target"`
}

// publish validates the saved draft, generates its bundle and stores it as
// an immutable version. A failure stores nothing and loses nothing.
func (a versionsAPI) publish(c *gin.Context) {
	name := c.Param("name")
	var req publishRequest
	if err := decodeJSON(c, 1<<16, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Target == "" {
		req.Target = "js"
	}
	mu, _ := a.s.publishMu.LoadOrStore(name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	f, err := a.store.GetFlow(c, name)
	if err != nil {
		fail(c, fmt.Errorf("publish %s: %w", name, err))
		return
	}
	d, err := flow.Parse(f.Document)
	if err != nil {
		fail(c, err)
		return
	}
	next := 1
	if vs, err := a.store.ListVersions(c, name); err == nil && len(vs) > 0 {
		next = vs[0].Number + 1
	}
	var files map[string][]byte
	switch req.Target {
	case "js":
		files, err = js.Generate(d, a.s.registry, next)
	default:
		fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("target %q is not available; use js", req.Target)))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	v, err := a.store.CreateVersion(c, name, req.Target, f.Document, files)
	if err != nil {
		fail(c, fmt.Errorf("publish %s: %w", name, err))
		return
	}
	if v.Number != next {
		a.s.log.Warn("version number raced with another server", "flow", name, "expected", next, "got", v.Number)
	}
	c.PureJSON(http.StatusCreated, viewVersion(v))
}

func (a versionsAPI) list(c *gin.Context) {
	name := c.Param("name")
	if _, err := a.store.GetFlow(c, name); err != nil {
		fail(c, fmt.Errorf("versions of %s: %w", name, err))
		return
	}
	vs, err := a.store.ListVersions(c, name)
	if err != nil {
		fail(c, fmt.Errorf("versions of %s: %w", name, err))
		return
	}
	out := make([]versionView, len(vs))
	for i := range vs {
		out[i] = viewVersion(&vs[i])
	}
	c.PureJSON(http.StatusOK, out)
}

// get shows one version with its document and generated source, so a user
// can read what runs.
func (a versionsAPI) get(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil {
		fail(c, errStatus(http.StatusBadRequest, "version must be a number"))
		return
	}
	v, err := a.store.GetVersion(c, c.Param("name"), n)
	if err != nil {
		fail(c, fmt.Errorf("version %d of %s: %w", n, c.Param("name"), err))
		return
	}
	files := map[string]string{}
	for k, b := range v.Files {
		files[k] = string(b)
	}
	c.PureJSON(http.StatusOK, gin.H{"version": v.Number, "target": v.Target, "created_at": v.CreatedAt,
		"document": jsonRaw(v.Document), "files": files})
}
