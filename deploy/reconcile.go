package deploy

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// Start brings back the deployments that were active when the control
// plane stopped, and from then on keeps statuses and routes current until
// Close. A deployment that cannot be brought back is logged and skipped;
// the error is for the store failing to list them.
func (m *Manager) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.Background())
	m.stopWatch, m.watchDone = cancel, make(chan struct{})
	go m.watch(wctx)
	return m.restore(ctx)
}

// Close stops watching and waits for replaced deployments to finish
// draining. The targets keep running what they run: closing them is their
// owner's decision.
func (m *Manager) Close() {
	if m.stopWatch != nil {
		m.stopWatch()
		<-m.watchDone
	}
	m.drains.Wait()
}

// restore starts the deployments that were active when the control plane
// stopped, and adopts those a target still runs.
func (m *Manager) restore(ctx context.Context) error {
	deps, err := m.store.ListDeployments(ctx, store.DeploymentFilter{Active: true})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for i := range deps {
		d := &deps[i]
		if d.Status == StateFailed {
			continue
		}
		t, ok := m.targets[d.Target]
		if !ok {
			m.log.Warn("deployment target not configured; not restored", "deployment", d.ID, "target", d.Target)
			continue
		}
		if st, err := t.Status(ctx, d.ID); err == nil && st.State != StateStopped {
			m.mu.Lock()
			m.active[d.ID] = d
			m.mu.Unlock()
			m.syncRoutes()
			m.log.Info("adopted running deployment", "flow", d.FlowName, "version", d.VersionNumber, "deployment", d.ID)
			continue
		}
		v, err := m.store.GetVersion(ctx, d.FlowName, d.VersionNumber)
		if err != nil {
			m.log.Error("restore deployment", "deployment", d.ID, "error", err.Error())
			continue
		}
		m.mu.Lock()
		m.active[d.ID] = d
		m.mu.Unlock()
		if err := m.start(ctx, t, d, v.Files); err != nil {
			m.log.Error("restore deployment", "deployment", d.ID, "error", err.Error())
			continue
		}
		m.log.Info("restored deployment", "flow", d.FlowName, "version", d.VersionNumber, "deployment", d.ID)
	}
	return nil
}

// watch reconciles whenever a target reports a change, and every interval.
func (m *Manager) watch(ctx context.Context) {
	defer close(m.watchDone)
	changed := make(chan struct{}, 1)
	for _, t := range m.targets {
		ch, cancel := t.Subscribe()
		defer cancel()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-ch:
					select {
					case changed <- struct{}{}:
					default: // one pending reconcile covers it
					}
				}
			}
		}()
	}
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
		m.reconcile(ctx)
	}
}

// reconcile writes what the targets report back to the store, drains a
// flow's older deployments once a newer one is running, and updates the
// routes.
func (m *Manager) reconcile(ctx context.Context) {
	m.mu.Lock()
	deps := make([]*store.Deployment, 0, len(m.active))
	for _, d := range m.active {
		deps = append(deps, d)
	}
	m.mu.Unlock()
	newestRunning := map[string]time.Time{}
	for _, d := range deps {
		t, ok := m.targets[d.Target]
		if !ok {
			continue
		}
		st, err := t.Status(ctx, d.ID)
		if err != nil {
			continue
		}
		m.mu.Lock()
		changed := st.State != d.Status || st.Message != d.Message
		m.mu.Unlock()
		if changed {
			if err := m.store.UpdateDeploymentStatus(ctx, d.ID, st.State, st.Message); err == nil {
				m.mu.Lock()
				d.Status, d.Message = st.State, st.Message
				m.mu.Unlock()
			}
		}
		if st.State == StateRunning && d.CreatedAt.After(newestRunning[d.FlowID]) {
			newestRunning[d.FlowID] = d.CreatedAt
		}
	}
	for _, d := range deps {
		if n, ok := newestRunning[d.FlowID]; ok && d.CreatedAt.Before(n) {
			m.log.Info("draining replaced deployment", "flow", d.FlowName, "deployment", d.ID, "version", d.VersionNumber)
			if err := m.retire(ctx, d); err != nil {
				m.log.Error("retire replaced deployment", "deployment", d.ID, "error", err.Error())
				continue
			}
			// In the background: a drain takes as long as the slowest
			// request in flight, and the next change must not wait for it.
			m.drains.Go(func() {
				if err := m.drain(ctx, d); err != nil {
					m.log.Error("drain replaced deployment", "deployment", d.ID, "error", err.Error())
				}
			})
		}
	}
	m.syncRoutes()
}

// syncRoutes hands the gateway one route per deployed flow, served by its
// newest deployment that has ready instances.
func (m *Manager) syncRoutes() {
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	m.mu.Lock()
	byFlow := map[string][]*store.Deployment{}
	for _, d := range m.active {
		byFlow[d.FlowID] = append(byFlow[d.FlowID], d)
	}
	m.mu.Unlock()
	routes := make([]gateway.Route, 0, len(byFlow))
	for _, deps := range byFlow {
		sort.Slice(deps, func(i, j int) bool { return deps[i].CreatedAt.After(deps[j].CreatedAt) })
		type backend struct {
			t  Target
			id string
		}
		var backends []backend
		for _, d := range deps {
			if t, ok := m.targets[d.Target]; ok {
				backends = append(backends, backend{t, d.ID})
			}
		}
		newest := deps[0]
		routes = append(routes, gateway.Route{
			DeploymentID: newest.ID, FlowID: newest.FlowID, Flow: newest.FlowName, Method: newest.Method, Path: newest.Path,
			Deadline: newest.Deadline,
			Backends: func() []string {
				for _, b := range backends {
					if addrs := b.t.Backends(b.id); len(addrs) > 0 {
						return addrs
					}
				}
				return nil
			},
		})
	}
	if err := m.setRoutes(routes); err != nil {
		m.log.Error("update gateway routes", "error", err.Error())
	}
}
