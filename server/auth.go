package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/flowline/flowline/server/gateway"
	"github.com/flowline/flowline/store"
)

// Authentication and authorisation of the API. A caller is a user, by a
// session cookie (the designer) or an API token (scripts, CI); every route
// under /api/v1 but sign-in needs one, and each route names the least role
// it needs. Cookie callers also prove they are the designer itself: unsafe
// methods carry the session's CSRF token in X-CSRF-Token. Any call from
// another site (Origin or Sec-Fetch-Site) is refused before anything else,
// and bodies are JSON only, so that no HTML form can reach the API.

const (
	sessionCookie = "flowline_session"
	csrfHeader    = "X-CSRF-Token"
	sessionTTL    = 7 * 24 * time.Hour
	tokenPrefix   = "flt_"
	callerKey     = "flowline.caller"
	bcryptCost    = 12
	minPassword   = 10
	maxPassword   = 72 // bcrypt reads no further
)

// authStore is what authentication needs of the store.
type authStore interface {
	SessionUser(ctx context.Context, idHash string) (*store.Session, *store.User, error)
	TokenUser(ctx context.Context, tokenHash string) (*store.APIToken, *store.User, error)
}

// caller is who makes a request.
type caller struct {
	User    *store.User
	Session *store.Session // nil for token callers
}

func (c *caller) name() string { return c.User.Name }

func callerOf(c *gin.Context) *caller {
	v, _ := c.Get(callerKey)
	cl, _ := v.(*caller)
	return cl
}

var roleRank = map[string]int{store.RoleViewer: 1, store.RoleEditor: 2, store.RoleAdmin: 3}

// configAdmin is the user behind FLOWLINE_API_TOKEN: an admin that exists
// only in the configuration.
var configAdmin = &store.User{ID: "config", Name: "api-token", Role: store.RoleAdmin}

type auth struct {
	store  authStore
	token  string // FLOWLINE_API_TOKEN, "" for none
	secure bool   // cookies only over HTTPS
	host   string // the configured public URL's host, also same-site
	log    *slog.Logger

	mu     sync.Mutex
	logins map[string]*rate.Limiter // by client address
}

// sameSite refuses a request that a page of another site sent: browsers
// say so in Sec-Fetch-Site, and in Origin on every unsafe request.
func (a *auth) sameSite(c *gin.Context) {
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "cross-site requests are refused", "details": []any{}})
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !(strings.EqualFold(u.Host, c.Request.Host) || (a.host != "" && strings.EqualFold(u.Host, a.host))) {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": fmt.Sprintf("requests from origin %q are refused", origin), "details": []any{}})
			return
		}
	}
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions && hasBody(c.Request) {
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, gin.H{"error": "request bodies must be JSON (Content-Type: application/json)", "details": []any{}})
			return
		}
	}
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// authenticate finds the caller, by bearer token or session cookie, and
// checks the CSRF token of a cookie caller's unsafe request. A caller whose
// one-time password is still unchanged may only change it.
func (a *auth) authenticate(c *gin.Context) {
	cl, err := a.callerFrom(c)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="flowline"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": err.Error(), "details": []any{}})
		return
	}
	if cl.Session != nil && !safeMethod(c.Request.Method) {
		got := c.GetHeader(csrfHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(cl.Session.CSRFToken)) != 1 {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "missing or wrong " + csrfHeader + " header", "details": []any{}})
			return
		}
	}
	if cl.User.MustChange && !strings.HasPrefix(c.FullPath(), "/api/v1/session") {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "change your one-time password first (POST /api/v1/session/password)", "details": []any{}})
		return
	}
	c.Set(callerKey, cl)
}

func (a *auth) callerFrom(c *gin.Context) (*caller, error) {
	ctx := c.Request.Context()
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return nil, errors.New("the Authorization header must be Bearer <token>")
		}
		if a.token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.token)) == 1 {
			return &caller{User: configAdmin}, nil
		}
		_, u, err := a.store.TokenUser(ctx, hashSecret(tok))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errors.New("unknown or revoked API token")
			}
			return nil, errors.New("cannot check the API token now")
		}
		return &caller{User: u}, nil
	}
	if ck, err := c.Cookie(sessionCookie); err == nil && ck != "" {
		sess, u, err := a.store.SessionUser(ctx, hashSecret(ck))
		if err != nil {
			return nil, errors.New("your session has ended; sign in again")
		}
		return &caller{User: u, Session: sess}, nil
	}
	return nil, errors.New("sign in, or send an API token as Authorization: Bearer <token>")
}

// need refuses callers whose role is below role.
func need(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl := callerOf(c)
		if cl == nil || roleRank[cl.User.Role] < roleRank[role] {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": fmt.Sprintf("this needs the %s role", role), "details": []any{}})
			return
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// mayTryLogin and loginFailed limit failed sign-ins per client address:
// a burst of 10, then one every 6 seconds, so that passwords cannot be
// guessed quickly. Sign-ins that succeed cost nothing, so that users
// behind one proxy do not lock each other out.
func (a *auth) mayTryLogin(c *gin.Context) bool {
	return a.loginLimiter(c).Tokens() >= 1
}

func (a *auth) loginFailed(c *gin.Context) { a.loginLimiter(c).Allow() }

func (a *auth) loginLimiter(c *gin.Context) *rate.Limiter {
	host, _, err := net.SplitHostPort(c.Request.RemoteAddr)
	if err != nil {
		host = c.Request.RemoteAddr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.logins) > 10000 {
		a.logins = map[string]*rate.Limiter{} // bounded memory under a flood of addresses
	}
	l := a.logins[host]
	if l == nil {
		l = rate.NewLimiter(rate.Every(6*time.Second), 10)
		a.logins[host] = l
	}
	return l
}

// newSecret returns n random bytes, URL-safe base64 encoded.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how session, token and endpoint-key secrets are kept:
// the gateway's own key hash (SHA-256), enough for random secrets of 256
// bits, so that the gateway finds the keys the API stores.
var hashSecret = gateway.HashKey

// mintKey makes a secret for scripts: prefix (which tells what it opens)
// and 256 random bits. It returns the secret, shown once, its hash, which
// is kept, and its first characters, to tell it apart in listings.
func mintKey(prefix string) (secret, hash, shown string) {
	secret = prefix + newSecret(32)
	return secret, hashSecret(secret), secret[:len(prefix)+6]
}

// hashPassword checks a new password's length and hashes it.
func hashPassword(pw string) (string, error) {
	if utf8.RuneCountInString(pw) < minPassword {
		return "", errStatus(http.StatusBadRequest, fmt.Sprintf("a password needs at least %d characters", minPassword))
	}
	if len(pw) > maxPassword {
		return "", errStatus(http.StatusBadRequest, fmt.Sprintf("a password has at most %d bytes", maxPassword))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash makes a sign-in with an unknown name cost as much as one with
// a wrong password, so that timing tells no names.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("flowline-no-such-user"), bcryptCost)
	return h
})

func checkPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
