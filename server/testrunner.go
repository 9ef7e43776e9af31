package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy/local"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/engine/redact"
)

// testRunner runs one test-run job away from the control plane.
type testRunner interface {
	Run(ctx context.Context, job *jshost.TestRunJob) (*jshost.TestRunResult, error)
}

// processRunner runs each test run in a host process of its own, with the
// environment of an instance (none of the server's credentials), a memory
// limit the child sets itself, and a wall-clock limit the server enforces.
// At most a few run at once; more wait for their turn.
type processRunner struct {
	command []string
	env     []string
	slots   chan struct{}
	// maxResult bounds what a run may answer (spans with every node's
	// input and output included).
	maxResult int
}

func newProcessRunner(command, env []string, parallel int) *processRunner {
	return &processRunner{command: command, env: env, slots: make(chan struct{}, parallel), maxResult: 32 << 20}
}

// testRunGrace is what a run may take beyond its request deadline: the
// process's start and the bundle's load.
const testRunGrace = 15 * time.Second

func (p *processRunner) Run(ctx context.Context, job *jshost.TestRunJob) (*jshost.TestRunResult, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()

	deadline := job.Deadline
	if deadline <= 0 {
		deadline = engine.DefaultDeadline
	}
	ctx, cancel := context.WithTimeout(ctx, deadline+testRunGrace)
	defer cancel()
	in, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("test run: encode job: %w", err)
	}
	cmd := exec.CommandContext(ctx, p.command[0], p.command[1:]...)
	cmd.Env = append(append(local.BaseEnv(), p.env...), contract.EnvHostMode+"="+contract.HostModeTestRun)
	cmd.Stdin = bytes.NewReader(in)
	out := &limitedBuffer{max: p.maxResult}
	errOut := &limitedBuffer{max: 8 << 10, keepTail: true}
	cmd.Stdout, cmd.Stderr = out, errOut
	// Its own process group, so that whatever it started goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	switch {
	case ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.Canceled):
		return nil, &apiError{Status: http.StatusGatewayTimeout,
			Message: fmt.Sprintf("the test run did not finish within its deadline (%s) and was stopped", deadline)}
	case out.overflow:
		return nil, &apiError{Status: http.StatusUnprocessableEntity,
			Message: fmt.Sprintf("the test run's result is larger than %d MiB; return or log less", p.maxResult>>20)}
	case runErr != nil:
		// What a dying process printed can hold anything it had: secrets too.
		secrets := job.Secrets
		for _, u := range job.Datasources {
			secrets = append(secrets, redact.URLSecrets(u)...)
		}
		msg := redact.New(secrets...).String(childFailure(errOut.String(), runErr))
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: "the test run was stopped: " + msg}
	}
	var res jshost.TestRunResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("test run: read result: %w", err)
	}
	if res.Error != "" {
		return nil, fmt.Errorf("test run: %s", res.Error)
	}
	return &res, nil
}

// childFailure says in words why a test-run process died.
func childFailure(stderr string, err error) string {
	switch {
	case strings.Contains(stderr, "out of memory"), strings.Contains(stderr, "cannot allocate memory"):
		return "it used more memory than a test run may"
	case strings.Contains(stderr, "stack overflow"), strings.Contains(stderr, "goroutine stack exceeds"):
		return "it recursed too deeply"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("its process was killed (%s)", ws.Signal())
		}
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	return fmt.Sprintf("its process failed (%v): %s", err, lines[0])
}

// limitedBuffer keeps at most max bytes: the first ones, or with keepTail
// the last ones.
type limitedBuffer struct {
	bytes.Buffer
	max      int
	keepTail bool
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.overflow = true
		if !b.keepTail {
			return len(p), nil
		}
		all := append(b.Bytes(), p...)
		b.Reset()
		b.Buffer.Write(all[max(0, len(all)-b.max):])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
