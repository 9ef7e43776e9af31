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
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowline/flowline/codegen/build"
	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/deploy/local"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/runtime"
	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// Version is the server's version, shown by /api/v1/info.
var Version = "dev"

const serverKey = "flowline.server"

// Server wires the store, the node registry, the deploy targets and the
// gateway behind the API.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	registry *flow.Registry
	local    *local.Supervisor
	targets  map[string]deploy.Target
	gateway  *gateway.Gateway
	metrics  *prometheus.Registry
	api      http.Handler
	gobuild  *build.Builder // builds Go bundles

	publishMu sync.Map // flow name -> *sync.Mutex: one publish at a time per flow

	mu          sync.Mutex
	deployments map[string]*store.Deployment // active ones, by id
	gatewayURL  string

	apiSrv, gwSrv *http.Server
	apiAddr       string
	stopWatch     context.CancelFunc
	watchDone     chan struct{}
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
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
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
		cfg:         cfg,
		log:         log,
		store:       st,
		registry:    nodes.Registry(),
		metrics:     prometheus.NewRegistry(),
		deployments: map[string]*store.Deployment{},
	}
	s.local = local.New(local.Config{
		Command: cfg.HostCommand,
		// Instances take the gateway's body limit, so a body the gateway
		// lets through is never refused behind it.
		Env:          append([]string{fmt.Sprintf("%s=%d", runtime.EnvMaxBody, cfg.MaxBody)}, cfg.HostEnv...),
		Logger:       log.With("component", "local"),
		ReadyTimeout: cfg.ReadyTimeout,
	})
	s.targets = map[string]deploy.Target{"local": s.local}
	s.gobuild = build.New(build.Config{Go: cfg.GoCommand, Dir: filepath.Join(cfg.DataDir, "gobuild")})
	s.gateway, err = gateway.New(gateway.Config{
		MaxBodyBytes: cfg.MaxBody,
		Logger:       log.With("component", "gateway"),
		Registerer:   s.metrics,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.api = s.routes()
	return s, nil
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
	s.apiSrv = &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	s.gwSrv = gateway.NewServer("", s.gateway)
	go func() { _ = s.apiSrv.Serve(apiLn) }()
	go func() { _ = s.gwSrv.Serve(gwLn) }()
	s.log.Info("listening", "api", localURL(apiLn.Addr().String()), "gateway", s.gatewayURL)

	wctx, cancel := context.WithCancel(context.Background())
	s.stopWatch = cancel
	s.watchDone = make(chan struct{})
	go s.watch(wctx)
	if err := s.restore(ctx); err != nil {
		s.log.Error("restore deployments", "error", err.Error())
	}
	return nil
}

// APIAddr is the API's listen address, once started.
func (s *Server) APIAddr() string { return s.apiAddr }

// Handler is the API and designer handler, for tests that do not listen.
func (s *Server) Handler() http.Handler { return s.api }

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
	if s.stopWatch != nil {
		s.stopWatch()
		<-s.watchDone
	}
	errs = append(errs, s.local.Close(ctx))
	errs = append(errs, s.store.Close())
	for _, err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

func (s *Server) bundleDir(deploymentID string) string {
	return filepath.Join(s.cfg.DataDir, "bundles", deploymentID)
}

func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic serving request", "path", c.Request.URL.Path, "panic", fmt.Sprint(err))
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error", "details": []any{}})
	}))
	r.Use(func(c *gin.Context) {
		c.Set(serverKey, s)
		c.Next()
	})
	v1 := r.Group("/api/v1")
	v1.GET("/info", s.info)
	v1.GET("/node-types", s.nodeTypes)
	v1.POST("/validate", s.validateDocument)

	f := flowsAPI{s: s, store: s.store}
	v1.GET("/flows", f.list)
	v1.POST("/flows", f.create)
	v1.GET("/flows/:name", f.get)
	v1.PUT("/flows/:name", f.save)
	v1.DELETE("/flows/:name", f.delete)
	v1.GET("/flows/:name/revisions", f.revisions)
	v1.POST("/flows/:name/validate", f.validate)
	v1.POST("/flows/:name/test", f.test)

	v := versionsAPI{s: s, store: s.store}
	v1.POST("/flows/:name/versions", v.publish)
	v1.GET("/flows/:name/versions", v.list)
	v1.GET("/flows/:name/versions/:version", v.get)

	d := deploymentsAPI{s: s, store: s.store}
	v1.POST("/flows/:name/deployments", d.create)
	v1.GET("/deployments", d.list)
	v1.GET("/deployments/:id", d.get)
	v1.DELETE("/deployments/:id", d.delete)
	v1.GET("/deployments/:id/logs", d.logs)

	r.NoRoute(s.web())
	return r
}

// bundleTarget is a publish target and whether this server can build it.
type bundleTarget struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why not, in words a user can act on
}

func (s *Server) info(c *gin.Context) {
	targets := make([]string, 0, len(s.targets))
	for name := range s.targets {
		targets = append(targets, name)
	}
	sort.Strings(targets)
	goTarget := bundleTarget{Name: "go", Available: true}
	if err := s.gobuild.Available(c.Request.Context()); err != nil {
		goTarget = bundleTarget{Name: "go", Reason: err.Error()}
	}
	c.PureJSON(http.StatusOK, gin.H{"version": Version, "gateway_url": s.gatewayURL, "targets": targets,
		"bundle_targets": []bundleTarget{{Name: "js", Available: true}, goTarget}})
}

func (s *Server) nodeTypes(c *gin.Context) {
	c.PureJSON(http.StatusOK, s.registry.Specs())
}
