package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowline/flowline/deploy"
	"github.com/flowline/flowline/store"
	"github.com/flowline/flowline/store/storetest"
)

// eachKind runs test on a fresh store of every kind.
func eachKind(t *testing.T, test func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, kind)
			if got := s.Dialect(); got != kind {
				t.Fatalf("Dialect() = %q, want %q", got, kind)
			}
			test(t, s)
		})
	}
}

func doc(name string, n int) []byte {
	return fmt.Appendf(nil, `{"name":%q,"nodes":[{"id":"n%d","type":"respond"}]}`, name, n)
}

func mustCreate(t *testing.T, s *store.Store, name string) *store.Flow {
	t.Helper()
	f, err := s.CreateFlow(t.Context(), name, doc(name, 1))
	if err != nil {
		t.Fatalf("CreateFlow(%q): %v", name, err)
	}
	return f
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func TestFlows(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		before := time.Now().Add(-time.Second)
		b := mustCreate(t, s, "beta")
		a := mustCreate(t, s, "alpha")
		if a.ID == "" || a.ID == b.ID || a.Revision != 1 || a.Name != "alpha" || !bytes.Equal(a.Document, doc("alpha", 1)) {
			t.Fatalf("CreateFlow = %+v", a)
		}
		if a.CreatedAt.Before(before) || !a.CreatedAt.Equal(a.UpdatedAt) || a.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreateFlow times = %v, %v", a.CreatedAt, a.UpdatedAt)
		}

		got, err := s.GetFlow(ctx, "alpha")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Revision != 1 || !bytes.Equal(got.Document, a.Document) ||
			!got.CreatedAt.Equal(a.CreatedAt) || !got.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("GetFlow = %+v, want %+v", got, a)
		}

		list, err := s.ListFlows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "beta" || !bytes.Equal(list[1].Document, b.Document) {
			t.Fatalf("ListFlows = %+v", list)
		}

		_, err = s.CreateFlow(ctx, "alpha", []byte(`{}`))
		wantErr(t, "CreateFlow(duplicate)", err, store.ErrConflict)
		if got, _ := s.GetFlow(ctx, "alpha"); !bytes.Equal(got.Document, a.Document) {
			t.Fatalf("duplicate create changed the flow: %s", got.Document)
		}

		_, err = s.GetFlow(ctx, "nope")
		wantErr(t, "GetFlow(missing)", err, store.ErrNotFound)

		_, err = s.CreateFlow(ctx, "", []byte(`{}`))
		wantErr(t, "CreateFlow(empty name)", err, store.ErrInvalid)
		_, err = s.CreateFlow(ctx, "bad", []byte("{\"a\":\"\xff\"}"))
		wantErr(t, "CreateFlow(invalid UTF-8)", err, store.ErrInvalid)
		_, err = s.CreateFlow(ctx, "nul\x00", []byte(`{}`))
		wantErr(t, "CreateFlow(NUL in name)", err, store.ErrInvalid)

		// Names and documents are stored as given, whatever they hold.
		odd := "名前 ' \" ; DROP TABLE flows; -- \u2028"
		f, err := s.CreateFlow(ctx, odd, []byte(`{"s":"`+odd+`\u0000"}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetFlow(ctx, odd); err != nil || got.ID != f.ID || !bytes.Equal(got.Document, f.Document) {
			t.Fatalf("GetFlow(odd) = %+v, %v", got, err)
		}
	})
}

func TestSaveFlow(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		created := mustCreate(t, s, "f")

		saved, err := s.SaveFlow(ctx, "f", 1, "", doc("f", 2))
		if err != nil {
			t.Fatal(err)
		}
		if saved.ID != created.ID || saved.Revision != 2 || saved.Name != "f" || !bytes.Equal(saved.Document, doc("f", 2)) ||
			!saved.CreatedAt.Equal(created.CreatedAt) || saved.UpdatedAt.Before(created.UpdatedAt) {
			t.Fatalf("SaveFlow = %+v", saved)
		}
		saved, err = s.SaveFlow(ctx, "f", 2, "f", doc("f", 3))
		if err != nil || saved.Revision != 3 {
			t.Fatalf("SaveFlow = %+v, %v", saved, err)
		}

		// Stale: refused, nothing changes.
		for _, rev := range []int{0, 1, 2, 4} {
			_, err = s.SaveFlow(ctx, "f", rev, "", doc("f", 99))
			wantErr(t, fmt.Sprintf("SaveFlow(ifRevision %d)", rev), err, store.ErrStale)
		}
		_, err = s.SaveFlow(ctx, "f", 2, "renamed", doc("f", 99))
		wantErr(t, "SaveFlow(stale rename)", err, store.ErrStale)
		got, err := s.GetFlow(ctx, "f")
		if err != nil || got.Revision != 3 || !bytes.Equal(got.Document, doc("f", 3)) || !got.UpdatedAt.Equal(saved.UpdatedAt) {
			t.Fatalf("after stale saves: %+v, %v", got, err)
		}
		if revs, _ := s.ListRevisions(ctx, "f"); len(revs) != 3 {
			t.Fatalf("after stale saves: %d revisions, want 3", len(revs))
		}
		if _, err := s.GetFlow(ctx, "renamed"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stale rename renamed: %v", err)
		}

		_, err = s.SaveFlow(ctx, "missing", 1, "", doc("x", 1))
		wantErr(t, "SaveFlow(missing)", err, store.ErrNotFound)
		_, err = s.SaveFlow(ctx, "f", 3, "", []byte("\xfe"))
		wantErr(t, "SaveFlow(invalid UTF-8)", err, store.ErrInvalid)
	})
}

func TestSaveFlowConcurrent(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustCreate(t, s, "f")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.SaveFlow(ctx, "f", 1, "", doc("f", 100+i))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("savers %d and %d both won", winner, i)
				}
				winner = i
			case !errors.Is(err, store.ErrStale):
				t.Fatalf("saver %d: %v", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no saver won")
		}
		got, err := s.GetFlow(ctx, "f")
		if err != nil || got.Revision != 2 || !bytes.Equal(got.Document, doc("f", 100+winner)) {
			t.Fatalf("GetFlow = %+v, %v; want the winner's document", got, err)
		}
		revs, err := s.ListRevisions(ctx, "f")
		if err != nil || len(revs) != 2 || !bytes.Equal(revs[0].Document, got.Document) {
			t.Fatalf("ListRevisions = %d revisions, %v", len(revs), err)
		}
	})
}

func TestRename(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := mustCreate(t, s, "old")
		mustCreate(t, s, "other")
		v, err := s.CreateVersion(ctx, store.NewVersion{Flow: "old", Target: "js", Document: doc("old", 1), Files: map[string][]byte{"main.js": []byte("x")}})
		if err != nil {
			t.Fatal(err)
		}
		d := &store.Deployment{FlowName: "old", VersionNumber: 1, Target: "local", Method: "GET", Path: "/x"}
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}

		_, err = s.SaveFlow(ctx, "old", 1, "other", doc("old", 2))
		wantErr(t, "SaveFlow(rename to a taken name)", err, store.ErrConflict)
		if got, err := s.GetFlow(ctx, "old"); err != nil || got.Revision != 1 {
			t.Fatalf("after refused rename: %+v, %v", got, err)
		}

		renamed, err := s.SaveFlow(ctx, "old", 1, "new", doc("new", 2))
		if err != nil {
			t.Fatal(err)
		}
		if renamed.ID != f.ID || renamed.Name != "new" || renamed.Revision != 2 {
			t.Fatalf("renamed = %+v", renamed)
		}
		_, err = s.GetFlow(ctx, "old")
		wantErr(t, "GetFlow(old name)", err, store.ErrNotFound)

		revs, err := s.ListRevisions(ctx, "new")
		if err != nil || len(revs) != 2 || revs[1].FlowID != f.ID {
			t.Fatalf("ListRevisions(new) = %+v, %v", revs, err)
		}
		gv, err := s.GetVersion(ctx, "new", 1)
		if err != nil || gv.ID != v.ID || gv.FlowName != "new" {
			t.Fatalf("GetVersion(new, 1) = %+v, %v", gv, err)
		}
		gd, err := s.GetDeployment(ctx, d.ID)
		if err != nil || gd.FlowName != "new" || gd.FlowID != f.ID {
			t.Fatalf("GetDeployment = %+v, %v", gd, err)
		}
		list, err := s.ListDeployments(ctx, store.DeploymentFilter{FlowName: "new"})
		if err != nil || len(list) != 1 {
			t.Fatalf("ListDeployments(new) = %+v, %v", list, err)
		}
		// The next publish continues the numbering.
		v2, err := s.CreateVersion(ctx, store.NewVersion{Flow: "new", Target: "go", Document: doc("new", 2)})
		if err != nil || v2.Number != 2 {
			t.Fatalf("CreateVersion after rename = %+v, %v", v2, err)
		}
		// The old name is free again.
		if _, err := s.CreateFlow(ctx, "old", doc("old", 1)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRevisions(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := mustCreate(t, s, "f")
		for rev := 1; rev < 5; rev++ {
			if _, err := s.SaveFlow(ctx, "f", rev, "", doc("f", rev+1)); err != nil {
				t.Fatal(err)
			}
		}
		revs, err := s.ListRevisions(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		if len(revs) != 5 {
			t.Fatalf("ListRevisions: %d revisions, want 5", len(revs))
		}
		for i, r := range revs {
			want := 5 - i
			if r.Revision != want || r.FlowID != f.ID || !bytes.Equal(r.Document, doc("f", want)) || r.CreatedAt.IsZero() {
				t.Fatalf("ListRevisions[%d] = %+v, want revision %d", i, r, want)
			}
		}
		r, err := s.GetRevision(ctx, "f", 3)
		if err != nil || r.Revision != 3 || !bytes.Equal(r.Document, doc("f", 3)) {
			t.Fatalf("GetRevision(3) = %+v, %v", r, err)
		}
		_, err = s.GetRevision(ctx, "f", 6)
		wantErr(t, "GetRevision(6)", err, store.ErrNotFound)
		_, err = s.GetRevision(ctx, "missing", 1)
		wantErr(t, "GetRevision(missing flow)", err, store.ErrNotFound)
		_, err = s.ListRevisions(ctx, "missing")
		wantErr(t, "ListRevisions(missing flow)", err, store.ErrNotFound)
	})
}

func TestVersions(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := mustCreate(t, s, "f")
		mustCreate(t, s, "g")

		if list, err := s.ListVersions(ctx, "f"); err != nil || len(list) != 0 {
			t.Fatalf("ListVersions before publishing = %+v, %v", list, err)
		}

		const n = 8
		versions := make([]*store.Version, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				files := map[string][]byte{"main.js": fmt.Appendf(nil, "// %d", i)}
				versions[i], errs[i] = s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", i), Files: files})
			})
		}
		close(start)
		wg.Wait()
		var numbers []int
		byNumber := map[int]int{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("publisher %d: %v", i, err)
			}
			v := versions[i]
			if v.FlowID != f.ID || v.FlowName != "f" || v.Target != "js" || v.ID == "" {
				t.Fatalf("CreateVersion = %+v", v)
			}
			numbers = append(numbers, v.Number)
			byNumber[v.Number] = i
		}
		slices.Sort(numbers)
		if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(numbers, want) {
			t.Fatalf("version numbers = %v, want %v", numbers, want)
		}

		list, err := s.ListVersions(ctx, "f")
		if err != nil || len(list) != n {
			t.Fatalf("ListVersions = %d versions, %v", len(list), err)
		}
		for i, v := range list {
			if v.Number != n-i || v.FlowName != "f" || !bytes.Equal(v.Document, doc("f", byNumber[v.Number])) {
				t.Fatalf("ListVersions[%d] = %+v", i, v)
			}
		}

		v, err := s.GetVersion(ctx, "f", 3)
		if err != nil {
			t.Fatal(err)
		}
		i := byNumber[3]
		if v.ID != versions[i].ID || !bytes.Equal(v.Document, doc("f", i)) || string(v.Files["main.js"]) != fmt.Sprintf("// %d", i) ||
			len(v.Files) != 1 || !v.CreatedAt.Equal(versions[i].CreatedAt) {
			t.Fatalf("GetVersion(3) = %+v", v)
		}

		// Numbering is per flow.
		g1, err := s.CreateVersion(ctx, store.NewVersion{Flow: "g", Target: "go", Document: doc("g", 1)})
		if err != nil || g1.Number != 1 {
			t.Fatalf("first version of g = %+v, %v", g1, err)
		}
		if g, err := s.GetVersion(ctx, "g", 1); err != nil || len(g.Files) != 0 || g.Files == nil {
			t.Fatalf("GetVersion(g, 1) = %+v, %v", g, err)
		}

		_, err = s.GetVersion(ctx, "f", 9)
		wantErr(t, "GetVersion(9)", err, store.ErrNotFound)
		_, err = s.GetVersion(ctx, "missing", 1)
		wantErr(t, "GetVersion(missing flow)", err, store.ErrNotFound)
		_, err = s.ListVersions(ctx, "missing")
		wantErr(t, "ListVersions(missing flow)", err, store.ErrNotFound)
		_, err = s.CreateVersion(ctx, store.NewVersion{Flow: "missing", Target: "js", Document: doc("x", 1)})
		wantErr(t, "CreateVersion(missing flow)", err, store.ErrNotFound)
	})
}

func TestBundleBytes(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustCreate(t, s, "f")
		rng := rand.NewChaCha8([32]byte{1})
		big := make([]byte, 3<<20+7)
		rng.Read(big)
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		files := map[string][]byte{
			"bin/handler":       big,
			"all-bytes":         all,
			"invalid-utf8.js":   []byte("a\xff\xfe\x00b\xc3\x28"),
			"empty":             {},
			"nil":               nil,
			"dir/ünïcode ☃.txt": []byte("snow ☃\n"),
		}
		if !testing.Short() {
			huge := make([]byte, 50<<20)
			rng.Read(huge)
			files["huge"] = huge
		}
		v, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "go", Document: doc("f", 1), Files: files})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetVersion(ctx, "f", v.Number)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Files) != len(files) {
			t.Fatalf("GetVersion: %d files, want %d", len(got.Files), len(files))
		}
		for p, want := range files {
			content, ok := got.Files[p]
			if !ok || content == nil || !bytes.Equal(content, want) {
				t.Errorf("file %q: %d bytes (present %v), want %d bytes", p, len(content), ok, len(want))
			}
		}
	})
}

// TestReserveVersion: a publisher reserves its number before it generates
// the bundle; concurrent reservations get distinct numbers, a number never
// reserved is refused, a reserved one is stored once, and a failed publish
// leaves a gap rather than a reused number.
func TestReserveVersion(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustCreate(t, s, "f")
		const n = 8
		got := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = s.ReserveVersion(ctx, "f")
			}()
		}
		wg.Wait()
		seen := map[int]bool{}
		for i := range n {
			if errs[i] != nil || got[i] < 1 || got[i] > n || seen[got[i]] {
				t.Fatalf("ReserveVersion: %v, %v", got, errs)
			}
			seen[got[i]] = true
		}
		if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Number: n + 1, Target: "js", Document: doc("f", 1)}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CreateVersion(unreserved) = %v, want ErrConflict", err)
		}
		v, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Number: 3, Revision: 1, Target: "js", Document: doc("f", 1)})
		if err != nil || v.Number != 3 || v.Revision != 1 {
			t.Fatalf("CreateVersion(3) = %+v, %v", v, err)
		}
		if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Number: 3, Target: "js", Document: doc("f", 1)}); err == nil {
			t.Fatal("version 3 stored twice")
		}
		next, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", 1)})
		if err != nil || next.Number != n+1 {
			t.Fatalf("CreateVersion(next) = %+v, %v; want number %d", next, err, n+1)
		}
		vs, err := s.ListVersions(ctx, "f")
		if err != nil || len(vs) != 2 || vs[1].Revision != 1 {
			t.Fatalf("ListVersions = %+v, %v", vs, err)
		}
		if _, err := s.ReserveVersion(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ReserveVersion(missing) = %v", err)
		}
	})
}

func TestDeployments(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		f := mustCreate(t, s, "f")
		mustCreate(t, s, "g")
		v1, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", 1)})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "go", Document: doc("f", 1)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "g", Target: "js", Document: doc("g", 1)}); err != nil {
			t.Fatal(err)
		}

		d := &store.Deployment{
			FlowName:      "f",
			VersionNumber: 1,
			Target:        "local",
			Method:        "POST",
			Path:          "/orders/:id",
			Env:           map[string]string{"A": "1", "QUOTE": "\"'\n"},
			Datasources:   map[string]string{"main": "postgres://u:p@db/x"},
			Scaling:       store.Scaling{Min: 1, Max: 4},
			Deadline:      1500 * time.Millisecond,
			EgressAllow:   []string{"10.1.2.0/24", "billing.internal:8443", "[fd00::1]:443"},
		}
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.ID == "" || d.FlowID != f.ID || d.VersionID != v1.ID || d.Status != deploy.StatePending || d.CreatedAt.IsZero() {
			t.Fatalf("CreateDeployment set %+v", d)
		}
		got, err := s.GetDeployment(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FlowName != "f" || got.VersionNumber != 1 || got.VersionID != v1.ID || got.Target != "local" ||
			got.Method != "POST" || got.Path != "/orders/:id" || got.Env["QUOTE"] != `"'`+"\n" || len(got.Env) != 2 ||
			got.Datasources["main"] != "postgres://u:p@db/x" || got.Scaling != d.Scaling || got.Deadline != d.Deadline ||
			got.Status != deploy.StatePending || !got.CreatedAt.Equal(d.CreatedAt) || !got.UpdatedAt.Equal(d.UpdatedAt) ||
			!slices.Equal(got.EgressAllow, d.EgressAllow) {
			t.Fatalf("GetDeployment = %+v, want %+v", got, d)
		}

		// By version id, with no maps.
		d2 := &store.Deployment{FlowID: f.ID, VersionID: v2.ID, Target: "nomad", Method: "GET", Path: "/b", Status: deploy.StateRunning}
		if err := s.CreateDeployment(ctx, d2); err != nil {
			t.Fatal(err)
		}
		if d2.FlowName != "f" || d2.VersionNumber != 2 {
			t.Fatalf("CreateDeployment by ids set %+v", d2)
		}
		d3 := &store.Deployment{FlowName: "g", VersionNumber: 1, Target: "local", Method: "GET", Path: "/g"}
		if err := s.CreateDeployment(ctx, d3); err != nil {
			t.Fatal(err)
		}
		got2, err := s.GetDeployment(ctx, d2.ID)
		if err != nil || got2.Env == nil || len(got2.Env) != 0 || got2.Datasources == nil || got2.EgressAllow == nil ||
			len(got2.EgressAllow) != 0 || got2.Status != deploy.StateRunning {
			t.Fatalf("GetDeployment(d2) = %+v, %v", got2, err)
		}

		for _, bad := range []*store.Deployment{
			{FlowName: "missing", VersionNumber: 1},
			{FlowName: "f", VersionNumber: 3},
			{FlowName: "g", VersionID: v1.ID}, // a version of another flow
		} {
			err := s.CreateDeployment(ctx, bad)
			wantErr(t, fmt.Sprintf("CreateDeployment(%+v)", bad), err, store.ErrNotFound)
		}

		// Status updates; messages are kept, even when they are not text.
		if err := s.UpdateDeploymentStatus(ctx, d.ID, deploy.StateFailed, "exit status 1: \xff\x00boom"); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetDeployment(ctx, d.ID)
		if err != nil || got.Status != deploy.StateFailed || got.Message != "exit status 1: \uFFFD\uFFFDboom" || got.UpdatedAt.Before(got.CreatedAt) {
			t.Fatalf("after UpdateDeploymentStatus: %+v, %v", got, err)
		}
		err = s.UpdateDeploymentStatus(ctx, "missing", deploy.StateRunning, "")
		wantErr(t, "UpdateDeploymentStatus(missing)", err, store.ErrNotFound)

		ids := func(list []store.Deployment, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range list {
				out = append(out, d.ID)
			}
			slices.Sort(out)
			return out
		}
		sorted := func(s ...string) []string { slices.Sort(s); return s }
		if got := ids(s.ListDeployments(ctx, store.DeploymentFilter{})); !slices.Equal(got, sorted(d.ID, d2.ID, d3.ID)) {
			t.Fatalf("ListDeployments(all) = %v", got)
		}
		if got := ids(s.ListDeployments(ctx, store.DeploymentFilter{FlowName: "f"})); !slices.Equal(got, sorted(d.ID, d2.ID)) {
			t.Fatalf("ListDeployments(f) = %v", got)
		}
		if err := s.UpdateDeploymentStatus(ctx, d2.ID, deploy.StateStopped, "undeployed"); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.ListDeployments(ctx, store.DeploymentFilter{Active: true})); !slices.Equal(got, sorted(d.ID, d3.ID)) {
			t.Fatalf("ListDeployments(active) = %v", got)
		}
		if got := ids(s.ListDeployments(ctx, store.DeploymentFilter{FlowName: "f", Active: true})); !slices.Equal(got, []string{d.ID}) {
			t.Fatalf("ListDeployments(f, active) = %v", got)
		}
		if got := ids(s.ListDeployments(ctx, store.DeploymentFilter{FlowName: "missing"})); len(got) != 0 {
			t.Fatalf("ListDeployments(missing) = %v", got)
		}
		list, err := s.ListDeployments(ctx, store.DeploymentFilter{FlowName: "f"})
		if err != nil || list[0].Env == nil || list[0].FlowName != "f" || list[0].VersionNumber == 0 {
			t.Fatalf("ListDeployments rows = %+v, %v", list, err)
		}

		if err := s.DeleteDeployment(ctx, d3.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetDeployment(ctx, d3.ID)
		wantErr(t, "GetDeployment(deleted)", err, store.ErrNotFound)
		err = s.DeleteDeployment(ctx, d3.ID)
		wantErr(t, "DeleteDeployment(deleted)", err, store.ErrNotFound)
	})
}

func TestDeleteFlow(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mustCreate(t, s, "f")
		mustCreate(t, s, "keep")
		if _, err := s.SaveFlow(ctx, "f", 1, "", doc("f", 2)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", 2), Files: map[string][]byte{"a": []byte("a")}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "keep", Target: "js", Document: doc("keep", 1), Files: map[string][]byte{"a": []byte("k")}}); err != nil {
			t.Fatal(err)
		}
		d := &store.Deployment{FlowName: "f", VersionNumber: 2, Target: "local", Method: "GET", Path: "/f"}
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}

		err := s.DeleteFlow(ctx, "f")
		wantErr(t, "DeleteFlow(deployed)", err, store.ErrConflict)
		if _, err := s.GetVersion(ctx, "f", 2); err != nil {
			t.Fatalf("refused delete lost a version: %v", err)
		}

		if err := s.UpdateDeploymentStatus(ctx, d.ID, deploy.StateStopped, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteFlow(ctx, "f"); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetFlow(ctx, "f")
		wantErr(t, "GetFlow(deleted)", err, store.ErrNotFound)
		_, err = s.GetDeployment(ctx, d.ID)
		wantErr(t, "GetDeployment(of deleted flow)", err, store.ErrNotFound)
		err = s.DeleteFlow(ctx, "f")
		wantErr(t, "DeleteFlow(deleted)", err, store.ErrNotFound)

		// A new flow of the same name starts afresh.
		mustCreate(t, s, "f")
		if revs, err := s.ListRevisions(ctx, "f"); err != nil || len(revs) != 1 {
			t.Fatalf("ListRevisions(new f) = %d, %v", len(revs), err)
		}
		if vs, err := s.ListVersions(ctx, "f"); err != nil || len(vs) != 0 {
			t.Fatalf("ListVersions(new f) = %d, %v", len(vs), err)
		}
		_, err = s.GetVersion(ctx, "f", 1)
		wantErr(t, "GetVersion(new f, 1)", err, store.ErrNotFound)
		if v, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", 1)}); err != nil || v.Number != 1 {
			t.Fatalf("CreateVersion(new f) = %+v, %v", v, err)
		}

		// Other flows are untouched.
		if v, err := s.GetVersion(ctx, "keep", 1); err != nil || string(v.Files["a"]) != "k" {
			t.Fatalf("GetVersion(keep, 1) = %+v, %v", v, err)
		}
	})
}

func TestReopen(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			url, dataDir := storetest.Database(t, kind)
			open := func() *store.Store {
				t.Helper()
				s, err := store.Open(ctx, url, dataDir)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return s
			}

			s := open()
			f := mustCreate(t, s, "f")
			files := map[string][]byte{"main.js": []byte("\x00\xff bundle")}
			if _, err := s.CreateVersion(ctx, store.NewVersion{Flow: "f", Target: "js", Document: doc("f", 1), Files: files}); err != nil {
				t.Fatal(err)
			}
			d := &store.Deployment{FlowName: "f", VersionNumber: 1, Target: "local", Method: "GET", Path: "/f",
				Env: map[string]string{"K": "v"}}
			if err := s.CreateDeployment(ctx, d); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// Re-opening runs the migrations again: they must be no-ops.
			for range 2 {
				s = open()
				got, err := s.GetFlow(ctx, "f")
				if err != nil || got.ID != f.ID || !got.CreatedAt.Equal(f.CreatedAt) {
					t.Fatalf("GetFlow after re-open = %+v, %v", got, err)
				}
				v, err := s.GetVersion(ctx, "f", 1)
				if err != nil || !bytes.Equal(v.Files["main.js"], files["main.js"]) {
					t.Fatalf("GetVersion after re-open = %+v, %v", v, err)
				}
				gd, err := s.GetDeployment(ctx, d.ID)
				if err != nil || gd.Env["K"] != "v" {
					t.Fatalf("GetDeployment after re-open = %+v, %v", gd, err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}

			// Two stores on one database at once (two servers over one
			// Postgres; for SQLite, two opens in one process).
			a, b := open(), open()
			defer a.Close()
			defer b.Close()
			if _, err := a.SaveFlow(ctx, "f", 1, "", doc("f", 2)); err != nil {
				t.Fatal(err)
			}
			_, err := b.SaveFlow(ctx, "f", 1, "", doc("f", 3))
			wantErr(t, "SaveFlow on the second store", err, store.ErrStale)
		})
	}
}

func TestOpenURLs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	// With no data directory the key would be made in ./data.
	key := store.WithSecretKey(bytes.Repeat([]byte{7}, store.KeySize))
	for _, url := range []string{
		"sqlite://" + filepath.Join(dir, "a", "b", "x.db"),
		"file:" + filepath.Join(dir, "c", "y.db") + "?mode=rwc",
	} {
		s, err := store.Open(ctx, url, "", key)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		if s.Dialect() != store.DialectSQLite {
			t.Errorf("Open(%q).Dialect() = %q", url, s.Dialect())
		}
		mustCreate(t, s, "f")
		s.Close()
	}
	s, err := store.Open(ctx, "", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(ctx, "sqlite://"+filepath.Join(dir, "a", "b", "x.db"), "", key)
	if err != nil {
		t.Fatalf("re-open by url: %v", err)
	}
	if _, err := s.GetFlow(ctx, "f"); err != nil {
		t.Fatalf("re-open by url: %v", err)
	}
	s.Close()
	for _, url := range []string{"mysql://localhost/x", "sqlite://", "postgres-ish", "file::memory:"} {
		if s, err := store.Open(ctx, url, dir); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

// TestConcurrentMixed runs publishers, savers, readers and deployers side by
// side: on SQLite none of them may fail on a busy database.
func TestConcurrentMixed(t *testing.T) {
	eachKind(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		const flows, workers, rounds = 4, 16, 20
		for i := range flows {
			mustCreate(t, s, fmt.Sprint("f", i))
		}
		errs := make(chan error, workers*rounds)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				name := fmt.Sprint("f", w%flows)
				for i := range rounds {
					var err error
					switch i % 4 {
					case 0:
						_, err = s.CreateVersion(ctx, store.NewVersion{Flow: name, Target: "js", Document: doc(name, i), Files: map[string][]byte{"main.js": make([]byte, 100<<10)}})
					case 1:
						var f *store.Flow
						if f, err = s.GetFlow(ctx, name); err == nil {
							if _, err = s.SaveFlow(ctx, name, f.Revision, "", doc(name, i)); errors.Is(err, store.ErrStale) {
								err = nil
							}
						}
					case 2:
						_, err = s.ListVersions(ctx, name)
					case 3:
						d := &store.Deployment{FlowName: name, VersionNumber: 1, Target: "local"}
						if err = s.CreateDeployment(ctx, d); err == nil {
							err = s.UpdateDeploymentStatus(ctx, d.ID, deploy.StateStopped, "")
						}
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i := range flows {
			name := fmt.Sprint("f", i)
			vs, err := s.ListVersions(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range vs {
				if v.Number != len(vs)-j {
					t.Fatalf("%s: versions %d..1 not dense: got %d at %d", name, len(vs), v.Number, j)
				}
			}
		}
	})
}
