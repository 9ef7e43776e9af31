package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// KeyHeader carries a published endpoint's API key. It is taken off the
// request before the instance sees it, so no flow logs or echoes a key.
const KeyHeader = "X-API-Key"

// Access is who may call one flow's endpoint.
type Access struct {
	// RequireKey refuses calls without one of Keys (401).
	RequireKey bool
	// Origins are the browser origins (scheme://host[:port]) allowed by
	// CORS; "*" allows any.
	Origins []string
	Keys    []Key
}

// Key is an API key of an endpoint. Hash is the hex SHA-256 of the secret.
type Key struct {
	ID, Name, Hash string
	// PerMinute bounds the key's calls (429 past it); 0 is no limit.
	PerMinute int
}

// HashKey is how keys are kept and looked up: the hex SHA-256 of the
// secret, enough for random secrets of 256 bits.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

type flowAccess struct {
	requireKey bool
	anyOrigin  bool
	origins    map[string]bool
	keys       map[string]*keyState // by hash
}

type keyState struct {
	id  string
	lim *rate.Limiter // nil: no limit
}

// accessTable is immutable once stored; SetAccess swaps it whole.
type accessTable map[string]*flowAccess // by flow id

// SetAccess replaces every flow's access rules, by flow id. A key keeps
// its rate limiter's state across calls, so that changing one flow does
// not reset the limits of the others.
func (g *Gateway) SetAccess(byFlow map[string]Access) {
	g.accessMu.Lock()
	defer g.accessMu.Unlock()
	old := g.access.Load()
	limiters := map[string]*rate.Limiter{}
	if old != nil {
		for _, fa := range *old {
			for _, k := range fa.keys {
				limiters[k.id] = k.lim
			}
		}
	}
	t := accessTable{}
	for flowID, a := range byFlow {
		fa := &flowAccess{requireKey: a.RequireKey, origins: map[string]bool{}, keys: map[string]*keyState{}}
		for _, o := range a.Origins {
			if o == "*" {
				fa.anyOrigin = true
			}
			fa.origins[strings.ToLower(strings.TrimRight(o, "/"))] = true
		}
		for _, k := range a.Keys {
			ks := &keyState{id: k.ID}
			if k.PerMinute > 0 {
				lim := limiters[k.ID]
				if lim == nil || lim.Limit() != perMinute(k.PerMinute) {
					// A burst of one second's share, at least one call.
					lim = rate.NewLimiter(perMinute(k.PerMinute), max(1, k.PerMinute/60))
				}
				ks.lim = lim
			}
			fa.keys[k.Hash] = ks
		}
		t[flowID] = fa
	}
	g.access.Store(&t)
}

func perMinute(n int) rate.Limit { return rate.Limit(float64(n) / 60) }

func (g *Gateway) accessOf(flowID string) *flowAccess {
	if t := g.access.Load(); t != nil {
		return (*t)[flowID]
	}
	return nil
}

func (fa *flowAccess) allowsOrigin(origin string) bool {
	return fa != nil && origin != "" && (fa.anyOrigin || fa.origins[strings.ToLower(origin)])
}

// cors adds the answer's CORS headers for an allowed origin.
func (fa *flowAccess) cors(h http.Header, origin string) {
	h.Add("Vary", "Origin")
	if !fa.allowsOrigin(origin) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "X-Trace-Id, Retry-After")
}

// preflight answers a CORS preflight for an endpoint: 204, with the
// permissions when the origin is allowed and none otherwise (the browser
// then refuses the call itself).
func (fa *flowAccess) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	fa.cors(h, r.Header.Get("Origin"))
	if fa.allowsOrigin(r.Header.Get("Origin")) {
		h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// admit checks a call's key and its rate. It returns the status and
// message to refuse the call with, or 0.
func (fa *flowAccess) admit(h http.Header, r *http.Request) (int, string) {
	if fa == nil || !fa.requireKey {
		return 0, ""
	}
	secret := r.Header.Get(KeyHeader)
	if secret == "" {
		return http.StatusUnauthorized, "this endpoint needs an API key in the " + KeyHeader + " header"
	}
	k := fa.keys[HashKey(secret)]
	if k == nil {
		return http.StatusUnauthorized, "unknown or revoked API key"
	}
	if k.lim != nil {
		res := k.lim.ReserveN(time.Now(), 1)
		if d := res.Delay(); d > 0 {
			res.Cancel()
			h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			return http.StatusTooManyRequests, "this API key is over its rate limit; try again after Retry-After seconds"
		}
	}
	return 0, ""
}
