// Package build compiles the Go target's sources into a static binary,
// offline. The packages a bundle imports come from the source of this very
// module, embedded in the server (package flowline) and written once to a
// cache directory; a bundle is built in a temporary module that replaces
// github.com/flowline/flowline with that directory. Third-party modules
// come from the local module cache only (GOPROXY=off), and every build
// shares the user's build cache, so that a bundle builds in a second or two
// once the runtime's dependencies have been compiled once.
package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowline/flowline"
)

// ModulePath is the module generated code imports.
const ModulePath = "github.com/flowline/flowline"

// EnvGo names the go command to build with (default: go on PATH).
const EnvGo = "FLOWLINE_GO"

// ErrNoGo is returned when there is no go command to build with.
var ErrNoGo = errors.New("the Go toolchain is not installed")

// Error is a failed build. Log is what the go command printed.
type Error struct {
	Err error
	Log string
}

func (e *Error) Error() string { return "go build: " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Config configures a Builder.
type Config struct {
	// Go is the go command; "go" (looked up on PATH) when empty.
	Go string
	// Dir is where the module's source is written and bundles are built,
	// e.g. <data dir>/gobuild. Required.
	Dir string
	// Source is the embedded module source; flowline.Source when nil.
	Source fs.FS
	// Env is added to the go command's environment, after the server's
	// own and before the settings that keep builds offline.
	Env []string
	// Parallel bounds the builds running at once (default 2).
	Parallel int
}

// Builder builds bundles. It is safe for concurrent use: identical builds
// share one run of the compiler, and at most Config.Parallel run at once.
type Builder struct {
	cfg Config
	sem chan struct{}

	srcOnce sync.Once
	srcDir  string
	srcErr  error
	goDir   string // the go directive of the module's go.mod

	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	bin  []byte
	err  error
}

// New returns a builder; it touches nothing until the first build.
func New(cfg Config) *Builder {
	if cfg.Source == nil {
		cfg.Source = flowline.Source
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	return &Builder{cfg: cfg, sem: make(chan struct{}, cfg.Parallel), inflight: map[string]*call{}}
}

// GoCommand returns the path of the go command, or an error wrapping ErrNoGo.
func (b *Builder) GoCommand() (string, error) {
	name := b.cfg.Go
	if name == "" {
		name = "go"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %q not found (install Go or set %s to the go command): %v", ErrNoGo, name, EnvGo, err)
	}
	return p, nil
}

// Build compiles one bundle's main.go into a static binary and returns it.
// Progress lines (the packages being compiled) go to progress, which may
// be nil. A compiler failure is an *Error with the compiler's output.
func (b *Builder) Build(ctx context.Context, mainGo []byte, progress io.Writer) ([]byte, error) {
	if progress == nil {
		progress = io.Discard
	}
	sum := sha256.Sum256(mainGo)
	key := hex.EncodeToString(sum[:])
	b.mu.Lock()
	if c, ok := b.inflight[key]; ok {
		b.mu.Unlock()
		fmt.Fprintln(progress, "an identical build is running; waiting for it")
		select {
		case <-c.done:
			return c.bin, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	b.inflight[key] = c
	b.mu.Unlock()

	c.bin, c.err = b.build(ctx, mainGo, progress)
	b.mu.Lock()
	delete(b.inflight, key)
	b.mu.Unlock()
	close(c.done)
	return c.bin, c.err
}

func (b *Builder) build(ctx context.Context, mainGo []byte, progress io.Writer) ([]byte, error) {
	dir, err := os.MkdirTemp(b.workDir(), "bundle-")
	if err != nil {
		if err := os.MkdirAll(b.workDir(), 0o755); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
		if dir, err = os.MkdirTemp(b.workDir(), "bundle-"); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), mainGo, 0o644); err != nil {
		return nil, fmt.Errorf("go build: %w", err)
	}
	out := filepath.Join(dir, "flow")
	if err := b.BuildModule(ctx, dir, []string{"."}, out, progress); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

func (b *Builder) workDir() string { return filepath.Join(b.cfg.Dir, "work") }

// BuildModule makes dir a module that builds against this module's source
// and builds the main packages pkgs (relative to dir, like "." or "./a")
// into out: a file for one package, a directory for several. Tests use it
// to build many bundles with one go command.
func (b *Builder) BuildModule(ctx context.Context, dir string, pkgs []string, out string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	goCmd, err := b.GoCommand()
	if err != nil {
		return err
	}
	src, err := b.source()
	if err != nil {
		return err
	}
	if err := b.writeModule(dir, src); err != nil {
		return err
	}

	select {
	case b.sem <- struct{}{}:
	default:
		fmt.Fprintln(progress, "waiting for another build to finish")
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-b.sem }()

	args := []string{"build", "-v", "-buildvcs=false", "-ldflags=-s -w", "-o", out}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	env := append(os.Environ(), b.cfg.Env...)
	if os.Getenv("GOCACHE") == "" && os.Getenv("HOME") == "" && os.Getenv("XDG_CACHE_HOME") == "" {
		// A service without a home directory: keep the build cache beside the source.
		env = append(env, "GOCACHE="+filepath.Join(b.cfg.Dir, "cache"))
	}
	cmd.Env = append(env,
		"CGO_ENABLED=0",     // one static binary
		"GOFLAGS=-mod=mod",  // the temporary module's requirements come from the replaced module
		"GOPROXY=off",       // never the network: the local module cache only
		"GOSUMDB=off",       // nothing to verify against without the network; go.sum is the module's own
		"GOTOOLCHAIN=local", // never download another toolchain
		"GOWORK=off",        // a go.work above the data dir must not take part
	)
	var log bytes.Buffer
	fmt.Fprintf(&log, "go %s\n", strings.Join(args, " "))
	fmt.Fprintf(progress, "go %s\n", strings.Join(args, " "))
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line)
			log.WriteByte('\n')
			fmt.Fprintln(progress, line)
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	start := time.Now()
	err = cmd.Run()
	pw.Close()
	<-copied
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build: %w", ctx.Err())
		}
		return &Error{Err: err, Log: log.String()}
	}
	fmt.Fprintf(progress, "built in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// writeModule writes dir's go.mod (replacing this module with src) and
// go.sum (this module's own, which covers every dependency).
func (b *Builder) writeModule(dir, src string) error {
	sum, err := fs.ReadFile(b.cfg.Source, "go.sum")
	if err != nil {
		return fmt.Errorf("go build: embedded go.sum: %w", err)
	}
	mod := fmt.Sprintf("// A Flowline bundle, built against the server's own runtime.\nmodule flowline.bundle\n\ngo %s\n\nrequire %s v0.0.0-00010101000000-000000000000\n\nreplace %[2]s => %s\n",
		b.goDir, ModulePath, strconv.Quote(src))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// source writes the embedded module source once, to a directory named by
// its hash, and returns that directory. A directory left by an earlier run
// of the same version is reused.
func (b *Builder) source() (string, error) {
	b.srcOnce.Do(func() {
		b.srcDir, b.srcErr = b.writeSource()
	})
	return b.srcDir, b.srcErr
}

func (b *Builder) writeSource() (string, error) {
	var names []string
	err := fs.WalkDir(b.cfg.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, "_test.go") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("go build: embedded source: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	files := make(map[string][]byte, len(names))
	for _, n := range names {
		data, err := fs.ReadFile(b.cfg.Source, n)
		if err != nil {
			return "", fmt.Errorf("go build: embedded source: %w", err)
		}
		files[n] = data
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
		h.Write(data)
	}
	module, goVersion := modDirectives(files["go.mod"])
	if module != ModulePath || goVersion == "" {
		return "", fmt.Errorf("go build: embedded go.mod is not module %s with a go directive", ModulePath)
	}
	b.goDir = goVersion

	dir := filepath.Join(b.cfg.Dir, "src-"+hex.EncodeToString(h.Sum(nil))[:16])
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(b.cfg.Dir, 0o755); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	tmp, err := os.MkdirTemp(b.cfg.Dir, "src-tmp-")
	if err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, n := range names {
		p := filepath.Join(tmp, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("go build: %w", err)
		}
		if err := os.WriteFile(p, files[n], 0o444); err != nil {
			return "", fmt.Errorf("go build: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another server on the same data dir may have won the race.
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("go build: %w", err)
	}
	return dir, nil
}

// modDirectives reads the module path and the go version of a go.mod.
func modDirectives(gomod []byte) (module, goVersion string) {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "module" {
			module = strings.Trim(f[1], `"`)
		}
		if len(f) == 2 && f[0] == "go" {
			goVersion = f[1]
		}
	}
	return module, goVersion
}

// Packages lists the directories (slash-separated, relative to the module
// root) of the embedded source that hold Go files.
func Packages(src fs.FS) ([]string, error) {
	seen := map[string]bool{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			seen[path.Dir(p)] = true
		}
		return nil
	})
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs, err
}
