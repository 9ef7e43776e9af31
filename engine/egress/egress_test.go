package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Nothing in these tests connects anywhere but 127.0.0.0/8: the addresses
// off the loopback range are judged by the policy, or handed to a dial
// function that fails the test if it is ever asked for one.

func TestRefusedRanges(t *testing.T) {
	refused := map[string]string{
		"127.0.0.1":       "loopback",
		"127.255.255.254": "loopback",
		"::1":             "loopback",
		"10.0.0.1":        "private",
		"10.255.255.255":  "private",
		"172.16.0.1":      "private",
		"172.31.255.255":  "private",
		"192.168.1.1":     "private",
		"fc00::1":         "private",
		"fd12:3456::1":    "private",
		"169.254.169.254": "link-local",
		"169.254.0.1":     "link-local",
		"fe80::1":         "link-local",
		"fe80::1%eth0":    "link-local",
		"0.0.0.0":         "unspecified",
		"0.1.2.3":         "unspecified",
		"::":              "unspecified",
		"224.0.0.1":       "multicast",
		"239.255.255.250": "multicast",
		"ff02::1":         "multicast",
		"255.255.255.255": "broadcast",
		"240.0.0.1":       "reserved",
		"100.64.0.1":      "carrier-grade NAT",
		"100.127.255.255": "carrier-grade NAT",
		"100.100.100.200": "carrier-grade NAT", // Alibaba Cloud's metadata address
		"192.0.0.170":     "IETF",
		"192.0.2.1":       "documentation",
		"198.18.0.1":      "benchmarking",
		"2001:db8::1":     "documentation",
		"fec0::1":         "site-local",
		"100::1":          "discard",
		"::7f00:1":        "IPv4-compatible",

		// IPv6 forms of IPv4 addresses are judged by the IPv4 address.
		"::ffff:127.0.0.1":                     "loopback",
		"::ffff:169.254.169.254":               "link-local",
		"::ffff:10.1.2.3":                      "private",
		"::ffff:0.0.0.0":                       "unspecified",
		"64:ff9b::7f00:1":                      "NAT64 form of a loopback",
		"64:ff9b::a9fe:a9fe":                   "NAT64 form of a link-local",
		"64:ff9b::a00:1":                       "NAT64 form of a private",
		"64:ff9b:1::1":                         "local-use NAT64",
		"2002:7f00:1::1":                       "6to4 form of a loopback",
		"2002:a9fe:a9fe::":                     "6to4 form of a link-local",
		"2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo form of a loopback", // client 127.0.0.1, inverted
		"2001:0:a00:1::1":                      "Teredo form of a private",  // server 10.0.0.1
	}
	for s, want := range refused {
		ip := netip.MustParseAddr(s)
		if got := Refused(ip); !strings.Contains(got, want) {
			t.Errorf("Refused(%s) = %q, want it to say %q", s, got, want)
		}
		if err := (*Policy)(nil).CheckAddr(ip, 80); err == nil {
			t.Errorf("the default policy permits %s", s)
		}
	}
	public := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "11.0.0.1", "126.255.255.255", "128.0.0.1",
		"172.15.255.255", "172.32.0.1", "192.167.255.255", "192.169.0.1", "100.63.255.255", "100.128.0.1",
		"169.253.255.255", "169.255.0.1", "223.255.255.255", "198.20.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001::200e",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range public {
		if got := Refused(netip.MustParseAddr(s)); got != "" {
			t.Errorf("Refused(%s) = %q, want a public address", s, got)
		}
	}
	if Refused(netip.Addr{}) == "" {
		t.Error("the zero Addr is not refused")
	}
}

func TestParse(t *testing.T) {
	p, err := Parse([]string{" Billing.Internal.:8443 ", "10.1.2.0/24", "::FFFF:10.9.9.9", "[FD00::1]:8443", "127.0.0.1:9000", "fd00:1::/32", "[::1]", "svc_a.local"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"billing.internal:8443", "10.1.2.0/24", "10.9.9.9", "[fd00::1]:8443", "127.0.0.1:9000", "fd00:1::/32", "::1", "svc_a.local"}
	if got := p.Entries(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entries %q, want %q", got, want)
	}
	// What Entries gives parses to the same policy.
	again, err := Parse(p.Entries())
	if err != nil || strings.Join(again.Entries(), " ") != strings.Join(want, " ") {
		t.Errorf("entries do not round-trip: %v %v", again.Entries(), err)
	}
	if p, err := Parse(nil); p != nil || err != nil || len(p.Entries()) != 0 || p.Entries() == nil {
		t.Errorf("Parse(nil) = %v, %v", p, err)
	}

	bad := map[string]string{
		"":                       "empty",
		"  ":                     "empty",
		"http://billing:8443":    "URL",
		"*.internal":             "wildcard",
		"10.1.2.3/24":            "did you mean 10.1.2.0/24",
		"10.0.0.0/33":            "CIDR",
		"10.0.0.0/8:80":          "CIDR",
		"::ffff:10.0.0.0/104":    "IPv4 form",
		"billing:0":              "port",
		"billing:70000":          "port",
		"billing:http":           "port",
		"fe80::1%eth0":           "zone",
		"[fe80::1%eth0]:80":      "zone",
		"a b":                    "host name",
		"-bad.example":           "host name",
		"bad..example":           "host name",
		"a:b:c":                  "IPv6",
		"010.1.2.3":              "IPv4",
		"127.1":                  "IPv4",
		"0x7f.1:80":              "IPv4",
		"2130706433":             "IPv4",
		strings.Repeat("a", 301): "too long",
	}
	for entry, want := range bad {
		_, err := Parse([]string{"ok.example", entry})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "entry 2") {
			t.Errorf("Parse(%q): %v, want an error about entry 2 saying %q", entry, err, want)
		}
	}
	// Every problem at once.
	_, err = Parse([]string{"", "ok", "x:0"})
	if err == nil || !strings.Contains(err.Error(), "entry 1") || !strings.Contains(err.Error(), "entry 3") {
		t.Errorf("want both problems: %v", err)
	}
	if _, err := Parse(make([]string, MaxEntries+1)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("too many entries: %v", err)
	}
}

func TestAllowList(t *testing.T) {
	p, err := Parse([]string{"10.1.2.0/24", "127.0.0.1:9000", "fd00::/8", "192.168.1.5", "billing.internal:8443", "metadata.google.internal", "[::1]:7000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip   string
		port uint16
		ok   bool
	}{
		{"10.1.2.7", 1, true},
		{"10.1.2.255", 65535, true},
		{"10.1.3.1", 80, false},
		{"::ffff:10.1.2.7", 80, true}, // an IPv4-mapped form of an allowed address
		{"127.0.0.1", 9000, true},
		{"127.0.0.1", 9001, false}, // the port is part of the entry
		{"127.0.0.2", 9000, false},
		{"::ffff:127.0.0.1", 9000, true},
		{"fd00::5", 443, true},
		{"fc00::5", 443, false},
		{"192.168.1.5", 22, true},
		{"192.168.1.6", 22, false},
		{"::1", 7000, true},
		{"::1", 7001, false},
		{"169.254.169.254", 80, false}, // a name entry never opens an address
		{"8.8.8.8", 53, true},          // public: allowed without an entry
	} {
		err := p.CheckAddr(netip.MustParseAddr(c.ip), c.port)
		if (err == nil) != c.ok {
			t.Errorf("CheckAddr(%s, %d) = %v, want allowed %v", c.ip, c.port, err, c.ok)
		}
		var re *RefusedError
		if err != nil && !errors.As(err, &re) {
			t.Errorf("CheckAddr(%s, %d): %T, want *RefusedError", c.ip, c.port, err)
		}
	}

	for _, c := range []struct {
		url      string
		checkErr string // "" when CheckURL passes it
		listed   bool
	}{
		{"http://127.0.0.1:9000/x", "", true},
		{"http://127.0.0.1:9001/x?token=secret", `refuses 127.0.0.1:9001 (a loopback address); to call it, add "127.0.0.1:9001"`, false},
		{"http://127.0.0.1/", "127.0.0.1:80", false},
		{"https://127.0.0.1/", "127.0.0.1:443", false},
		{"http://[::ffff:127.0.0.1]:9000/", "", true},
		{"http://[::ffff:127.0.0.1]:9001/", "127.0.0.1:9001", false},
		{"http://[::1]:7000/", "", true},
		{"http://[::1]:80/", "[::1]:80", false},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254:80 (a link-local address", false},
		{"http://[fe80::1%25eth0]/", "[fe80::1]:80", false},
		{"http://metadata.google.internal/computeMetadata/v1/", "", true}, // on the list by name
		{"http://metadata.goog/", "refuses metadata.goog (a cloud metadata", false},
		{"http://INSTANCE-DATA./latest", "refuses instance-data", false},
		{"https://billing.internal:8443/pay", "", true},
		{"https://Billing.Internal.:8443/pay", "", true},
		{"https://billing.internal/pay", "", false}, // a name: checked when dialled
		{"http://example.com/", "", false},
		{"http://10.1.2.3:8080/", "", true},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		err = p.CheckURL(u)
		switch {
		case c.checkErr == "" && err != nil:
			t.Errorf("CheckURL(%s): %v", c.url, err)
		case c.checkErr != "" && (err == nil || !strings.Contains(err.Error(), c.checkErr)):
			t.Errorf("CheckURL(%s) = %v, want an error saying %q", c.url, err, c.checkErr)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("CheckURL(%s) leaks the query: %v", c.url, err)
		}
		if got := p.Listed(u); got != c.listed {
			t.Errorf("Listed(%s) = %v, want %v", c.url, got, c.listed)
		}
	}
	// The default policy refuses the metadata names too.
	u, _ := url.Parse("http://metadata.google.internal/")
	if err := (*Policy)(nil).CheckURL(u); err == nil {
		t.Error("the default policy lets metadata.google.internal through")
	}
	if (*Policy)(nil).Listed(u) {
		t.Error("the default policy lists a host")
	}
}

// fakeResolver answers from a table, counting lookups; a name that
// rebinds gets its answers in turn.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func newResolver(answers map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
	for name, list := range answers {
		for _, one := range list {
			var ips []netip.Addr
			for _, s := range strings.Fields(one) {
				ips = append(ips, netip.MustParseAddr(s))
			}
			r.answers[name] = append(r.answers[name], ips)
		}
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	host = strings.TrimSuffix(strings.ToLower(host), ".") // as DNS compares names
	n := r.lookups[host]
	r.lookups[host]++
	as := r.answers[host]
	if len(as) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return as[min(n, len(as)-1)], nil
}

// loopbackOnly is a dial function that connects nowhere: it records what
// it was asked for, fails the test if that is not an address in
// 127.0.0.0/8, and hands back one end of a pipe.
type loopbackOnly struct {
	t     *testing.T
	mu    sync.Mutex
	dials []string
}

func (l *loopbackOnly) dial(_ context.Context, network, address string) (net.Conn, error) {
	l.mu.Lock()
	l.dials = append(l.dials, address)
	l.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !netip.MustParsePrefix("127.0.0.0/8").Contains(ap.Addr()) {
		l.t.Errorf("asked to connect to %s %s, off the loopback range", network, address)
		return nil, errors.New("test dialer: refused to connect off loopback")
	}
	c, s := net.Pipe()
	s.Close()
	return c, nil
}

func (l *loopbackOnly) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dials
	l.dials = nil
	return d
}

func TestDialer(t *testing.T) {
	res := newResolver(map[string][]string{
		"evil.example":             {"10.0.0.1"},
		"meta.example":             {"169.254.169.254"},
		"six.example":              {"fd00::1 ::ffff:10.0.0.1"},
		"mixed.example":            {"10.0.0.1 127.0.0.1"},
		"rebind.example":           {"127.0.0.1", "10.0.0.1", "169.254.169.254"},
		"billing.internal":         {"127.0.0.5"},
		"metadata.google.internal": {"169.254.169.254"},
		"localhost":                {"::1 127.0.0.1"},
	})
	lo := &loopbackOnly{t: t}
	p, err := Parse([]string{"127.0.0.1:8080", "billing.internal:8443"})
	if err != nil {
		t.Fatal(err)
	}
	strict := &Dialer{Resolver: res, Dial: lo.dial}           // the default policy
	allow := &Dialer{Policy: p, Resolver: res, Dial: lo.dial} // with the allow-list

	for _, c := range []struct {
		d       *Dialer
		addr    string
		refused string   // what the refusal names; "" when the dial goes through
		dialled []string // what reached the dial function
	}{
		{strict, "evil.example:80", "10.0.0.1:80 (a private address)", nil},
		{strict, "meta.example:80", "169.254.169.254:80 (a link-local", nil},
		{strict, "six.example:443", "[fd00::1]:443", nil},
		{strict, "127.0.0.1:8080", "127.0.0.1:8080 (a loopback", nil},
		{strict, "[::ffff:127.0.0.1]:8080", "127.0.0.1:8080 (a loopback", nil},
		{strict, "[::ffff:a9fe:a9fe]:80", "169.254.169.254:80", nil},
		{strict, "[64:ff9b::a9fe:a9fe]:80", "NAT64 form of a link-local", nil},
		{strict, "0.0.0.0:8080", "an unspecified address", nil},
		{strict, "[::]:8080", "an unspecified address", nil},
		{strict, "localhost:8080", "a loopback address", nil},
		{strict, "metadata.google.internal:80", "metadata.google.internal (a cloud metadata", nil},
		{allow, "127.0.0.1:8080", "", []string{"127.0.0.1:8080"}},
		{allow, "[::ffff:127.0.0.1]:8080", "", []string{"127.0.0.1:8080"}},
		{allow, "127.0.0.1:8081", "127.0.0.1:8081", nil},
		{allow, "localhost:8080", "", []string{"127.0.0.1:8080"}},     // ::1 is not on the list; 127.0.0.1 is
		{allow, "mixed.example:8080", "", []string{"127.0.0.1:8080"}}, // only the checked address is dialled
		{allow, "evil.example:8080", "10.0.0.1:8080", nil},
		{allow, "billing.internal:8443", "", []string{"127.0.0.5:8443"}}, // a listed name: whatever it resolves to
		{allow, "BILLING.internal.:8443", "", []string{"127.0.0.5:8443"}},
		{allow, "billing.internal:9999", "127.0.0.5:9999 (a loopback", nil}, // the port is part of the entry
	} {
		conn, err := c.d.DialContext(context.Background(), "tcp", c.addr)
		if conn != nil {
			conn.Close()
		}
		got := lo.take()
		if c.refused == "" {
			if err != nil {
				t.Errorf("dial %s: %v", c.addr, err)
			}
		} else {
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), c.refused) {
				t.Errorf("dial %s: %v, want a refusal naming %q", c.addr, err, c.refused)
			}
		}
		if strings.Join(got, " ") != strings.Join(c.dialled, " ") {
			t.Errorf("dial %s reached the dial function with %v, want %v", c.addr, got, c.dialled)
		}
	}
	if n := res.lookups["metadata.google.internal"]; n != 0 {
		t.Errorf("a metadata name was resolved %d times; it is refused by name", n)
	}

	// DNS rebinding: every dial resolves again and checks what it gets.
	for i, want := range []string{"", "10.0.0.1:8080", "169.254.169.254:8080"} {
		conn, err := allow.DialContext(context.Background(), "tcp", "rebind.example:8080")
		if conn != nil {
			conn.Close()
		}
		switch {
		case want == "" && err != nil:
			t.Errorf("rebind dial %d: %v", i, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("rebind dial %d: %v, want a refusal of %s", i, err, want)
		}
	}
	if got := lo.take(); strings.Join(got, " ") != "127.0.0.1:8080" {
		t.Errorf("rebinding reached the dial function with %v", got)
	}

	// A resolver's failure is the dial's.
	if _, err := strict.DialContext(context.Background(), "tcp", "nowhere.example:80"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("unknown name: %v", err)
	}
	// tcp4 dials skip IPv6 answers rather than refusing them.
	conn, err := allow.DialContext(context.Background(), "tcp4", "localhost:8080")
	if err != nil {
		t.Errorf("tcp4 localhost: %v", err)
	} else {
		conn.Close()
	}
	lo.take()
}

// TestDefaultDialControl: the real dialer's socket control lets a socket
// connect only to the address checked for that very dial. It connects to
// a listener on 127.0.0.1 only.
func TestDefaultDialControl(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := netip.MustParseAddrPort(ln.Addr().String())
	other := netip.AddrPortFrom(addr.Addr(), addr.Port()+1)

	if _, err := defaultDial(context.Background(), "tcp", addr.String()); err == nil || !strings.Contains(err.Error(), "did not check") {
		t.Errorf("an unchecked dial: %v, want a refusal", err)
	}
	ctx := context.WithValue(context.Background(), checkedKey{}, other)
	if _, err := defaultDial(ctx, "tcp", addr.String()); err == nil || !strings.Contains(err.Error(), "did not check") {
		t.Errorf("a dial to another address than the checked one: %v, want a refusal", err)
	}
	ctx = context.WithValue(context.Background(), checkedKey{}, addr)
	conn, err := defaultDial(ctx, "tcp", addr.String())
	if err != nil {
		t.Fatalf("the checked address: %v", err)
	}
	conn.Close()

	// Through a Dialer with the real dial function: allowed, and refused.
	p, _ := Parse([]string{addr.String()})
	if conn, err := (&Dialer{Policy: p}).DialContext(context.Background(), "tcp", addr.String()); err != nil {
		t.Errorf("allowed: %v", err)
	} else {
		conn.Close()
	}
	if _, err := (&Dialer{}).DialContext(context.Background(), "tcp", addr.String()); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("default policy: %v, want a loopback refusal", err)
	}
}
