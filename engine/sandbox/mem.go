package sandbox

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

const (
	memTick     = time.Millisecond
	memRunaway  = 4                     // growth past this many limits stops a run without collecting first
	memGCMinGap = 50 * time.Millisecond // between the watchdog's collections
	heapMetric  = "/memory/classes/heap/objects:bytes"
)

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
			case heap-base > memRunaway*r.memory:
				// Far past the limit: no garbage explains that.
				r.stop(memoryError(r.memory))
			case heap-base > r.memory:
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
			if base, ok := w.runs[r]; ok && heap > base && heap-base > r.memory {
				r.stop(memoryError(r.memory))
			}
		}
		w.mu.Unlock()
	}
}

func memoryError(limit uint64) error {
	return fmt.Errorf("code.js used more memory than its limit of %d MiB", limit>>20)
}
