package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/build"
	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// versionStore is what publishing needs of the store.
type versionStore interface {
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
	ReserveVersion(ctx context.Context, flowName string) (int, error)
	CreateVersion(ctx context.Context, nv store.NewVersion) (*store.Version, error)
	ListVersions(ctx context.Context, flowName string) ([]store.Version, error)
	GetVersion(ctx context.Context, flowName string, number int) (*store.Version, error)
}

type versionsAPI struct {
	store    versionStore
	registry *flow.Registry
	gobuild  *build.Builder
	audit    func(c *gin.Context, action, target, detail string)
	locks    *sync.Map // flow name -> *sync.Mutex: one publish at a time per flow
}

type versionView struct {
	Version   int       `json:"version"`
	Revision  int       `json:"revision"` // the flow revision it was built from
	Target    string    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
}

func viewVersion(v *store.Version) versionView {
	return versionView{Version: v.Number, Revision: v.Revision, Target: v.Target, CreatedAt: v.CreatedAt}
}

type publishRequest struct {
	Target string `json:"target"`
	// Revision is the flow revision the user saw; a publish of anything
	// else is refused, so a concurrent save is never published unseen.
	// Absent (0) publishes the current revision, for scripts.
	Revision int `json:"revision"`
}

// publish validates the saved draft, generates its bundle (and, for target
// go, builds the binary) and stores it as an immutable version. A failure
// stores nothing and loses nothing. With Accept: text/event-stream the
// answer is a stream: `log` events with the build's progress, then one
// `done` event with the version, or one `error` event with the error body
// and its status.
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
	if req.Target != "js" && req.Target != "go" {
		fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("target %q is not available; use js or go", req.Target)))
		return
	}
	if req.Revision < 0 {
		fail(c, errStatus(http.StatusBadRequest, "revision must be a positive number"))
		return
	}
	if req.Target == "go" {
		// Said at once, before anything is generated or streamed.
		if err := a.gobuild.Available(c.Request.Context()); err != nil {
			fail(c, err)
			return
		}
	}
	if !acceptsEventStream(c.GetHeader("Accept")) {
		v, err := a.publishVersion(c.Request.Context(), name, req, io.Discard)
		if err != nil {
			fail(c, err)
			return
		}
		a.audited(c, v)
		c.PureJSON(http.StatusCreated, viewVersion(v))
		return
	}

	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-cache")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	ev := &eventWriter{w: c.Writer, flush: c.Writer.Flush}
	v, err := a.publishVersion(c.Request.Context(), name, req, ev)
	if err != nil {
		status, body := errorBody(err)
		if status >= 500 {
			logFailure(c, err, body)
		}
		body["status"] = status
		ev.send("error", body)
		return
	}
	a.audited(c, v)
	ev.send("done", viewVersion(v))
}

func (a versionsAPI) audited(c *gin.Context, v *store.Version) {
	a.audit(c, "publish", v.FlowName, fmt.Sprintf("version %d (%s) from revision %d", v.Number, v.Target, v.Revision))
}

// publishVersion does the work of publish, writing progress lines to log.
// The version number is reserved before the bundle is generated, so the
// number baked into it is the one it is stored under.
func (a versionsAPI) publishVersion(ctx context.Context, name string, req publishRequest, log io.Writer) (*store.Version, error) {
	mu, _ := a.locks.LoadOrStore(name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	f, err := a.store.GetFlow(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	if req.Revision != 0 && req.Revision != f.Revision {
		return nil, &apiError{Status: http.StatusConflict,
			Message: fmt.Sprintf("flow %s is at revision %d, not %d: it was saved since; load it again and publish what you see", name, f.Revision, req.Revision),
			Extra:   gin.H{"revision": f.Revision}}
	}
	d, err := flow.Parse(f.Document)
	if err != nil {
		return nil, err
	}
	if probs := flow.Validate(d, a.registry); len(flow.Errors(probs)) > 0 {
		return nil, &flow.ValidationError{Problems: probs} // before a number is used up
	}
	number, err := a.store.ReserveVersion(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	var files map[string][]byte
	switch req.Target {
	case "js":
		files, err = js.Generate(d, a.registry, number)
	case "go":
		files, err = a.buildGo(ctx, d, number, log)
	}
	if err != nil {
		return nil, err
	}
	v, err := a.store.CreateVersion(ctx, store.NewVersion{Flow: name, Number: number, Revision: f.Revision,
		Target: req.Target, Document: f.Document, Files: files})
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	return v, nil
}

// buildGo generates the Go target and builds its binary. The files are the
// binary (golang.BinaryFile), main.go and manifest.json.
func (a versionsAPI) buildGo(ctx context.Context, d *flow.Document, version int, log io.Writer) (map[string][]byte, error) {
	files, err := golang.Generate(d, a.registry, version)
	if err != nil {
		var fe *golang.FormatError
		if errors.As(err, &fe) {
			return nil, &apiError{Status: http.StatusInternalServerError, Message: err.Error(),
				Extra: gin.H{"source": string(fe.Source), "build_log": fe.Err.Error()}}
		}
		return nil, err
	}
	fmt.Fprintf(log, "generated %s for flow %s, version %d (%d lines)\n", golang.MainFile, d.Name, version,
		bytes.Count(files[golang.MainFile], []byte("\n")))
	bin, err := a.gobuild.Build(ctx, files[golang.MainFile], log)
	if err != nil {
		var be *build.Error
		if errors.As(err, &be) {
			return nil, &apiError{Status: http.StatusInternalServerError,
				Message: fmt.Sprintf("building flow %s version %d failed: %v", d.Name, version, be.Err),
				Extra:   gin.H{"build_log": be.Log, "source": string(files[golang.MainFile])}}
		}
		return nil, fmt.Errorf("build flow %s version %d: %w", d.Name, version, err)
	}
	fmt.Fprintf(log, "binary: %d bytes\n", len(bin))
	files[golang.BinaryFile] = bin
	return files, nil
}

// acceptsEventStream reports whether an Accept header asks for
// server-sent events.
func acceptsEventStream(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

// eventWriter streams server-sent events. As an io.Writer it sends every
// line written as a `log` event.
type eventWriter struct {
	mu      sync.Mutex
	w       io.Writer
	flush   func()
	partial []byte
}

func (e *eventWriter) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.partial = append(e.partial, p...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(e.partial[:i]), "\r")
		e.partial = e.partial[i+1:]
		fmt.Fprintf(e.w, "event: log\ndata: %s\n\n", line)
	}
	e.flush()
	return len(p), nil
}

// send sends one event with v as JSON.
func (e *eventWriter) send(event string, v any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.partial) > 0 {
		fmt.Fprintf(e.w, "event: log\ndata: %s\n\n", strings.TrimRight(string(e.partial), "\r\n"))
		e.partial = nil
	}
	b, _ := json.Marshal(v)
	fmt.Fprintf(e.w, "event: %s\ndata: %s\n\n", event, b)
	e.flush()
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
	// Sources are shown as text; a Go bundle's binary by its size only.
	files := map[string]string{}
	binaries := map[string]int{}
	for k, b := range v.Files {
		if k == golang.BinaryFile || !utf8.Valid(b) {
			binaries[k] = len(b)
			continue
		}
		files[k] = string(b)
	}
	c.PureJSON(http.StatusOK, gin.H{"version": v.Number, "target": v.Target, "created_at": v.CreatedAt,
		"document": jsonRaw(v.Document), "files": files, "binaries": binaries})
}

func jsonRaw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}
