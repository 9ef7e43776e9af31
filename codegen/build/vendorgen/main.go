// Command vendorgen writes the third-party sources that Go bundles compile
// against into one zip, which the server embeds (codegen/build/deps). With
// it, a server builds bundles with -mod=vendor: no module cache, no module
// proxy and no go.mod file of any other module is ever read, so publishing
// works the same on a fresh machine as on the one that built the server.
//
// The zip holds vendor/modules.txt (without this module's own entry, which
// the builder adds from the embedded runtime source) and one directory per
// vendored package, as `go mod vendor` lays them out. It is reproducible:
// entries are sorted and carry a fixed time, so it changes only when the
// runtime's dependencies do.
//
//	go run ./codegen/build/vendorgen -o codegen/build/deps/vendor.zip
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// roots are the packages generated Go code imports.
var roots = []string{"github.com/flowline/flowline/engine", "github.com/flowline/flowline/flow/nodes"}

// platforms are the systems a server may build bundles on. Dependencies
// differ per platform (golang.org/x/sys/unix, for one), and the zip must
// hold the union.
var platforms = [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}

type pkg struct {
	ImportPath string
	Dir        string
	Standard   bool
	EmbedFiles []string
	Module     *struct {
		Path, Version, GoVersion, Dir string
		Main                          bool
		Replace                       *struct{ Path, Version string }
	}
	Error *struct{ Err string }
}

type module struct {
	path, version, goVersion string
	pkgs                     map[string]*pkg
}

func main() {
	out := flag.String("o", "codegen/build/deps/vendor.zip", "the zip to write")
	goCmd := flag.String("go", "go", "the go command")
	flag.Parse()
	if err := run(*goCmd, *out); err != nil {
		fmt.Fprintln(os.Stderr, "vendorgen:", err)
		os.Exit(1)
	}
}

func run(goCmd, out string) error {
	mods := map[string]*module{}
	for _, p := range platforms {
		pkgs, err := list(goCmd, p[0], p[1])
		if err != nil {
			return err
		}
		for _, pk := range pkgs {
			if pk.Standard || pk.Module == nil || pk.Module.Main {
				continue
			}
			if pk.Module.Replace != nil {
				return fmt.Errorf("module %s is replaced; bundles cannot vendor a replaced module", pk.Module.Path)
			}
			m := mods[pk.Module.Path]
			if m == nil {
				m = &module{path: pk.Module.Path, version: pk.Module.Version, goVersion: pk.Module.GoVersion, pkgs: map[string]*pkg{}}
				mods[pk.Module.Path] = m
			}
			if prev := m.pkgs[pk.ImportPath]; prev != nil {
				pk.EmbedFiles = union(prev.EmbedFiles, pk.EmbedFiles)
			}
			m.pkgs[pk.ImportPath] = pk
		}
	}
	files := map[string][]byte{}
	var txt bytes.Buffer
	paths := sortedKeys(mods)
	for _, mp := range paths {
		m := mods[mp]
		fmt.Fprintf(&txt, "# %s %s\n", m.path, m.version)
		if m.goVersion != "" {
			fmt.Fprintf(&txt, "## explicit; go %s\n", m.goVersion)
		} else {
			txt.WriteString("## explicit\n")
		}
		for _, ip := range sortedKeys(m.pkgs) {
			txt.WriteString(ip + "\n")
			if err := addPackage(files, m, m.pkgs[ip]); err != nil {
				return err
			}
		}
	}
	files["vendor/modules.txt"] = txt.Bytes()
	return writeZip(out, files)
}

// list runs go list -deps for the roots on one platform.
func list(goCmd, goos, goarch string) ([]*pkg, error) {
	args := append([]string{"list", "-deps", "-json=ImportPath,Dir,Standard,EmbedFiles,Module,Error"}, roots...)
	cmd := exec.Command(goCmd, args...)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list (%s/%s): %v\n%s", goos, goarch, err, stderr.String())
	}
	var pkgs []*pkg
	dec := json.NewDecoder(bytes.NewReader(outb))
	for {
		p := new(pkg)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// addPackage adds a package's sources for every platform (all its Go and
// assembly files but tests), its embedded files, and the license files of
// its directory and of the directories above it up to the module's root,
// as `go mod vendor` does.
func addPackage(files map[string][]byte, m *module, p *pkg) error {
	dst := "vendor/" + p.ImportPath
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, "_test.go") || !sourceFile(name) {
			continue
		}
		if err := addFile(files, dst+"/"+name, filepath.Join(p.Dir, name)); err != nil {
			return err
		}
	}
	for _, f := range p.EmbedFiles {
		if err := addFile(files, dst+"/"+f, filepath.Join(p.Dir, filepath.FromSlash(f))); err != nil {
			return err
		}
	}
	for dir, rel := p.Dir, p.ImportPath; ; {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && licenseFile(e.Name()) {
				if err := addFile(files, "vendor/"+rel+"/"+e.Name(), filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		if rel == m.path || !strings.HasPrefix(rel, m.path+"/") {
			break
		}
		dir, rel = filepath.Dir(dir), path.Dir(rel)
	}
	return nil
}

func addFile(files map[string][]byte, name, src string) error {
	if _, ok := files[name]; ok {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	files[name] = b
	return nil
}

func sourceFile(name string) bool {
	switch path.Ext(name) {
	case ".go", ".s", ".S", ".h", ".c", ".syso":
		return !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_")
	}
	return false
}

func licenseFile(name string) bool {
	up := strings.ToUpper(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE", "PATENTS", "COPYRIGHT"} {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}

// writeZip writes the files sorted, with a fixed time, and replaces out
// only when the content changed, so that make sees no change otherwise.
func writeZip(out string, files map[string][]byte) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return err
		}
		if _, err := w.Write(files[name]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, buf.Bytes()) {
		return touch(out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func touch(name string) error {
	now := time.Now()
	return os.Chtimes(name, now, now)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
