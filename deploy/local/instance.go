package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/flowline/flowline/deploy"
)

// tailLines is how many of an instance's last error lines a crash report
// quotes.
const tailLines = 5

// run keeps one instance running until its generation is retired: it
// starts the process, restarts it with a back-off when it exits, and gives
// up when it fails StartAttempts times in a row without ever being ready.
func (s *Supervisor) run(d *deployment, g *generation, in *instance) {
	gaveUp := false
	defer func() {
		s.mu.Lock()
		in.exited = true
		in.addr = ""
		if !gaveUp {
			in.state = deploy.InstanceStopped
		}
		s.changedLocked(d)
		s.mu.Unlock()
		close(in.done)
		s.wg.Done()
	}()

	backoff := s.cfg.BackoffMin
	failures := 0
	for {
		if g.ctx.Err() != nil {
			return
		}
		started := time.Now()
		failure, stopped := s.runOnce(d, g, in)
		if stopped {
			return
		}
		if time.Since(started) >= s.cfg.StableAfter {
			backoff = s.cfg.BackoffMin
		}

		s.mu.Lock()
		if !in.everReady {
			failures++
		}
		in.state = deploy.InstanceCrashed
		in.addr = ""
		in.lastError = failure
		giveUp := !in.everReady && failures >= s.cfg.StartAttempts
		gaveUp = giveUp
		if giveUp && g.failed == "" {
			g.failed = fmt.Sprintf("instance %s failed %d times before it was ever ready: %s", in.id, failures, failure)
		}
		s.changedLocked(d)
		s.mu.Unlock()

		if giveUp {
			s.log.Error("instance given up", "deployment", d.id, "instance", in.id, "attempts", failures, "error", failure)
			s.event(d, in, deploy.LevelError, fmt.Sprintf("instance %s %s; given up after %d attempts", in.id, failure, failures))
			return
		}
		s.log.Warn("instance crashed", "deployment", d.id, "instance", in.id, "error", failure, "restart_in", backoff)
		s.event(d, in, deploy.LevelError, fmt.Sprintf("instance %s %s; restarting in %s", in.id, failure, backoff))

		t := time.NewTimer(backoff)
		select {
		case <-g.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, s.cfg.BackoffMax)
		s.mu.Lock()
		in.restarts++
		s.mu.Unlock()
	}
}

// runOnce runs one process of the instance until it exits (failure says
// why) or the generation is retired and the process drained (stopped).
func (s *Supervisor) runOnce(d *deployment, g *generation, in *instance) (failure string, stopped bool) {
	cmd := exec.Command(g.spec.Command[0], g.spec.Command[1:]...)
	cmd.Env = s.instanceEnv(g.spec, in.id)
	cmd.SysProcAttr = sysProcAttr()
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return "could not start: " + err.Error(), false
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return "could not start: " + err.Error(), false
	}
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	err = cmd.Start()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return "could not start: " + err.Error(), false
	}

	s.mu.Lock()
	in.pid = cmd.Process.Pid
	in.startedAt = time.Now()
	in.addr = ""
	in.state = deploy.InstanceStarting
	s.changedLocked(d)
	s.mu.Unlock()
	s.log.Info("instance started", "deployment", d.id, "instance", in.id, "pid", cmd.Process.Pid)
	s.event(d, in, deploy.LevelInfo, fmt.Sprintf("instance %s started (pid %d)", in.id, cmd.Process.Pid))

	// Output: parse every line into the deployment's logs; watch stdout
	// for the "listening" line; remember the last error lines for crash
	// reports.
	tail := &lineTail{}
	addrCh := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		defer stdoutR.Close()
		seen := false
		readLines(stdoutR, maxLineBytes, func(b []byte) {
			if !seen {
				if addr, ok := listeningAddr(b); ok {
					if addr, ok := loopbackAddr(addr); ok {
						seen = true
						addrCh <- addr
					}
				}
			}
			l := parseLine(b, in.id, deploy.LevelInfo, time.Now())
			l.Message = g.redact.String(l.Message) // a panic prints what it likes
			if l.Level == deploy.LevelError {
				tail.add(l.Message)
			}
			d.logs.add(l)
		})
	}()
	go func() {
		defer readers.Done()
		defer stderrR.Close()
		readLines(stderrR, maxLineBytes, func(b []byte) {
			l := parseLine(b, in.id, deploy.LevelError, time.Now())
			l.Message = g.redact.String(l.Message) // a panic prints what it likes
			if l.Level == deploy.LevelError {
				tail.add(l.Message)
			}
			d.logs.add(l)
		})
	}()
	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// withOutput waits briefly for the last output of an exited process
	// and adds its last error lines to msg.
	withOutput := func(msg string) string {
		t := time.NewTimer(time.Second)
		select {
		case <-readersDone:
		case <-t.C:
		}
		t.Stop()
		if last := tail.String(); last != "" {
			msg += "; last output: " + last
		}
		return msg
	}

	readyBy := time.NewTimer(s.cfg.ReadyTimeout)
	defer readyBy.Stop()
	check := time.NewTimer(time.Hour)
	check.Stop()
	defer check.Stop()
	var (
		addr      string
		ready     bool
		unhealthy int
	)
	for {
		select {
		case err := <-exited:
			return withOutput(describeExit(err, ready)), false

		case <-g.ctx.Done():
			s.drain(d, in, cmd.Process, exited, ready)
			t := time.NewTimer(time.Second)
			select {
			case <-readersDone:
			case <-t.C:
			}
			t.Stop()
			return "", true

		case a := <-addrCh:
			addr = a
			s.mu.Lock()
			in.addr = addr
			s.changedLocked(d)
			s.mu.Unlock()
			check.Reset(0)

		case <-readyBy.C:
			if ready {
				continue
			}
			_ = cmd.Process.Kill()
			<-exited
			msg := fmt.Sprintf("was not ready within %s", s.cfg.ReadyTimeout)
			if addr == "" {
				msg = fmt.Sprintf("did not report its address within %s", s.cfg.ReadyTimeout)
			}
			return withOutput(msg), false

		case <-check.C:
			ok := s.checkReady(g.ctx, addr)
			switch {
			case ok && !ready:
				ready, unhealthy = true, 0
				readyBy.Stop()
				s.setState(d, in, deploy.InstanceReady)
				s.log.Info("instance ready", "deployment", d.id, "instance", in.id, "addr", addr)
				s.event(d, in, deploy.LevelInfo, fmt.Sprintf("instance %s ready at %s", in.id, addr))
			case ok:
				if unhealthy >= 3 {
					s.setState(d, in, deploy.InstanceReady)
					s.event(d, in, deploy.LevelInfo, fmt.Sprintf("instance %s ready again", in.id))
				}
				unhealthy = 0
			case ready:
				unhealthy++
				if unhealthy == 3 {
					s.setState(d, in, deploy.InstanceStarting)
					s.log.Warn("instance not ready", "deployment", d.id, "instance", in.id)
					s.event(d, in, deploy.LevelWarn, fmt.Sprintf("instance %s failed 3 readiness checks; out of traffic until it is ready again", in.id))
				}
			}
			if ready {
				check.Reset(s.cfg.HealthInterval)
			} else {
				check.Reset(s.cfg.ReadyPoll)
			}
		}
	}
}

// drain takes the instance out of traffic, gives requests already routed
// to it DrainDelay to arrive, asks it to exit with SIGTERM, and kills it
// after StopTimeout.
func (s *Supervisor) drain(d *deployment, in *instance, p *os.Process, exited <-chan error, wasReady bool) {
	s.setState(d, in, deploy.InstanceDraining)
	s.log.Info("instance draining", "deployment", d.id, "instance", in.id)
	if wasReady && s.cfg.DrainDelay > 0 {
		t := time.NewTimer(s.cfg.DrainDelay)
		select {
		case err := <-exited:
			t.Stop()
			s.stopped(d, in, err)
			return
		case <-t.C:
		}
	}
	if err := terminate(p); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("instance signal failed", "deployment", d.id, "instance", in.id, "error", err)
	}
	t := time.NewTimer(s.cfg.StopTimeout)
	defer t.Stop()
	select {
	case err := <-exited:
		s.stopped(d, in, err)
	case <-t.C:
		_ = p.Kill()
		err := <-exited
		s.log.Warn("instance killed: did not exit in time", "deployment", d.id, "instance", in.id, "stop_timeout", s.cfg.StopTimeout)
		s.event(d, in, deploy.LevelWarn, fmt.Sprintf("instance %s did not exit within %s of SIGTERM and was killed (%v)", in.id, s.cfg.StopTimeout, err))
	}
}

func (s *Supervisor) stopped(d *deployment, in *instance, err error) {
	level, msg := deploy.LevelInfo, fmt.Sprintf("instance %s stopped", in.id)
	if err != nil {
		level, msg = deploy.LevelWarn, fmt.Sprintf("instance %s stopped: %v", in.id, err)
	}
	s.log.Info("instance stopped", "deployment", d.id, "instance", in.id, "exit", err)
	s.event(d, in, level, msg)
}

// checkReady reports whether GET /readyz answers 200.
func (s *Supervisor) checkReady(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := s.health.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func describeExit(err error, wasReady bool) string {
	when := " before it was ready"
	if wasReady {
		when = ""
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exited with status 0" + when
	case errors.As(err, &ee):
		return "exited (" + ee.ProcessState.String() + ")" + when
	}
	return "exited: " + err.Error() + when
}

// lineTail keeps the last few error lines of a process.
type lineTail struct {
	mu    sync.Mutex
	lines []string
}

func (t *lineTail) add(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if len(line) > 500 {
		line = strings.ToValidUTF8(line[:500], "") + "..."
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, " | ")
}
