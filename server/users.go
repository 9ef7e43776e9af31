package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/store"
)

// userStore is what sign-in, users, tokens and the audit log need.
type userStore interface {
	GetUser(ctx context.Context, name string) (*store.User, error)
	CreateUser(ctx context.Context, u *store.User) error
	ListUsers(ctx context.Context) ([]store.User, error)
	UpdateUser(ctx context.Context, name string, up store.UserUpdate) (*store.User, error)
	DeleteUser(ctx context.Context, name string) error
	CreateSession(ctx context.Context, s *store.Session) error
	DeleteSession(ctx context.Context, idHash string) error
	CreateToken(ctx context.Context, userName string, t *store.APIToken) error
	ListTokens(ctx context.Context, userName string) ([]store.APIToken, error)
	DeleteToken(ctx context.Context, userName, id string) error
	AuditLog(ctx context.Context, before time.Time, beforeID string, limit int) ([]store.AuditEntry, error)
}

type usersAPI struct {
	store userStore
	auth  *auth
	audit func(c *gin.Context, action, target, detail string)
}

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

type sessionView struct {
	User      *store.User `json:"user"`
	CSRFToken string      `json:"csrf_token,omitempty"`
}

// login signs a user in with name and password and sets the session cookie.
func (a usersAPI) login(c *gin.Context) {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	if !a.auth.mayTryLogin(c) {
		c.Header("Retry-After", "6")
		fail(c, errStatus(http.StatusTooManyRequests, "too many failed sign-ins from your address; wait a little"))
		return
	}
	u, err := a.store.GetUser(c, req.Name)
	hash := ""
	if err == nil && !u.Disabled {
		hash = u.PasswordHash
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		fail(c, err)
		return
	}
	if !checkPassword(hash, req.Password) {
		a.auth.loginFailed(c)
		a.audit(c, "login.failed", req.Name, "wrong name or password")
		fail(c, errStatus(http.StatusUnauthorized, "wrong name or password"))
		return
	}
	secret := newSecret(32)
	sess := &store.Session{IDHash: hashSecret(secret), UserID: u.ID, CSRFToken: newSecret(24), ExpiresAt: time.Now().Add(sessionTTL)}
	if err := a.store.CreateSession(c, sess); err != nil {
		fail(c, err)
		return
	}
	a.setCookie(c, secret, int(sessionTTL.Seconds()))
	c.PureJSON(http.StatusOK, sessionView{User: u, CSRFToken: sess.CSRFToken})
}

func (a usersAPI) setCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.auth.secure || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// session tells the designer who is signed in, with the CSRF token its
// unsafe requests must carry.
func (a usersAPI) session(c *gin.Context) {
	cl := callerOf(c)
	v := sessionView{User: cl.User}
	if cl.Session != nil {
		v.CSRFToken = cl.Session.CSRFToken
	}
	c.PureJSON(http.StatusOK, v)
}

func (a usersAPI) logout(c *gin.Context) {
	if cl := callerOf(c); cl.Session != nil {
		if err := a.store.DeleteSession(c, cl.Session.IDHash); err != nil {
			fail(c, err)
			return
		}
	}
	a.setCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}

// changePassword changes the caller's own password, given the current one.
func (a usersAPI) changePassword(c *gin.Context) {
	var req struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	cl := callerOf(c)
	if cl.User == configAdmin {
		fail(c, errStatus(http.StatusBadRequest, "the configured API token has no password"))
		return
	}
	if !checkPassword(cl.User.PasswordHash, req.Current) {
		fail(c, errStatus(http.StatusForbidden, "the current password is wrong"))
		return
	}
	hash, err := hashPassword(req.New)
	if err != nil {
		fail(c, err)
		return
	}
	no := false
	// Every session of the user ends, this one too: sign in again.
	if _, err := a.store.UpdateUser(c, cl.User.Name, store.UserUpdate{PasswordHash: &hash, MustChange: &no}); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.password", cl.User.Name, "changed own password")
	a.setCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}

func (a usersAPI) listUsers(c *gin.Context) {
	us, err := a.store.ListUsers(c)
	if err != nil {
		fail(c, err)
		return
	}
	if us == nil {
		us = []store.User{}
	}
	c.PureJSON(http.StatusOK, us)
}

// createUser adds a user with a password the admin chose, to be changed
// at first sign-in.
func (a usersAPI) createUser(c *gin.Context) {
	var req struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	if !userNameRE.MatchString(req.Name) {
		fail(c, errStatus(http.StatusBadRequest, "a user name is 1-64 letters, digits and . _ @ -, starting with a letter or digit"))
		return
	}
	if !store.ValidRole(req.Role) {
		fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("role %q must be viewer, editor or admin", req.Role)))
		return
	}
	hash, err := hashPassword(req.Password)
	if err != nil {
		fail(c, err)
		return
	}
	u := &store.User{Name: req.Name, Role: req.Role, PasswordHash: hash, MustChange: true}
	if err := a.store.CreateUser(c, u); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.create", u.Name, "role "+u.Role)
	c.PureJSON(http.StatusCreated, u)
}

// updateUser changes a user's role, password (then to be changed at next
// sign-in) or disabled flag.
func (a usersAPI) updateUser(c *gin.Context) {
	var req struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	name := c.Param("name")
	var up store.UserUpdate
	var what []string
	if req.Role != nil {
		if !store.ValidRole(*req.Role) {
			fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("role %q must be viewer, editor or admin", *req.Role)))
			return
		}
		up.Role = req.Role
		what = append(what, "role "+*req.Role)
	}
	if req.Password != nil {
		hash, err := hashPassword(*req.Password)
		if err != nil {
			fail(c, err)
			return
		}
		yes := true
		up.PasswordHash, up.MustChange = &hash, &yes
		what = append(what, "password reset")
	}
	if req.Disabled != nil {
		up.Disabled = req.Disabled
		what = append(what, "disabled "+strconv.FormatBool(*req.Disabled))
	}
	if cl := callerOf(c); cl.User.Name == name && ((up.Role != nil && *up.Role != store.RoleAdmin) || (up.Disabled != nil && *up.Disabled)) {
		fail(c, errStatus(http.StatusBadRequest, "you cannot demote or disable yourself; ask another admin"))
		return
	}
	u, err := a.store.UpdateUser(c, name, up)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.update", name, fmt.Sprint(what))
	c.PureJSON(http.StatusOK, u)
}

func (a usersAPI) deleteUser(c *gin.Context) {
	name := c.Param("name")
	if callerOf(c).User.Name == name {
		fail(c, errStatus(http.StatusBadRequest, "you cannot delete yourself; ask another admin"))
		return
	}
	if err := a.store.DeleteUser(c, name); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.delete", name, "")
	c.Status(http.StatusNoContent)
}

// tokenOwner is whose tokens a call lists or revokes: the caller's own, or
// with ?all=1 every user's, for an admin.
func tokenOwner(c *gin.Context) (string, error) {
	cl := callerOf(c)
	if c.Query("all") != "" {
		if cl.User.Role != store.RoleAdmin {
			return "", errStatus(http.StatusForbidden, "only an admin sees every user's tokens")
		}
		return "", nil
	}
	if cl.User == configAdmin {
		return "", errStatus(http.StatusBadRequest, "the configured API token has no tokens of its own; use ?all=1")
	}
	return cl.User.Name, nil
}

func (a usersAPI) listTokens(c *gin.Context) {
	owner, err := tokenOwner(c)
	if err != nil {
		fail(c, err)
		return
	}
	ts, err := a.store.ListTokens(c, owner)
	if err != nil {
		fail(c, err)
		return
	}
	if ts == nil {
		ts = []store.APIToken{}
	}
	c.PureJSON(http.StatusOK, ts)
}

// createToken makes an API token for the caller; the secret is in this
// answer only.
func (a usersAPI) createToken(c *gin.Context) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		fail(c, errStatus(http.StatusBadRequest, "a token needs a name of at most 100 characters, to tell it apart"))
		return
	}
	cl := callerOf(c)
	if cl.User == configAdmin {
		fail(c, errStatus(http.StatusBadRequest, "the configured API token cannot make tokens; sign in as a user"))
		return
	}
	secret, hash, shown := mintKey(tokenPrefix)
	tok := &store.APIToken{Name: req.Name, TokenHash: hash, Prefix: shown}
	if err := a.store.CreateToken(c, cl.User.Name, tok); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "token.create", cl.User.Name, req.Name+" ("+tok.Prefix+"…)")
	c.PureJSON(http.StatusCreated, gin.H{"id": tok.ID, "name": tok.Name, "prefix": tok.Prefix, "user": tok.UserName,
		"created_at": tok.CreatedAt, "token": secret})
}

func (a usersAPI) deleteToken(c *gin.Context) {
	owner, err := tokenOwner(c)
	if err != nil {
		fail(c, err)
		return
	}
	if err := a.store.DeleteToken(c, owner, c.Param("id")); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "token.delete", c.Param("id"), "")
	c.Status(http.StatusNoContent)
}

// auditLog lists entries newest first, 100 at a time; ?before=<time of the
// last one>&before_id=<its id> pages on.
func (a usersAPI) auditLog(c *gin.Context) {
	var before time.Time
	if b := c.Query("before"); b != "" {
		t, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			fail(c, errStatus(http.StatusBadRequest, "before must be an RFC 3339 time"))
			return
		}
		before = t
	}
	es, err := a.store.AuditLog(c, before, c.Query("before_id"), 100)
	if err != nil {
		fail(c, err)
		return
	}
	if es == nil {
		es = []store.AuditEntry{}
	}
	c.PureJSON(http.StatusOK, es)
}
