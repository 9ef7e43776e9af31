package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Access is who may call a flow's published endpoint.
type Access struct {
	FlowID   string `json:"-"`
	FlowName string `json:"-"`
	// RequireKey makes the gateway refuse calls without one of Keys.
	RequireKey bool `json:"require_key"`
	// CORSOrigins are the browser origins (scheme://host[:port], or "*")
	// allowed to call the endpoint.
	CORSOrigins []string  `json:"cors_origins"`
	Keys        []FlowKey `json:"keys"`
}

// FlowKey is an API key of a flow's endpoint. KeyHash is the SHA-256 of
// the secret; Prefix its first characters, to tell keys apart.
type FlowKey struct {
	ID            string    `json:"id"`
	FlowID        string    `json:"-"`
	Name          string    `json:"name"`
	KeyHash       string    `json:"-"`
	Prefix        string    `json:"prefix"`
	RatePerMinute int       `json:"rate_per_minute"` // 0: no limit
	CreatedAt     time.Time `json:"created_at"`
}

func (FlowKey) TableName() string { return "flow_keys" }

type accessRow struct {
	ID          string
	Name        string
	RequireKey  bool
	CORSOrigins string `gorm:"column:cors_origins"`
}

// GetAccess returns a flow's access settings with its keys. ErrNotFound.
func (s *Store) GetAccess(ctx context.Context, flowName string) (*Access, error) {
	all, err := s.access(s.db.WithContext(ctx), "name = ?", flowName)
	if err != nil {
		return nil, fmt.Errorf("access of %q: %w", flowName, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("access of %q: %w", flowName, ErrNotFound)
	}
	return &all[0], nil
}

// AllAccess returns the access settings of every flow that requires a key
// or allows an origin, for the gateway.
func (s *Store) AllAccess(ctx context.Context) ([]Access, error) {
	all, err := s.access(s.db.WithContext(ctx), "require_key OR cors_origins <> '[]'")
	if err != nil {
		return nil, fmt.Errorf("access of every flow: %w", err)
	}
	return all, nil
}

func (s *Store) access(db *gorm.DB, where string, args ...any) ([]Access, error) {
	var rows []accessRow
	if err := db.Table("flows").Select("id, name, require_key, cors_origins").Where(where, args...).Order("name").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Access, len(rows))
	byID := map[string]*Access{}
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i] = Access{FlowID: r.ID, FlowName: r.Name, RequireKey: r.RequireKey, CORSOrigins: []string{}, Keys: []FlowKey{}}
		if err := json.Unmarshal([]byte(r.CORSOrigins), &out[i].CORSOrigins); err != nil {
			return nil, fmt.Errorf("cors origins of %q: %w", r.Name, err)
		}
		byID[r.ID], ids[i] = &out[i], r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var keys []FlowKey
	if err := db.Where("flow_id IN ?", ids).Order("created_at").Find(&keys).Error; err != nil {
		return nil, err
	}
	for _, k := range keys {
		k.CreatedAt = utc(k.CreatedAt)
		a := byID[k.FlowID]
		a.Keys = append(a.Keys, k)
	}
	return out, nil
}

// SetAccess changes whether a flow's endpoint needs a key and which
// origins may call it. ErrNotFound.
func (s *Store) SetAccess(ctx context.Context, flowName string, requireKey bool, corsOrigins []string) error {
	if corsOrigins == nil {
		corsOrigins = []string{}
	}
	for _, o := range corsOrigins {
		if err := checkText("origin", o); err != nil {
			return fmt.Errorf("set access of %q: %w", flowName, err)
		}
	}
	origins, err := json.Marshal(corsOrigins)
	if err != nil {
		return fmt.Errorf("set access of %q: %w", flowName, err)
	}
	res := s.db.WithContext(ctx).Table("flows").Where("name = ?", flowName).
		Updates(map[string]any{"require_key": requireKey, "cors_origins": string(origins)})
	if res.Error != nil {
		return fmt.Errorf("set access of %q: %w", flowName, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set access of %q: %w", flowName, ErrNotFound)
	}
	return nil
}

// CreateFlowKey stores a key of the flow. ErrNotFound.
func (s *Store) CreateFlowKey(ctx context.Context, flowName string, k *FlowKey) error {
	if err := checkText("key name", k.Name); err != nil {
		return fmt.Errorf("create key of %q: %w", flowName, err)
	}
	db := s.db.WithContext(ctx)
	f, err := s.flowRow(db, flowName)
	if err != nil {
		return fmt.Errorf("create key of %q: %w", flowName, err)
	}
	k.ID, k.FlowID, k.CreatedAt = uuid.NewString(), f.ID, now()
	if err := db.Create(k).Error; err != nil {
		return fmt.Errorf("create key of %q: %w", flowName, err)
	}
	return nil
}

// DeleteFlowKey revokes a key of the flow. ErrNotFound.
func (s *Store) DeleteFlowKey(ctx context.Context, flowName, id string) error {
	db := s.db.WithContext(ctx)
	f, err := s.flowRow(db, flowName)
	if err != nil {
		return fmt.Errorf("delete key of %q: %w", flowName, err)
	}
	res := db.Where("id = ? AND flow_id = ?", id, f.ID).Delete(&FlowKey{})
	if res.Error != nil {
		return fmt.Errorf("delete key of %q: %w", flowName, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete key %q of %q: %w", id, flowName, ErrNotFound)
	}
	return nil
}
