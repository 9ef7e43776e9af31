package engine

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// CodeMemoryLimit is how far the heap may grow while a code.js run is
// active before the watchdog interrupts it. goja has no allocation limit of
// its own, so the watchdog samples the Go heap while any run is active;
// when the heap has grown past the limit since a run began, it collects
// garbage to see what is really held, and interrupts the runs that are
// still over. The heap is the process's: a run is charged for what other
// requests allocate while it runs, which the collection before judging
// keeps to what is live. Set by EnvCodeMemory at start-up.
var CodeMemoryLimit uint64 = 64 << 20

// EnvCodeMemory overrides CodeMemoryLimit, in bytes.
const EnvCodeMemory = "FLOWLINE_CODE_MAX_MEMORY"

const (
	memTick     = time.Millisecond
	memRunaway  = 4                     // growth past this many limits stops a run without collecting first
	memGCMinGap = 50 * time.Millisecond // between the watchdog's collections
	heapMetric  = "/memory/classes/heap/objects:bytes"
)

func init() {
	if s := os.Getenv(EnvCodeMemory); s != "" {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
			CodeMemoryLimit = n
		}
	}
}

var memWatch = &memWatchdog{runs: map[*codeRun]uint64{}}

type memWatchdog struct {
	mu      sync.Mutex
	runs    map[*codeRun]uint64 // run -> heap bytes when it began
	running bool
	lastGC  time.Time
}

func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func (w *memWatchdog) add(r *codeRun) {
	s := []metrics.Sample{{Name: heapMetric}}
	base := heapBytes(s)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs[r] = base
	if !w.running {
		w.running = true
		go w.loop()
	}
}

func (w *memWatchdog) remove(r *codeRun) {
	w.mu.Lock()
	delete(w.runs, r)
	w.mu.Unlock()
}

func (w *memWatchdog) loop() {
	sample := []metrics.Sample{{Name: heapMetric}}
	t := time.NewTicker(memTick)
	defer t.Stop()
	for range t.C {
		w.mu.Lock()
		if len(w.runs) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		heap := heapBytes(sample)
		var over []*codeRun
		for r, base := range w.runs {
			switch {
			case heap < base:
				// Garbage was collected: growth counts from here.
				w.runs[r] = heap
			case heap-base > memRunaway*CodeMemoryLimit:
				// Far past the limit: no garbage explains that.
				r.stop(memoryError())
			case heap-base > CodeMemoryLimit:
				over = append(over, r)
			}
		}
		w.mu.Unlock()
		if len(over) == 0 {
			continue
		}
		// Judge on what is live, not on garbage not yet collected.
		if time.Since(w.lastGC) < memGCMinGap {
			continue
		}
		runtime.GC()
		w.lastGC = time.Now()
		heap = heapBytes(sample)
		w.mu.Lock()
		for _, r := range over {
			if base, ok := w.runs[r]; ok && heap > base && heap-base > CodeMemoryLimit {
				r.stop(memoryError())
			}
		}
		w.mu.Unlock()
	}
}

func memoryError() error {
	return fmt.Errorf("code.js used more memory than its limit of %d MiB", CodeMemoryLimit>>20)
}
