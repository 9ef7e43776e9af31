package build_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/codegen/build"
)

const hello = `package main

import "github.com/flowline/flowline/engine"

func main() {
	engine.Main(engine.Manifest{Flow: "t", Version: 1, Target: "go", Method: "GET", Path: "/t"},
		engine.ProgramFunc(func(x *engine.Exec) { x.Trigger("start"); x.Begin("done"); x.Respond(200, nil, "hi") }))
}
`

func TestNoGo(t *testing.T) {
	b := build.New(build.Config{Go: filepath.Join(t.TempDir(), "go"), Dir: t.TempDir()})
	if err := b.Available(context.Background()); !errors.Is(err, build.ErrUnavailable) || !strings.Contains(err.Error(), build.EnvGo) {
		t.Fatalf("Available: %v, want ErrUnavailable naming %s", err, build.EnvGo)
	}
	_, err := b.Build(context.Background(), []byte(hello), nil)
	if !errors.Is(err, build.ErrUnavailable) || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("error %v, want ErrUnavailable saying Go is not installed", err)
	}
}

// TestOldGo: a go command older than the runtime's go.mod asks for is
// refused before any build, with both versions in the message.
func TestOldGo(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho go1.20.1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := build.New(build.Config{Go: fake, Dir: t.TempDir()})
	err := b.Available(context.Background())
	if !errors.Is(err, build.ErrUnavailable) || !strings.Contains(err.Error(), "go1.20.1") {
		t.Fatalf("Available: %v, want ErrUnavailable naming go1.20.1", err)
	}
}

// TestNoVendor: a binary built without the vendored dependencies says how
// to build it properly.
func TestNoVendor(t *testing.T) {
	b := build.New(build.Config{Dir: t.TempDir(), Vendor: []byte{}})
	if err := b.Available(context.Background()); !errors.Is(err, build.ErrUnavailable) || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("Available: %v, want ErrUnavailable saying make build", err)
	}
}

// TestFreshMachine builds the way a new user's server does: a relative
// build directory, an empty module cache, no module proxy and no build
// cache of its own home. Nothing may be missing.
func TestFreshMachine(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Chdir(t.TempDir())
	empty := t.TempDir()
	b := build.New(build.Config{Dir: filepath.Join("data", "gobuild"), Env: []string{"GOMODCACHE=" + empty, "GOPROXY=off", "GOFLAGS=-mod=mod"}})
	if err := b.Available(context.Background()); err != nil {
		t.Fatal(err)
	}
	bin, err := b.Build(context.Background(), []byte(hello), nil)
	if err != nil {
		var be *build.Error
		if errors.As(err, &be) {
			t.Fatalf("%v\n%s", err, be.Log)
		}
		t.Fatal(err)
	}
	if len(bin) < 1<<20 {
		t.Fatalf("binary of %d bytes", len(bin))
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("the build wrote to the module cache: %v", entries)
	}
}

// TestVendorCurrent regenerates the dependencies' zip and compares it with
// the one embedded: a dependency added to the runtime without `make build`
// would otherwise fail only when a user publishes.
func TestVendorCurrent(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip(err)
	}
	embedded, err := os.ReadFile(build.VendorZip)
	if err != nil {
		t.Fatalf("%v: run make build", err)
	}
	fresh := filepath.Join(t.TempDir(), "vendor.zip")
	cmd := exec.Command("go", "run", "./vendorgen", "-o", fresh)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vendorgen: %v\n%s", err, out)
	}
	got, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, embedded) {
		t.Fatalf("%s is stale: run make build", build.VendorZip)
	}
}
