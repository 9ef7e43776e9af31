// Package cli holds the flowline command's subcommands, kept out of main so
// tests can run them.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/server"
)

const usage = `usage: flowline <command> [flags]

commands:
  serve      run the API, the designer and the gateway (default)
  host       run one instance of a JS bundle (started by deploy targets)
  validate   validate flow documents: flowline validate FILE...
  version    print the version
`

// Run runs the command line args and returns the exit code.
func Run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr, getenv)
	case "host":
		return jshost.Main(stdout, getenv, nodes.Bindings())
	case "validate":
		return validate(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, server.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "flowline: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func serve(args []string, stderr io.Writer, getenv func(string) string) int {
	cfg, err := server.FromEnv(server.Defaults(), getenv)
	if err != nil {
		fmt.Fprintln(stderr, "flowline:", err)
		return 2
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "API and designer listen address ("+server.EnvAddr+")")
	fs.StringVar(&cfg.GatewayAddr, "gateway-addr", cfg.GatewayAddr, "gateway listen address ("+server.EnvGatewayAddr+")")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty for SQLite in the data dir ("+server.EnvDatabaseURL+")")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "where SQLite and bundles live ("+server.EnvDataDir+")")
	fs.StringVar(&cfg.WebDir, "web-dir", cfg.WebDir, "serve the designer from this directory ("+server.EnvWebDir+")")
	fs.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "gateway request body limit in bytes ("+server.EnvMaxBody+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("start", "error", err.Error())
		return 1
	}
	if err := s.Start(ctx); err != nil {
		log.Error("start", "error", err.Error())
		_ = s.Close(context.Background())
		return 1
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(sctx); err != nil {
		log.Error("shutdown", "error", err.Error())
		return 1
	}
	return 0
}

func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: flowline validate FILE...")
		return 2
	}
	reg := nodes.Registry()
	code := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(stderr, "flowline:", err)
			code = 1
			continue
		}
		d, err := flow.Parse(data)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", name, err)
			code = 1
			continue
		}
		probs := flow.Validate(d, reg)
		for _, p := range probs {
			fmt.Fprintf(stdout, "%s: %s\n", name, p)
		}
		if len(flow.Errors(probs)) > 0 {
			code = 1
		} else {
			fmt.Fprintf(stdout, "%s: ok\n", name)
		}
	}
	return code
}
