// Package egress is the egress policy of http.request: which destinations a
// flow may call. By default a flow reaches the public internet only:
// loopback, private, link-local (cloud metadata), unspecified, multicast,
// broadcast, carrier-grade NAT and other special-purpose addresses are
// refused, in their IPv4-mapped, NAT64, 6to4 and Teredo forms too, and so
// are the well-known metadata host names. A deployment opens exceptions
// with an allow-list of CIDRs, IP addresses and host names, each with an
// optional port.
//
// The check happens where the connection is made (Dialer): names are
// resolved there, every resolved address is checked, and only a checked
// address is dialled, so DNS rebinding and redirects meet the same check as
// the first request. CheckURL checks what can be known from a URL alone,
// for early and clear errors (and redirects).
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MaxEntries bounds an allow-list: it is matched on every connection, and
// a longer one is more likely a mistake than a policy.
const MaxEntries = 256

// RefusedError is a destination the policy refuses. Its message names the
// refused address (an IP and port, or a metadata name: never the URL's
// path, query or credentials) and says how to allow it.
type RefusedError struct {
	Addr   string // as an allow-list entry would name it: "10.1.2.3:8443", "[::1]:80", "metadata.google.internal"
	Reason string // why: "a loopback address", ...
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the egress policy refuses %s (%s); to call it, add %q to the egress allow-list of the deployment (or of the test run)",
		e.Addr, e.Reason, e.Addr)
}

// Policy is a default-deny policy for internal destinations with an
// allow-list. The nil *Policy is the default: nothing internal allowed.
// A Policy is immutable, so one serves any number of goroutines.
type Policy struct {
	entries []string
	rules   []rule
}

// rule is one allow-list entry: an address range, or a host name, on one
// port or on any.
type rule struct {
	prefix netip.Prefix // valid for address entries (a bare IP is a /32 or /128)
	name   string       // lower case, no trailing dot, for name entries
	port   uint16       // 0: any port
}

// Parse reads an allow-list. Each entry is one of
//
//	10.1.2.0/24            a CIDR range, any port
//	10.1.2.3, fd00::1      an IP address, any port
//	127.0.0.1:9000         an IP address and port ([fd00::1]:8443 for IPv6)
//	billing.internal       a host name, any port
//	billing.internal:8443  a host name and port
//
// A host name entry allows a URL that names that host, whatever addresses
// it resolves to; an address entry allows the addresses it covers, whatever
// name led to them. Parse reports every bad entry at once.
func Parse(entries []string) (*Policy, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > MaxEntries {
		return nil, fmt.Errorf("egress allow-list: %d entries, at most %d", len(entries), MaxEntries)
	}
	p := &Policy{entries: make([]string, 0, len(entries)), rules: make([]rule, 0, len(entries))}
	var probs []string
	for i, e := range entries {
		r, err := parseEntry(e)
		if err != nil {
			if len(e) > 80 {
				e = e[:80] + "…"
			}
			probs = append(probs, fmt.Sprintf("entry %d %q: %v", i+1, e, err)) // counted from 1, as people do
			continue
		}
		p.rules = append(p.rules, r)
		p.entries = append(p.entries, r.String())
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("egress allow-list: %s", strings.Join(probs, "; "))
	}
	return p, nil
}

func parseEntry(e string) (rule, error) {
	s := strings.TrimSpace(e)
	switch {
	case s == "":
		return rule{}, errors.New("empty; write a CIDR, an IP address or a host name, with an optional :port")
	case len(s) > 300:
		return rule{}, errors.New("too long")
	case strings.Contains(s, "://"):
		return rule{}, errors.New("a URL; write only its host, with an optional :port")
	case strings.Contains(s, "*"):
		return rule{}, errors.New("wildcards are not supported; list each host, or the address range as a CIDR")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return rule{}, errors.New("not a CIDR such as 10.1.2.0/24 (a CIDR takes no port)")
		}
		if p.Addr().Is4In6() {
			return rule{}, errors.New("write IPv4 ranges in IPv4 form, such as 10.1.2.0/24")
		}
		if p.Masked() != p {
			return rule{}, fmt.Errorf("has bits set past the prefix length; did you mean %s?", p.Masked())
		}
		return rule{prefix: p}, nil
	}
	bare := s
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		bare = s[1 : len(s)-1] // [fd00::1], as in a URL
	}
	if ip, err := netip.ParseAddr(bare); err == nil {
		if ip.Zone() != "" {
			return rule{}, errors.New("an IPv6 zone is not supported")
		}
		ip = ip.Unmap()
		return rule{prefix: netip.PrefixFrom(ip, ip.BitLen())}, nil
	}
	host, port := s, uint16(0)
	if h, ps, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return rule{}, fmt.Errorf("port %q is not a number from 1 to 65535", ps)
		}
		host, port = h, uint16(n)
	} else if strings.Contains(s, ":") {
		return rule{}, errors.New("not a CIDR, an IP address or a host name, with an optional :port (write IPv6 addresses with a port as [fd00::1]:8443)")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return rule{}, errors.New("an IPv6 zone is not supported")
		}
		ip = ip.Unmap()
		return rule{prefix: netip.PrefixFrom(ip, ip.BitLen()), port: port}, nil
	}
	name := normalizeName(host)
	if !validName(name) {
		return rule{}, errors.New("not a CIDR, an IP address or a host name (letters, digits, '-', '_' and dots), with an optional :port")
	}
	if numericName(name) {
		// 010.1.2.3, 127.1, 0x7f.1: names that some resolvers read as IPv4
		// addresses. An entry must say which address it means.
		return rule{}, errors.New("looks like an IPv4 address but is not one in dotted-decimal form")
	}
	return rule{name: name, port: port}, nil
}

// String is the entry in its canonical form.
func (r rule) String() string {
	host := r.name
	if r.name == "" {
		if r.prefix.IsSingleIP() {
			host = r.prefix.Addr().String()
			if r.port != 0 {
				return netip.AddrPortFrom(r.prefix.Addr(), r.port).String()
			}
			return host
		}
		return r.prefix.String()
	}
	if r.port != 0 {
		return net.JoinHostPort(host, strconv.Itoa(int(r.port)))
	}
	return host
}

// normalizeName is a host name as rules compare it: lower case, without
// the trailing dot of a fully qualified name.
func normalizeName(s string) string {
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// numericName reports whether a name's last label is a number (decimal,
// or hexadecimal with 0x), as in the IPv4 forms URL parsers and
// inet_aton accept.
func numericName(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		_, err := strconv.ParseUint("0"+h, 16, 64)
		return err == nil
	}
	_, err := strconv.ParseUint(last, 10, 64)
	return err == nil
}

// Entries is the allow-list in canonical form (what Parse accepted,
// trimmed and in lower case): what a deployment stores and shows.
func (p *Policy) Entries() []string {
	if p == nil {
		return []string{}
	}
	return append([]string{}, p.entries...)
}

// listedName reports whether a name entry allows host on port.
func (p *Policy) listedName(host string, port uint16) bool {
	if p == nil {
		return false
	}
	name := normalizeName(host)
	for _, r := range p.rules {
		if r.name != "" && r.name == name && (r.port == 0 || r.port == port) {
			return true
		}
	}
	return false
}

// listedAddr reports whether an address entry allows ip on port.
func (p *Policy) listedAddr(ip netip.Addr, port uint16) bool {
	if p == nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, r := range p.rules {
		if r.name == "" && r.prefix.Contains(ip) && (r.port == 0 || r.port == port) {
			return true
		}
	}
	return false
}

// CheckAddr checks one resolved address: nil when the allow-list names it,
// or when the default policy does not refuse it.
func (p *Policy) CheckAddr(ip netip.Addr, port uint16) error {
	ip = ip.Unmap().WithZone("")
	if p.listedAddr(ip, port) {
		return nil
	}
	if reason := Refused(ip); reason != "" {
		return &RefusedError{Addr: netip.AddrPortFrom(ip, port).String(), Reason: reason}
	}
	return nil
}

// Listed reports whether the allow-list names the URL's host itself (by
// name, or by address when the URL holds an IP address). A request to such
// a destination may carry a Host header that names another host: the
// deployment trusts it, typically an internal ingress routing by Host.
func (p *Policy) Listed(u *url.URL) bool {
	host, port := u.Hostname(), urlPort(u)
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.listedAddr(ip, port)
	}
	return p.listedName(host, port)
}

// CheckURL checks what a URL alone tells: an IP address in the URL, or a
// metadata host name. A name is checked again, resolved, when it is
// dialled (Dialer); CheckURL makes the common refusals early and clear,
// before any DNS lookup, and checks every redirect's location.
func (p *Policy) CheckURL(u *url.URL) error {
	host, port := u.Hostname(), urlPort(u)
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip, port)
	}
	if p.listedName(host, port) {
		return nil
	}
	if name := normalizeName(host); metadataNames[name] {
		return &RefusedError{Addr: name, Reason: "a cloud metadata service's name"}
	}
	return nil
}

// urlPort is the URL's port, or its scheme's default.
func urlPort(u *url.URL) uint16 {
	if ps := u.Port(); ps != "" {
		n, _ := strconv.ParseUint(ps, 10, 16)
		return uint16(n)
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

// metadataNames are the names cloud metadata services answer on. They
// resolve to link-local addresses, which are refused anyway; refusing the
// names too keeps the refusal independent of the resolver.
var metadataNames = map[string]bool{
	"metadata":                   true, // GCE's short name
	"metadata.google.internal":   true,
	"metadata.goog":              true,
	"instance-data":              true, // EC2
	"instance-data.ec2.internal": true,
}

// special is the default policy's table: address ranges that are not the
// public internet. The first match names the reason, so narrower ranges
// come before the ranges that hold them.
var special = func() []struct {
	prefix netip.Prefix
	reason string
} {
	const (
		private     = "a private address"
		doc         = "a documentation address"
		linkLocal   = "a link-local address, where cloud metadata services answer"
		unspecified = "an unspecified address"
	)
	table := []struct{ cidr, reason string }{
		{"0.0.0.0/8", unspecified}, // "this network"; 0.0.0.0 reaches the local host
		{"10.0.0.0/8", private},
		{"100.64.0.0/10", "a carrier-grade NAT address"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", linkLocal},
		{"172.16.0.0/12", private},
		{"192.0.0.0/24", "an IETF protocol address"},
		{"192.0.2.0/24", doc},
		{"192.88.99.0/24", "a 6to4 relay address"},
		{"192.168.0.0/16", private},
		{"198.18.0.0/15", "a benchmarking address"},
		{"198.51.100.0/24", doc},
		{"203.0.113.0/24", doc},
		{"224.0.0.0/4", "a multicast address"},
		{"255.255.255.255/32", "the broadcast address"},
		{"240.0.0.0/4", "a reserved address"},

		{"::/128", unspecified},
		{"::1/128", "a loopback address"},
		{"::/96", "an IPv4-compatible address"}, // deprecated; nothing public lives there
		{"64:ff9b:1::/48", "a local-use NAT64 address"},
		{"100::/64", "a discard-only address"},
		{"2001:db8::/32", doc},
		{"fc00::/7", private},
		{"fe80::/10", linkLocal},
		{"fec0::/10", "a site-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]struct {
		prefix netip.Prefix
		reason string
	}, len(table))
	for i, e := range table {
		out[i].prefix, out[i].reason = netip.MustParsePrefix(e.cidr), e.reason
	}
	return out
}()

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
	teredo = netip.MustParsePrefix("2001::/32")
)

// Refused says why the default policy refuses ip ("a loopback address",
// ...), or "" when ip is a public address. IPv6 forms that carry an IPv4
// address (mapped, NAT64, 6to4, Teredo) are judged by that address.
func Refused(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return "not an IP address"
	}
	if ip.Is6() {
		b := ip.As16()
		var embedded netip.Addr
		form := ""
		switch {
		case nat64.Contains(ip):
			embedded, form = netip.AddrFrom4([4]byte(b[12:16])), "NAT64"
		case sixTo4.Contains(ip):
			embedded, form = netip.AddrFrom4([4]byte(b[2:6])), "6to4"
		case teredo.Contains(ip):
			// The client's address is stored inverted; the server's as is.
			client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
			if r := Refused(netip.AddrFrom4([4]byte(b[4:8]))); r != "" {
				return "a Teredo form of " + r
			}
			embedded, form = netip.AddrFrom4(client), "Teredo"
		}
		if form != "" {
			if r := Refused(embedded); r != "" {
				return "a " + form + " form of " + r
			}
			return ""
		}
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// Resolver finds the addresses of a host name; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer makes connections only to destinations the policy permits.
type Dialer struct {
	Policy *Policy // nil: the default policy
	// Resolver resolves host names; net.DefaultResolver when nil.
	Resolver Resolver
	// Dial connects to an address that was checked ("ip:port"). When
	// nil, a net.Dialer whose socket control refuses any address but the
	// one checked for this very dial (defaultDial).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// DialContext resolves the host of address, checks every address it
// resolves to, and dials the permitted ones in turn. A host name on the
// allow-list is permitted whatever it resolves to; otherwise each address
// must be on the allow-list or not refused by default. When none is
// permitted, the error is a *RefusedError for the first refused one.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("egress: address %q: %w", address, err)
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("egress: address %q: bad port", address)
	}
	port := uint16(n)
	byName := false
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		byName = d.Policy.listedName(host, port)
		if name := normalizeName(host); !byName && metadataNames[name] {
			return nil, &RefusedError{Addr: name, Reason: "a cloud metadata service's name"}
		}
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		if ips, err = r.LookupNetIP(ctx, ipNetwork(network), host); err != nil {
			return nil, err
		}
	}
	var permitted []netip.AddrPort
	var refused error
	for _, ip := range ips {
		ip = ip.Unmap()
		if !familyMatches(network, ip) {
			continue
		}
		if !byName {
			if err := d.Policy.CheckAddr(ip, port); err != nil {
				if refused == nil {
					refused = err
				}
				continue
			}
		}
		permitted = append(permitted, netip.AddrPortFrom(ip, port))
	}
	if len(permitted) == 0 {
		if refused != nil {
			return nil, refused
		}
		return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	dial := d.Dial
	if dial == nil {
		dial = defaultDial
	}
	var first error
	for _, ap := range permitted {
		conn, err := dial(context.WithValue(ctx, checkedKey{}, ap), network, ap.String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4", "udp4":
		return "ip4"
	case "tcp6", "udp6":
		return "ip6"
	}
	return "ip"
}

func familyMatches(network string, ip netip.Addr) bool {
	switch network {
	case "tcp4", "udp4":
		return ip.Is4()
	case "tcp6", "udp6":
		return ip.Is6()
	}
	return true
}

// checkedKey carries the address DialContext checked to the socket
// control of defaultDial.
type checkedKey struct{}

// defaultDial is the real dialer. Its socket control is a second lock on
// the same door: the socket may connect only to the address DialContext
// checked for this dial, so no path through the transport can reach an
// address that was not checked.
var defaultDial = (&net.Dialer{
	Timeout:   10 * time.Second,
	KeepAlive: 30 * time.Second,
	ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
		want, ok := ctx.Value(checkedKey{}).(netip.AddrPort)
		got, err := netip.ParseAddrPort(address)
		if !ok || err != nil || got.Addr().Unmap().WithZone("") != want.Addr().WithZone("") || got.Port() != want.Port() {
			return &RefusedError{Addr: address, Reason: "an address the egress policy did not check"}
		}
		return nil
	},
}).DialContext
