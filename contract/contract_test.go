package contract

import (
	"strings"
	"testing"
)

func TestParseTraceparent(t *testing.T) {
	const id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tt := range []struct {
		h  string
		ok bool
	}{
		{"00-" + id + "-" + parent + "-01", true},
		{"01-" + id + "-" + parent + "-01-more", true}, // a later version may add fields
		{"00-" + id + "-" + parent + "-01-more", false},
		{"ff-" + id + "-" + parent + "-01", false},
		{"00-" + strings.ToUpper(id) + "-" + parent + "-01", false},
		{"00-" + strings.Repeat("0", 32) + "-" + parent + "-01", false},
		{"00-" + id + "-" + strings.Repeat("0", 16) + "-01", false},
		{"00-" + id + "-" + parent, false},
		{"", false},
	} {
		tr, ok := ParseTraceparent(tt.h)
		if ok != tt.ok || ok && (tr.ID != id || tr.Parent != parent || tr.Flags != "01") {
			t.Errorf("ParseTraceparent(%q) = %+v, %v; want ok %v", tt.h, tr, ok, tt.ok)
		}
	}
}

func TestNewTrace(t *testing.T) {
	tr := NewTrace()
	h := tr.Traceparent(NewSpanID())
	back, ok := ParseTraceparent(h)
	if !ok || back.ID != tr.ID || len(tr.ID) != 32 {
		t.Fatalf("NewTrace made %q, which does not parse back", h)
	}
	if NewTrace().ID == tr.ID {
		t.Error("two traces with one id")
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"/", "/orders", "/orders/:shop", "/a/b/", "/v1.2/x~y_z-w"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "orders", "/a//b", "/a b", "/:1x", "/:x/:x", "/healthz", "/readyz/", "/metrics",
		"/a/..", "/./a", "/%41", "/a?b"} {
		if err := CheckPath(p); err == nil {
			t.Errorf("CheckPath(%q) accepted", p)
		}
	}
}

func TestRouteMatch(t *testing.T) {
	rt, err := ParseRoute("GET", "/orders/:shop/items")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		shop any
		ok   bool
	}{
		{"/orders/acme/items", "acme", true},
		{"/orders/acme/items/", "acme", true},
		{"/orders/a%2Fb/items", "a/b", true}, // an escaped slash stays in the parameter
		{"/%6Frders/acme/items", "acme", true},
		{"/orders//items", nil, false},
		{"/orders/../items", nil, false},
		{"/orders/acme", nil, false},
		{"/orders/%zz/items", nil, false},
	} {
		params, ok := rt.Match(tt.path)
		if ok != tt.ok || ok && params["shop"] != tt.shop {
			t.Errorf("Match(%q) = %v, %v; want %v, %v", tt.path, params, ok, tt.shop, tt.ok)
		}
	}
	if _, err := ParseRoute("TRACE", "/x"); err == nil {
		t.Error("ParseRoute accepted TRACE")
	}
	if Shape("/a/:x/b") != Shape("/a/:y/b/") || Shape("/a/:x") == Shape("/a/x") {
		t.Error("Shape")
	}
	// Routes of one method collide when their shapes are equal: the deploy
	// manager refuses the second.
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"/a/:x", "/a/:y", true},
		{"/a/:x", "/a/:x/", true},
		{"/a/b/", "/a/b", true},
		{"/a/:x", "/a/b", false},
		{"/a/:x", "/a", false},
		{"/a/:x", "/a/:x/c", false},
	} {
		if (Shape(tt.a) == Shape(tt.b)) != tt.same {
			t.Errorf("Shape(%s) == Shape(%s) is %v", tt.a, tt.b, !tt.same)
		}
	}
}
