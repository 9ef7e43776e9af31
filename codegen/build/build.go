// Package build compiles the Go target's sources into a static binary,
// offline. Everything a bundle compiles against travels inside the server:
// this module's runtime source (package flowline) and the sources of its
// third-party dependencies (deps/vendor.zip, written by ./vendorgen). They
// are laid out once as a module with a vendor directory, and every bundle
// is a package of that module built with -mod=vendor: the go command never
// reads the module cache, the module proxy or another module's go.mod, so
// publishing works the same on a fresh machine as on the one that built the
// server. Builds share the user's build cache, so a bundle builds in a
// second or two once the runtime has been compiled once.
package build

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"go/version"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowline/flowline"
)

// ModulePath is the module generated code imports.
const ModulePath = "github.com/flowline/flowline"

// EnvGo names the go command to build with (default: go on PATH).
const EnvGo = "FLOWLINE_GO"

// VendorZip is where ./vendorgen writes the dependencies' sources, relative
// to this package; the server embeds it.
const VendorZip = "deps/vendor.zip"

//go:embed all:deps
var deps embed.FS

// ErrUnavailable is returned when this server cannot build Go bundles: there
// is no go command, it is older than the runtime needs, or the server was
// built without the dependencies' sources.
var ErrUnavailable = errors.New("target go is not available on this server")

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
	// Dir is where the module is laid out and bundles are built, e.g.
	// <data dir>/gobuild. Made absolute; required.
	Dir string
	// Source is the embedded module source; flowline.Source when nil.
	Source fs.FS
	// Vendor is the zip that ./vendorgen writes; the embedded one when nil.
	Vendor []byte
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

	modOnce sync.Once
	modDir  string
	modErr  error

	checkMu sync.Mutex
	checked time.Time
	goPath  string
	goErr   error

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
	if cfg.Vendor == nil {
		cfg.Vendor, _ = deps.ReadFile(VendorZip) // nil when not generated: Available says so
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if abs, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = abs
	}
	return &Builder{cfg: cfg, sem: make(chan struct{}, cfg.Parallel), inflight: map[string]*call{}}
}

// Available reports why this builder cannot build, or nil when it can: it
// finds the go command and checks that it is recent enough for the
// runtime's go.mod. The answer is kept for a minute, so that installing Go
// takes effect without a restart and a publish does not pay for the check.
func (b *Builder) Available(ctx context.Context) error {
	_, err := b.goCommand(ctx)
	return err
}

func (b *Builder) goCommand(ctx context.Context) (string, error) {
	b.checkMu.Lock()
	defer b.checkMu.Unlock()
	if !b.checked.IsZero() && time.Since(b.checked) < time.Minute {
		return b.goPath, b.goErr
	}
	b.goPath, b.goErr = b.check(ctx)
	b.checked = time.Now()
	return b.goPath, b.goErr
}

func (b *Builder) check(ctx context.Context) (string, error) {
	if len(b.cfg.Vendor) == 0 {
		return "", fmt.Errorf("%w: this flowline binary was built without the sources Go bundles compile against "+
			"(codegen/build/%s); build it with make build", ErrUnavailable, VendorZip)
	}
	name := b.cfg.Go
	if name == "" {
		name = "go"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: the Go toolchain is not installed: %q not found (install Go from go.dev/dl, or set %s to the go command)",
			ErrUnavailable, name, EnvGo)
	}
	gomod, err := fs.ReadFile(b.cfg.Source, "go.mod")
	if err != nil {
		return "", fmt.Errorf("go build: embedded go.mod: %w", err)
	}
	_, need := modDirectives(gomod)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, p, "env", "GOVERSION")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s env GOVERSION: %v", ErrUnavailable, p, err)
	}
	have := strings.TrimSpace(string(out))
	if version.Compare(have, "go"+need) < 0 {
		return "", fmt.Errorf("%w: %s is %s; Go bundles need go%s or later (install it, or set %s to a newer go command)",
			ErrUnavailable, p, have, need, EnvGo)
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

	c.bin, c.err = b.buildOne(ctx, mainGo, progress)
	b.mu.Lock()
	delete(b.inflight, key)
	b.mu.Unlock()
	close(c.done)
	return c.bin, c.err
}

func (b *Builder) buildOne(ctx context.Context, mainGo []byte, progress io.Writer) ([]byte, error) {
	out, err := os.MkdirTemp(b.cfg.Dir, "out-")
	if err != nil {
		if err := os.MkdirAll(b.cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
		if out, err = os.MkdirTemp(b.cfg.Dir, "out-"); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
	}
	defer os.RemoveAll(out)
	if err := b.BuildAll(ctx, map[string][]byte{"flow": mainGo}, out, progress); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(filepath.Join(out, "flow"))
	if err != nil {
		return nil, fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// BuildAll builds several bundles with one go command: mains maps a name
// to its main.go, and each binary is written to outDir/name. Tests use it
// to build many bundles at once.
func (b *Builder) BuildAll(ctx context.Context, mains map[string][]byte, outDir string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	goCmd, err := b.goCommand(ctx)
	if err != nil {
		return err
	}
	mod, err := b.module()
	if err != nil {
		return err
	}
	// Each build is a directory of packages inside the module, removed
	// afterwards; the module itself is shared.
	dir, err := os.MkdirTemp(mod, "bundle-")
	if err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	defer os.RemoveAll(dir)
	pkgs := make([]string, 0, len(mains))
	for name, src := range mains {
		if !validName(name) {
			return fmt.Errorf("go build: bundle name %q must be letters, digits, - and _", name)
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "main.go"), src, 0o644); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
		pkgs = append(pkgs, "./"+filepath.Base(dir)+"/"+name)
	}
	sort.Strings(pkgs)
	if outDir, err = filepath.Abs(outDir); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("go build: %w", err)
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

	// -o names a directory (trailing separator) so that each package's
	// binary is named after its directory, for one package as for many.
	args := []string{"build", "-v", "-buildvcs=false", "-trimpath", "-ldflags=-s -w", "-o", outDir + string(filepath.Separator)}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = mod
	env := append(os.Environ(), b.cfg.Env...)
	if os.Getenv("GOCACHE") == "" && os.Getenv("HOME") == "" && os.Getenv("XDG_CACHE_HOME") == "" {
		// A service without a home directory: keep the build cache beside the module.
		env = append(env, "GOCACHE="+filepath.Join(b.cfg.Dir, "cache"))
	}
	cmd.Env = append(env,
		"CGO_ENABLED=0",       // one static binary
		"GOFLAGS=-mod=vendor", // every dependency from the module's vendor directory
		"GOPROXY=off",         // never the network
		"GOSUMDB=off",
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

func validName(name string) bool {
	if name == "" || name == "vendor" || name == "testdata" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// module lays out, once, the module every bundle is built in: go.mod,
// vendor/modules.txt, the dependencies' sources and this module's own, in
// a directory named by their hash. A directory left by an earlier run of
// the same server version is reused.
func (b *Builder) module() (string, error) {
	b.modOnce.Do(func() {
		b.modDir, b.modErr = b.writeModule()
	})
	return b.modDir, b.modErr
}

func (b *Builder) writeModule() (string, error) {
	files, err := b.moduleFiles()
	if err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	dir := filepath.Join(b.cfg.Dir, "mod-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(b.cfg.Dir, 0o755); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	tmp, err := os.MkdirTemp(b.cfg.Dir, "mod-tmp-")
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

// moduleFiles returns the files of the bundle module by path: the vendored
// dependencies from the zip, this module's packages under
// vendor/github.com/flowline/flowline, and a go.mod and modules.txt that
// require exactly what is vendored.
func (b *Builder) moduleFiles() (map[string][]byte, error) {
	if len(b.cfg.Vendor) == 0 {
		return nil, fmt.Errorf("%w: no vendored dependencies in this binary", ErrUnavailable)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.cfg.Vendor), int64(len(b.cfg.Vendor)))
	if err != nil {
		return nil, fmt.Errorf("vendored dependencies: %w", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name := path.Clean(f.Name)
		if !strings.HasPrefix(name, "vendor/") || strings.Contains(name, "..") {
			return nil, fmt.Errorf("vendored dependencies: unexpected entry %q", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("vendored dependencies: %w", err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("vendored dependencies: %s: %w", f.Name, err)
		}
		files[name] = data
	}
	gomod, err := fs.ReadFile(b.cfg.Source, "go.mod")
	if err != nil {
		return nil, fmt.Errorf("embedded go.mod: %w", err)
	}
	module, goVersion := modDirectives(gomod)
	if module != ModulePath || goVersion == "" {
		return nil, fmt.Errorf("embedded go.mod is not module %s with a go directive", ModulePath)
	}
	pkgs, err := Packages(b.cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("embedded source: %w", err)
	}
	err = fs.WalkDir(b.cfg.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		data, err := fs.ReadFile(b.cfg.Source, p)
		files["vendor/"+ModulePath+"/"+p] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("embedded source: %w", err)
	}

	const self = "v0.0.0-00010101000000-000000000000"
	var txt, req bytes.Buffer
	txt.Write(files["vendor/modules.txt"])
	fmt.Fprintf(&txt, "# %s %s\n## explicit; go %s\n", ModulePath, self, goVersion)
	for _, p := range pkgs {
		fmt.Fprintf(&txt, "%s/%s\n", ModulePath, p)
	}
	fmt.Fprintf(&req, "\t%s %s\n", ModulePath, self)
	for _, line := range strings.Split(string(files["vendor/modules.txt"]), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "#" {
			fmt.Fprintf(&req, "\t%s %s\n", f[1], f[2])
		}
	}
	files["vendor/modules.txt"] = txt.Bytes()
	files["go.mod"] = fmt.Appendf(nil, "// Flowline bundles, built against the server's own runtime and vendored dependencies.\nmodule flowline.bundle\n\ngo %s\n\nrequire (\n%s)\n", goVersion, req.String())
	return files, nil
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
