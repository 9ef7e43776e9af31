package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDeadlineCtx(t *testing.T) {
	t.Run("unwatched deadline", func(t *testing.T) {
		c := newDeadlineCtx(context.Background(), 20*time.Millisecond)
		if c.Err() != nil {
			t.Fatal(c.Err())
		}
		time.Sleep(30 * time.Millisecond)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("err %v", c.Err())
		}
		c.cancel(context.Canceled)
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("after cancel: %v", c.Err())
		}
	})
	t.Run("done at deadline, with children and AfterFunc", func(t *testing.T) {
		c := newDeadlineCtx(context.Background(), 30*time.Millisecond)
		child, cancel := context.WithTimeout(c, time.Hour)
		defer cancel()
		fired := make(chan struct{})
		context.AfterFunc(c, func() { close(fired) })
		stopped := context.AfterFunc(c, func() { t.Error("a stopped AfterFunc ran") })
		if !stopped() {
			t.Fatal("stop returned false")
		}
		select {
		case <-child.Done():
		case <-time.After(2 * time.Second):
			t.Fatal("child not done at the deadline")
		}
		<-fired
		<-c.Done()
		if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
			t.Fatalf("errs %v %v", c.Err(), child.Err())
		}
		if d, ok := child.Deadline(); !ok || !d.Equal(c.deadline) {
			t.Fatalf("child deadline %v", d)
		}
	})
	t.Run("parent canceled", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		c := newDeadlineCtx(parent, time.Hour)
		done := c.Done()
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("not done when the parent was canceled")
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatal(c.Err())
		}
	})
	t.Run("parent deadline first", func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := newDeadlineCtx(parent, time.Hour)
		pd, _ := parent.Deadline()
		if d, _ := c.Deadline(); !d.Equal(pd) {
			t.Fatalf("deadline %v, want the parent's %v", d, pd)
		}
	})
	t.Run("cancel ends waiters", func(t *testing.T) {
		c := newDeadlineCtx(context.Background(), time.Hour)
		done := c.Done()
		c.cancel(context.Canceled)
		<-done
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatal(c.Err())
		}
		ran := make(chan struct{})
		context.AfterFunc(c, func() { close(ran) })
		<-ran
	})
}
