package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Bundle file names, shared with the code generators.
const (
	ManifestFile = "manifest.json"
	JSBundleFile = "bundle.js"
)

// LoadBundle loads a JS bundle from its files.
func LoadBundle(files map[string][]byte, o Options) (*Flow, error) {
	var m Manifest
	if err := json.Unmarshal(files[ManifestFile], &m); err != nil {
		return nil, fmt.Errorf("load bundle: manifest: %w", err)
	}
	if m.Target != "js" {
		return nil, fmt.Errorf("load bundle %s: target %q is not run by the JS host", m.Flow, m.Target)
	}
	src, ok := files[JSBundleFile]
	if !ok {
		return nil, fmt.Errorf("load bundle %s: no %s", m.Flow, JSBundleFile)
	}
	prog, err := LoadJS(fmt.Sprintf("%s-v%d.js", m.Flow, m.Version), src)
	if err != nil {
		return nil, err
	}
	return New(m, prog, o)
}

// ReadBundleDir reads a bundle's files from a directory.
func ReadBundleDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, name := range []string{ManifestFile, JSBundleFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if os.IsNotExist(err) && name != ManifestFile {
				continue
			}
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		files[name] = b
	}
	return files, nil
}
