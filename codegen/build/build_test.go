package build_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/codegen/build"
)

const hello = `package main

import "github.com/flowline/flowline/runtime"

func main() {
	runtime.Main(runtime.Manifest{Flow: "t", Version: 1, Target: "go", Method: "GET", Path: "/t"},
		runtime.ProgramFunc(func(x *runtime.Exec) { x.Trigger("start"); x.Begin("done"); x.Respond(200, nil, "hi") }))
}
`

func TestNoGo(t *testing.T) {
	b := build.New(build.Config{Go: filepath.Join(t.TempDir(), "go"), Dir: t.TempDir()})
	_, err := b.Build(context.Background(), []byte(hello), nil)
	if !errors.Is(err, build.ErrNoGo) || !strings.Contains(err.Error(), build.EnvGo) {
		t.Fatalf("error %v, want ErrNoGo naming %s", err, build.EnvGo)
	}
}

// TestOffline builds with an empty module cache: the build must fail at
// once, saying the network is off, and never fetch anything.
func TestOffline(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip(err)
	}
	b := build.New(build.Config{Dir: t.TempDir(), Env: []string{"GOMODCACHE=" + t.TempDir(), "GOPROXY=https://proxy.golang.org"}})
	_, err := b.Build(context.Background(), []byte(hello), nil)
	var be *build.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v, want a build error", err)
	}
	if !strings.Contains(be.Log, "GOPROXY=off") {
		t.Fatalf("build log does not say the module proxy is off:\n%s", be.Log)
	}
}
