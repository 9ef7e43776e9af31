package jshost

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
)

// Load loads a JS bundle from its files.
func Load(files map[string][]byte, o engine.Options, b Bindings) (*engine.Flow, error) {
	var m engine.Manifest
	if err := json.Unmarshal(files[contract.ManifestFile], &m); err != nil {
		return nil, fmt.Errorf("load bundle: manifest: %w", err)
	}
	if m.Target != "js" {
		return nil, fmt.Errorf("load bundle %s: target %q is not run by the JS host", m.Flow, m.Target)
	}
	src, ok := files[contract.JSBundleFile]
	if !ok {
		return nil, fmt.Errorf("load bundle %s: no %s", m.Flow, contract.JSBundleFile)
	}
	prog, err := LoadProgram(fmt.Sprintf("%s-v%d.js", m.Flow, m.Version), src, b)
	if err != nil {
		return nil, err
	}
	return engine.New(m, prog, o)
}

// ReadDir reads a bundle's files from a directory.
func ReadDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, name := range []string{contract.ManifestFile, contract.JSBundleFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if os.IsNotExist(err) && name != contract.ManifestFile {
				continue
			}
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		files[name] = b
	}
	return files, nil
}

// Main is the JS host: it loads the bundle named by the environment and
// serves it. The flowline binary runs it as `flowline host`.
func Main(stdout io.Writer, getenv func(string) string, b Bindings) int {
	if getenv(contract.EnvHostMode) == contract.HostModeTestRun {
		return TestRunMain(os.Stdin, stdout, getenv, b)
	}
	lg := engine.InstanceLogger(stdout, getenv)
	o, err := engine.OptionsFromEnv(getenv)
	if err != nil {
		lg.Error("bad instance environment", "error", err.Error())
		return 2
	}
	lg = slog.New(o.Redactor().Handler(lg.Handler())) // a load error may quote a datasource URL
	o.Logger = lg
	dir := getenv(contract.EnvBundleDir)
	if dir == "" {
		lg.Error(contract.EnvBundleDir + " is not set")
		return 2
	}
	files, err := ReadDir(dir)
	if err != nil {
		lg.Error("read bundle", "error", err.Error())
		return 1
	}
	f, err := Load(files, o, b)
	if err != nil {
		lg.Error("load bundle", "error", err.Error())
		return 1
	}
	if err := engine.RunInstance(f, getenv(contract.EnvListen), lg); err != nil {
		lg.Error("instance stopped", "error", err.Error())
		return 1
	}
	return 0
}
