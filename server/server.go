// Package server is Flowline's control plane: the REST API under /api/v1,
// the designer's files, the debug console's streams, and the gateway that
// serves published endpoints on a listener of its own.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/flowline/flowline/codegen/build"
	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/deploy/local"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// Version is the server's version, shown by /api/v1/info.
var Version = "dev"

// logKey holds the server's logger in a request's context, for fail.
const logKey = "flowline.log"

// Server wires the store, the node registry, the deployment manager with
// its targets, and the gateway behind the API's handler groups.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	registry *flow.Registry
	local    *local.Supervisor // the "local" target; closed with the server
	manager  *deploy.Manager
	gateway  *gateway.Gateway
	api      http.Handler

	gatewayURL    string
	apiSrv, gwSrv *http.Server
	apiAddr       string
}

// New opens the store and builds the server; Start makes it listen.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, cfg.storeOptions()...)
	if err != nil {
		return nil, err
	}
	if len(cfg.HostCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("find the flowline binary for instances: %w", err)
		}
		cfg.HostCommand = []string{exe, "host"}
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		store:    st,
		registry: nodes.Registry(),
	}
	s.local = local.New(local.Config{
		Command: cfg.HostCommand,
		// Instances take the gateway's body limit, so a body the gateway
		// lets through is never refused behind it.
		Env:          append([]string{fmt.Sprintf("%s=%d", contract.EnvMaxBody, cfg.MaxBody)}, cfg.HostEnv...),
		Logger:       log.With("component", "local"),
		ReadyTimeout: cfg.ReadyTimeout,
	})
	s.gateway, err = gateway.New(gateway.Config{
		MaxBodyBytes: cfg.MaxBody,
		Logger:       log.With("component", "gateway"),
		Registerer:   prometheus.NewRegistry(),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.manager = deploy.NewManager(deploy.ManagerConfig{
		Store:     st,
		Targets:   map[string]deploy.Target{"local": s.local},
		BundleDir: filepath.Join(cfg.DataDir, "bundles"),
		SetRoutes: s.gateway.SetRoutes,
		Logger:    log.With("component", "deploy"),
	})
	au := &auth{store: st, token: cfg.APIToken, secure: cfg.SecureCookies, log: log, logins: map[string]*rate.Limiter{}}
	if u, err := url.Parse(cfg.URL); err == nil {
		au.host = u.Host
	}
	if err := s.firstAdmin(ctx); err != nil {
		st.Close()
		return nil, err
	}
	gobuild := build.New(build.Config{Go: cfg.GoCommand, Dir: filepath.Join(cfg.DataDir, "gobuild")})
	s.api = s.routes(au, gobuild, newProcessRunner(cfg.HostCommand, cfg.HostEnv, 4))
	return s, nil
}

// firstAdmin makes the first admin when there is no user yet: the one the
// configuration names, or "admin" with a one-time password, printed once,
// that must be changed at the first sign-in.
func (s *Server) firstAdmin(ctx context.Context) error {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	name, pw, oneTime := s.cfg.AdminUser, s.cfg.AdminPassword, false
	if name == "" {
		name = "admin"
	}
	if pw == "" {
		pw, oneTime = newSecret(12), true
	}
	hash, err := hashPassword(pw)
	if err != nil {
		return fmt.Errorf("first admin (%s): %w", EnvAdminPass, err)
	}
	u := &store.User{Name: name, Role: store.RoleAdmin, PasswordHash: hash, MustChange: oneTime}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if oneTime {
		s.log.Warn("first start: made the admin user; sign in to the designer with this one-time password and choose your own",
			"user", name, "one_time_password", pw)
	} else {
		s.log.Info("first start: made the admin user from the configuration", "user", name)
	}
	return nil
}

// audit records what the caller did; a failure to record is logged, not
// fatal to what was done.
func (s *Server) audit(c *gin.Context, action, target, detail string) {
	actor := "anonymous"
	if cl := callerOf(c); cl != nil {
		actor = cl.name()
	}
	if err := s.store.Audit(context.WithoutCancel(c.Request.Context()), store.AuditEntry{Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		s.log.Error("audit", "action", action, "error", err.Error())
	}
}

// Start listens on the API and gateway addresses and brings back the
// deployments that were running before the server stopped.
func (s *Server) Start(ctx context.Context) error {
	apiLn, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	gwLn, err := net.Listen("tcp", s.cfg.GatewayAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("listen %s: %w", s.cfg.GatewayAddr, err)
	}
	s.gatewayURL = s.cfg.gatewayURL(gwLn.Addr().String())
	s.apiAddr = apiLn.Addr().String()
	// A slow client cannot hold a connection by trickling its request; no
	// write timeout, since log streams and Go builds answer for minutes.
	s.apiSrv = &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	s.gwSrv = gateway.NewServer("", s.gateway)
	go func() { _ = s.apiSrv.Serve(apiLn) }()
	go func() { _ = s.gwSrv.Serve(gwLn) }()
	s.log.Info("listening", "api", localURL(apiLn.Addr().String()), "gateway", s.gatewayURL)

	// Access rules first, so that no endpoint that needs a key is ever
	// served without.
	if err := s.refreshAccess(ctx); err != nil {
		return fmt.Errorf("load endpoint access: %w", err)
	}
	if err := s.manager.Start(ctx); err != nil {
		s.log.Error("restore deployments", "error", err.Error())
	}
	return nil
}

// APIAddr is the API's listen address, once started.
func (s *Server) APIAddr() string { return s.apiAddr }

// GatewayURL is the base URL of published endpoints.
func (s *Server) GatewayURL() string { return s.gatewayURL }

// Close stops listening, stops every instance (they come back on the next
// start) and closes the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.apiSrv != nil {
		errs = append(errs, s.apiSrv.Shutdown(ctx))
	}
	if s.gwSrv != nil {
		errs = append(errs, s.gwSrv.Shutdown(ctx))
	}
	s.manager.Close()
	errs = append(errs, s.local.Close(ctx))
	errs = append(errs, s.store.Close())
	for _, err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

func (s *Server) routes(au *auth, gobuild *build.Builder, testRuns testRunner) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", fmt.Sprint(err))
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error", "details": []any{}})
	}))
	r.Use(func(c *gin.Context) {
		c.Set(logKey, s.log)
		c.Next()
	})
	// Every route: same-site JSON callers only. Every route but sign-in:
	// a signed-in caller, with at least the role the route names.
	api := r.Group("/api/v1", au.sameSite)
	u := usersAPI{store: s.store, auth: au, audit: s.audit}
	api.POST("/session", u.login)
	v1 := api.Group("", au.authenticate)
	viewer, editor, admin := v1.Group("", need(store.RoleViewer)), v1.Group("", need(store.RoleEditor)), v1.Group("", need(store.RoleAdmin))

	v1.GET("/session", u.session)
	v1.DELETE("/session", u.logout)
	v1.POST("/session/password", u.changePassword)
	viewer.GET("/tokens", u.listTokens)
	viewer.POST("/tokens", u.createToken)
	viewer.DELETE("/tokens/:id", u.deleteToken)
	admin.GET("/users", u.listUsers)
	admin.POST("/users", u.createUser)
	admin.PATCH("/users/:name", u.updateUser)
	admin.DELETE("/users/:name", u.deleteUser)
	admin.GET("/audit", u.auditLog)

	in := infoAPI{manager: s.manager, gobuild: gobuild, gatewayURL: s.GatewayURL}
	f := flowsAPI{store: s.store, manager: s.manager, registry: s.registry}
	viewer.GET("/info", in.info)
	viewer.GET("/node-types", s.nodeTypes)
	viewer.POST("/validate", f.validateDocument)
	viewer.POST("/analyze", f.analyze)
	editor.POST("/expressions/preview", previewExpression)

	viewer.GET("/flows", f.list)
	editor.POST("/flows", f.create)
	viewer.GET("/flows/:name", f.get)
	editor.PUT("/flows/:name", f.save)
	editor.DELETE("/flows/:name", f.delete)
	viewer.GET("/flows/:name/revisions", f.revisions)
	viewer.GET("/flows/:name/revisions/:revision", f.revision)
	viewer.POST("/flows/:name/validate", f.validate)
	tr := testRunAPI{store: s.store, registry: s.registry, runner: testRuns}
	editor.POST("/flows/:name/test", tr.test)

	v := versionsAPI{store: s.store, registry: s.registry, gobuild: gobuild, audit: s.audit, locks: &sync.Map{}}
	editor.POST("/flows/:name/versions", v.publish)
	viewer.GET("/flows/:name/versions", v.list)
	viewer.GET("/flows/:name/versions/:version", v.get)

	ac := accessAPI{store: s.store, refresh: s.refreshAccess, audit: s.audit, log: s.log}
	viewer.GET("/flows/:name/access", ac.get)
	editor.PUT("/flows/:name/access", ac.set)
	editor.POST("/flows/:name/keys", ac.createKey)
	editor.DELETE("/flows/:name/keys/:id", ac.deleteKey)

	d := deploymentsAPI{store: s.store, manager: s.manager, gatewayURL: s.GatewayURL, audit: s.audit}
	editor.POST("/flows/:name/deployments", d.create)
	viewer.GET("/deployments", d.list)
	viewer.GET("/deployments/:id", d.get)
	editor.DELETE("/deployments/:id", d.delete)
	viewer.GET("/deployments/:id/logs", d.logs)

	r.NoRoute(s.web())
	return r
}

// bundleTarget is a publish target and whether this server can build it.
type bundleTarget struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why not, in words a user can act on
}

// infoAPI tells the designer what this server offers.
type infoAPI struct {
	manager    *deploy.Manager
	gobuild    *build.Builder
	gatewayURL func() string
}

func (a infoAPI) info(c *gin.Context) {
	goTarget := bundleTarget{Name: "go", Available: true}
	if err := a.gobuild.Available(c.Request.Context()); err != nil {
		// The designer says "Go is not available" itself; the reason is why.
		goTarget = bundleTarget{Name: "go", Reason: strings.TrimPrefix(err.Error(), build.ErrUnavailable.Error()+": ")}
	}
	c.PureJSON(http.StatusOK, gin.H{"version": Version, "gateway_url": a.gatewayURL(), "targets": a.manager.Targets(),
		"bundle_targets": []bundleTarget{{Name: "js", Available: true}, goTarget}})
}

func (s *Server) nodeTypes(c *gin.Context) {
	c.PureJSON(http.StatusOK, s.registry.Catalog())
}
