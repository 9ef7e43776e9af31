package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Roles, from least to most trusted. A viewer reads; an editor also saves,
// tests, publishes, deploys and scales; an admin also manages users and
// reads the audit log.
const (
	RoleViewer = "viewer"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool { return r == RoleViewer || r == RoleEditor || r == RoleAdmin }

// User is a designer user. The password hash never leaves the store's
// callers that check it.
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"`
	MustChange   bool      `json:"must_change_password"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func (User) TableName() string { return "users" }

// CountUsers returns how many users there are, to know whether the first
// admin must be made.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser stores a new user. ErrConflict if the name is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := checkText("user name", u.Name); err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	t := now()
	u.ID, u.CreatedAt, u.UpdatedAt = uuid.NewString(), t, t
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("create user %q: %w", u.Name, ErrConflict)
		}
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	return nil
}

// GetUser returns the user named name. ErrNotFound.
func (s *Store) GetUser(ctx context.Context, name string) (*User, error) {
	return s.findUser(ctx, "name = ?", name)
}

func (s *Store) userByID(ctx context.Context, id string) (*User, error) {
	return s.findUser(ctx, "id = ?", id)
}

func (s *Store) findUser(ctx context.Context, where string, arg any) (*User, error) {
	var rows []User
	if err := s.db.WithContext(ctx).Where(where, arg).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("get user: %w", ErrNotFound)
	}
	rows[0].CreatedAt, rows[0].UpdatedAt = utc(rows[0].CreatedAt), utc(rows[0].UpdatedAt)
	return &rows[0], nil
}

// ListUsers returns every user, ordered by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var rows []User
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return rows, nil
}

// UserUpdate changes some of a user's fields; nil fields stay.
type UserUpdate struct {
	Role         *string
	PasswordHash *string
	MustChange   *bool
	Disabled     *bool
}

// UpdateUser applies up to the user named name. Changing the password or
// disabling the user ends the user's sessions. ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, name string, up UserUpdate) (*User, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []User
		if err := tx.Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		fields := map[string]any{"updated_at": now()}
		if up.Role != nil {
			fields["role"] = *up.Role
		}
		if up.PasswordHash != nil {
			fields["password_hash"] = *up.PasswordHash
		}
		if up.MustChange != nil {
			fields["must_change"] = *up.MustChange
		}
		if up.Disabled != nil {
			fields["disabled"] = *up.Disabled
		}
		if err := tx.Model(&User{}).Where("id = ?", rows[0].ID).Updates(fields).Error; err != nil {
			return err
		}
		if up.PasswordHash != nil || (up.Disabled != nil && *up.Disabled) {
			return tx.Where("user_id = ?", rows[0].ID).Delete(&Session{}).Error
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", name, err)
	}
	return s.GetUser(ctx, name)
}

// DeleteUser removes a user with its sessions and tokens. ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	res := s.db.WithContext(ctx).Where("name = ?", name).Delete(&User{})
	if res.Error != nil {
		return fmt.Errorf("delete user %q: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete user %q: %w", name, ErrNotFound)
	}
	return nil
}

// Session is a signed-in browser. IDHash is the SHA-256 of the cookie's
// secret, so a copy of the database opens no session.
type Session struct {
	IDHash    string `gorm:"primaryKey"`
	UserID    string
	CSRFToken string `gorm:"column:csrf_token"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (Session) TableName() string { return "sessions" }

// CreateSession stores a session, and drops the expired ones.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	db := s.db.WithContext(ctx)
	sess.CreatedAt = now()
	if err := db.Where("expires_at < ?", now()).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := db.Create(sess).Error; err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns the unexpired session with that hash and its user,
// who must not be disabled. ErrNotFound otherwise.
func (s *Store) SessionUser(ctx context.Context, idHash string) (*Session, *User, error) {
	var rows []Session
	if err := s.db.WithContext(ctx).Where("id_hash = ? AND expires_at > ?", idHash, now()).Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("get session: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("get session: %w", ErrNotFound)
	}
	u, err := s.userByID(ctx, rows[0].UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, fmt.Errorf("get session: user disabled: %w", ErrNotFound)
	}
	return &rows[0], u, nil
}

// DeleteSession signs a session out.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// APIToken is a token for scripts, acting as its user. TokenHash is the
// SHA-256 of the secret; Prefix its first characters, to tell tokens apart.
type APIToken struct {
	ID         string     `json:"id"`
	UserID     string     `json:"-"`
	UserName   string     `json:"user" gorm:"-"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func (APIToken) TableName() string { return "api_tokens" }

// CreateToken stores a token for the user named userName.
func (s *Store) CreateToken(ctx context.Context, userName string, tok *APIToken) error {
	if err := checkText("token name", tok.Name); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	u, err := s.GetUser(ctx, userName)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	tok.ID, tok.UserID, tok.UserName, tok.CreatedAt = uuid.NewString(), u.ID, u.Name, now()
	if err := s.db.WithContext(ctx).Create(tok).Error; err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// TokenUser returns the token with that hash and its user, who must not be
// disabled, and notes the token's use. ErrNotFound otherwise.
func (s *Store) TokenUser(ctx context.Context, tokenHash string) (*APIToken, *User, error) {
	var rows []APIToken
	db := s.db.WithContext(ctx)
	if err := db.Where("token_hash = ?", tokenHash).Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("get token: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("get token: %w", ErrNotFound)
	}
	u, err := s.userByID(ctx, rows[0].UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, fmt.Errorf("get token: user disabled: %w", ErrNotFound)
	}
	// Noted at most once a minute, so that a busy script does not write on
	// every call.
	t := now()
	if rows[0].LastUsedAt == nil || t.Sub(*rows[0].LastUsedAt) > time.Minute {
		if err := db.Model(&APIToken{}).Where("id = ?", rows[0].ID).Update("last_used_at", t).Error; err != nil {
			return nil, nil, fmt.Errorf("get token: %w", err)
		}
		rows[0].LastUsedAt = &t
	}
	rows[0].UserName = u.Name
	return &rows[0], u, nil
}

// ListTokens returns the tokens of the user named userName, or of every
// user when userName is "", newest first.
func (s *Store) ListTokens(ctx context.Context, userName string) ([]APIToken, error) {
	q := s.db.WithContext(ctx).Table("api_tokens").
		Select("api_tokens.*, users.name AS user_name").
		Joins("JOIN users ON users.id = api_tokens.user_id").
		Order("api_tokens.created_at DESC")
	if userName != "" {
		q = q.Where("users.name = ?", userName)
	}
	var rows []struct {
		APIToken
		UserName string
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]APIToken, len(rows))
	for i, r := range rows {
		out[i] = r.APIToken
		out[i].UserName = r.UserName
		out[i].CreatedAt = utc(out[i].CreatedAt)
		if out[i].LastUsedAt != nil {
			t := utc(*out[i].LastUsedAt)
			out[i].LastUsedAt = &t
		}
	}
	return out, nil
}

// DeleteToken revokes a token of the user named userName (any user's when
// userName is ""). ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, userName, id string) error {
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if userName != "" {
		u, err := s.GetUser(ctx, userName)
		if err != nil {
			return fmt.Errorf("delete token: %w", err)
		}
		q = q.Where("user_id = ?", u.ID)
	}
	res := q.Delete(&APIToken{})
	if res.Error != nil {
		return fmt.Errorf("delete token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete token %q: %w", id, ErrNotFound)
	}
	return nil
}

// AuditEntry is one thing a user did.
type AuditEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // e.g. "publish", "deploy", "user.create"
	Target string    `json:"target"` // what it was done to: a flow, a deployment id, a user name
	Detail string    `json:"detail"` // a short text, never a secret
}

func (AuditEntry) TableName() string { return "audit_log" }

// Audit records an entry.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	e.ID, e.At = uuid.NewString(), now()
	for _, f := range []*string{&e.Actor, &e.Action, &e.Target, &e.Detail} {
		if checkText("audit entry", *f) != nil {
			*f = fmt.Sprintf("%q", *f)
		}
	}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns up to limit entries, newest first (by time, then id),
// after the entry (before, beforeID) in that order when before is not
// zero; beforeID "" means every entry of that instant is after it.
func (s *Store) AuditLog(ctx context.Context, before time.Time, beforeID string, limit int) ([]AuditEntry, error) {
	q := s.db.WithContext(ctx).Order("at DESC, id DESC").Limit(limit)
	switch {
	case !before.IsZero() && beforeID != "":
		q = q.Where("at < ? OR (at = ? AND id < ?)", before.UTC(), before.UTC(), beforeID)
	case !before.IsZero():
		q = q.Where("at < ?", before.UTC())
	}
	var rows []AuditEntry
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	for i := range rows {
		rows[i].At = utc(rows[i].At)
	}
	return rows, nil
}
