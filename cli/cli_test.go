package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/cli"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"version": 1, "name": "ok", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/ok"}},
	 {"id": "done", "type": "response", "config": {}}], "edges": [{"from": "start", "to": "done"}]}`), 0o644)
	os.WriteFile(bad, []byte(`{"version": 1, "name": "bad", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/ok"}}], "edges": []}`), 0o644)
	var out, errOut bytes.Buffer
	if code := cli.Run([]string{"validate", good}, &out, &errOut, os.Getenv); code != 0 {
		t.Fatalf("good flow: exit %d: %s %s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := cli.Run([]string{"validate", bad}, &out, &errOut, os.Getenv); code != 1 || !strings.Contains(out.String(), "response") {
		t.Fatalf("bad flow: exit %d: %s", code, out.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cli.Run([]string{"frobnicate"}, &out, &errOut, os.Getenv); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "FLOWLINE_MAX_BODY" {
			return "lots"
		}
		return ""
	}
	if code := cli.Run([]string{"serve"}, &out, &errOut, env); code != 2 || !strings.Contains(errOut.String(), "FLOWLINE_MAX_BODY") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
