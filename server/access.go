package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// accessStore is what endpoint access needs of the store.
type accessStore interface {
	GetAccess(ctx context.Context, flowName string) (*store.Access, error)
	AllAccess(ctx context.Context) ([]store.Access, error)
	SetAccess(ctx context.Context, flowName string, requireKey bool, corsOrigins []string) error
	CreateFlowKey(ctx context.Context, flowName string, k *store.FlowKey) error
	DeleteFlowKey(ctx context.Context, flowName, id string) error
}

// accessAPI manages who may call a flow's published endpoint: whether it
// needs an API key, its keys with their rate limits, and the browser
// origins CORS allows. Changes reach the gateway at once.
type accessAPI struct {
	store   accessStore
	refresh func(ctx context.Context) error
	audit   func(c *gin.Context, action, target, detail string)
	log     *slog.Logger
}

const flowKeyPrefix = "flk_"

func (a accessAPI) get(c *gin.Context) {
	acc, err := a.store.GetAccess(c, c.Param("name"))
	if err != nil {
		fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, acc)
}

func (a accessAPI) set(c *gin.Context) {
	var req struct {
		RequireKey  bool     `json:"require_key"`
		CORSOrigins []string `json:"cors_origins"`
	}
	if err := decodeJSON(c, 64<<10, &req); err != nil {
		fail(c, err)
		return
	}
	origins := make([]string, 0, len(req.CORSOrigins))
	for _, o := range req.CORSOrigins {
		o, err := checkOrigin(o)
		if err != nil {
			fail(c, err)
			return
		}
		origins = append(origins, o)
	}
	name := c.Param("name")
	if err := a.store.SetAccess(c, name, req.RequireKey, origins); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "access.update", name, fmt.Sprintf("require_key %v, cors_origins %v", req.RequireKey, origins))
	a.changed(c)
	a.get(c)
}

// checkOrigin accepts "*" or scheme://host[:port], as browsers send it.
func checkOrigin(o string) (string, error) {
	o = strings.TrimRight(strings.TrimSpace(o), "/")
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err == nil && u.Port() != "" {
		if n, perr := strconv.Atoi(u.Port()); perr != nil || n < 1 || n > 65535 {
			err = fmt.Errorf("port %q", u.Port())
		}
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.Path != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#") || u.User != nil {
		return "", errStatus(http.StatusBadRequest, fmt.Sprintf("origin %q must be * or scheme://host[:port], like https://shop.example", o))
	}
	return strings.ToLower(o), nil
}

// createKey makes an API key for the flow's endpoint; the secret is in
// this answer only.
func (a accessAPI) createKey(c *gin.Context) {
	var req struct {
		Name          string `json:"name"`
		RatePerMinute int    `json:"rate_per_minute"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		fail(c, errStatus(http.StatusBadRequest, "a key needs a name of at most 100 characters, to tell it apart"))
		return
	}
	if req.RatePerMinute < 0 || req.RatePerMinute > 1_000_000 {
		fail(c, errStatus(http.StatusBadRequest, "rate_per_minute must be between 0 (no limit) and 1000000"))
		return
	}
	name := c.Param("name")
	secret, hash, shown := mintKey(flowKeyPrefix)
	k := &store.FlowKey{Name: req.Name, KeyHash: hash, Prefix: shown, RatePerMinute: req.RatePerMinute}
	if err := a.store.CreateFlowKey(c, name, k); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "key.create", name, fmt.Sprintf("%s (%s…), %d per minute", k.Name, k.Prefix, k.RatePerMinute))
	a.changed(c)
	c.PureJSON(http.StatusCreated, gin.H{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "rate_per_minute": k.RatePerMinute,
		"created_at": k.CreatedAt, "key": secret})
}

func (a accessAPI) deleteKey(c *gin.Context) {
	name := c.Param("name")
	if err := a.store.DeleteFlowKey(c, name, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "key.delete", name, c.Param("id"))
	a.changed(c)
	c.Status(http.StatusNoContent)
}

// changed hands the gateway the new rules. The change is saved either way;
// a failure to reload is logged and retried by the next change or start.
func (a accessAPI) changed(c *gin.Context) {
	if err := a.refresh(c.Request.Context()); err != nil {
		a.log.Error("reload endpoint access", "error", err.Error())
	}
}

// refreshAccess loads every flow's access rules into the gateway.
func (s *Server) refreshAccess(ctx context.Context) error {
	all, err := s.store.AllAccess(ctx)
	if err != nil {
		return err
	}
	byFlow := make(map[string]gateway.Access, len(all))
	for _, a := range all {
		ga := gateway.Access{RequireKey: a.RequireKey, Origins: a.CORSOrigins}
		for _, k := range a.Keys {
			ga.Keys = append(ga.Keys, gateway.Key{ID: k.ID, Name: k.Name, Hash: k.KeyHash, PerMinute: k.RatePerMinute})
		}
		byFlow[a.FlowID] = ga
	}
	s.gateway.SetAccess(byFlow)
	return nil
}
