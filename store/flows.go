package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Flow is a flow's current draft.
type Flow struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Revision  int       `json:"revision"`
	Document  []byte    `json:"-"` // the flow document JSON as saved (stored as TEXT)
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Revision is one saved state of a flow; revision 1 is the document it was
// created with.
type Revision struct {
	FlowID    string    `json:"flow_id"`
	Revision  int       `json:"revision"`
	Document  []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

type flowRow struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Revision    int
	Document    string
	LastVersion int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (flowRow) TableName() string { return "flows" }

func (r *flowRow) flow() *Flow {
	return &Flow{
		ID:        r.ID,
		Name:      r.Name,
		Revision:  r.Revision,
		Document:  []byte(r.Document),
		CreatedAt: utc(r.CreatedAt),
		UpdatedAt: utc(r.UpdatedAt),
	}
}

type revisionRow struct {
	FlowID    string `gorm:"primaryKey"`
	Revision  int    `gorm:"primaryKey;autoIncrement:false"`
	Document  string
	CreatedAt time.Time
}

func (revisionRow) TableName() string { return "flow_revisions" }

func (r *revisionRow) revision() Revision {
	return Revision{
		FlowID:    r.FlowID,
		Revision:  r.Revision,
		Document:  []byte(r.Document),
		CreatedAt: utc(r.CreatedAt),
	}
}

// CreateFlow stores a new flow at revision 1. ErrConflict if the name exists.
func (s *Store) CreateFlow(ctx context.Context, name string, doc []byte) (*Flow, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("create flow %q: %w", name, err)
	}
	if err := checkText("flow document", string(doc)); err != nil {
		return nil, fmt.Errorf("create flow %q: %w", name, err)
	}
	t := now()
	row := flowRow{ID: uuid.NewString(), Name: name, Revision: 1, Document: string(doc), CreatedAt: t, UpdatedAt: t}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("name is taken: %w", ErrConflict)
			}
			return err
		}
		return tx.Create(&revisionRow{FlowID: row.ID, Revision: 1, Document: row.Document, CreatedAt: t}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create flow %q: %w", name, err)
	}
	return row.flow(), nil
}

// GetFlow returns the flow's current draft. ErrNotFound.
func (s *Store) GetFlow(ctx context.Context, name string) (*Flow, error) {
	row, err := s.flowRow(s.db.WithContext(ctx), name)
	if err != nil {
		return nil, fmt.Errorf("get flow %q: %w", name, err)
	}
	return row.flow(), nil
}

// flowRow reads a flow by name, ErrNotFound if there is none.
func (s *Store) flowRow(db *gorm.DB, name string) (*flowRow, error) {
	var rows []flowRow
	if err := db.Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// ListFlows returns every flow with its draft, ordered by name.
func (s *Store) ListFlows(ctx context.Context) ([]Flow, error) {
	var rows []flowRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	flows := make([]Flow, len(rows))
	for i := range rows {
		flows[i] = *rows[i].flow()
	}
	return flows, nil
}

// SaveFlow stores doc as revision ifRevision+1, only if the flow's current
// revision is ifRevision (ErrStale otherwise, and nothing changes). The check
// and the write are one conditional UPDATE, so of concurrent savers with the
// same ifRevision exactly one wins. newName != name (and not "") renames the
// flow; ErrConflict if newName is taken. Revisions, versions and deployments
// stay attached through the flow's id.
func (s *Store) SaveFlow(ctx context.Context, name string, ifRevision int, newName string, doc []byte) (*Flow, error) {
	if newName == "" {
		newName = name
	}
	if err := checkName(newName); err != nil {
		return nil, fmt.Errorf("save flow %q: %w", name, err)
	}
	if err := checkText("flow document", string(doc)); err != nil {
		return nil, fmt.Errorf("save flow %q: %w", name, err)
	}
	t := now()
	var row flowRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&flowRow{}).
			Where("name = ? AND revision = ?", name, ifRevision).
			Updates(map[string]any{
				"name":       newName,
				"revision":   ifRevision + 1,
				"document":   string(doc),
				"updated_at": t,
			})
		if res.Error != nil {
			if isDuplicate(res.Error) {
				return fmt.Errorf("rename to %q: name is taken: %w", newName, ErrConflict)
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			cur, err := s.flowRow(tx, name)
			if err != nil {
				return err
			}
			return fmt.Errorf("revision %d is not the current one (%d): %w", ifRevision, cur.Revision, ErrStale)
		}
		cur, err := s.flowRow(tx, newName)
		if err != nil {
			return err
		}
		row = *cur
		return tx.Create(&revisionRow{FlowID: row.ID, Revision: row.Revision, Document: row.Document, CreatedAt: t}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("save flow %q: %w", name, err)
	}
	return row.flow(), nil
}

// DeleteFlow deletes the flow with its revisions, versions and their
// bundles, and its stopped deployments. ErrNotFound; ErrConflict while any
// of its deployments is not stopped.
func (s *Store) DeleteFlow(ctx context.Context, name string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Lock the row (Postgres; SQLite's transaction holds the database)
		// so no deployment can be added between the check and the delete.
		var rows []flowRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("name = ?", name).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		id := rows[0].ID
		var active int64
		if err := tx.Model(&deploymentRow{}).Where("flow_id = ? AND status <> ?", id, "stopped").Count(&active).Error; err != nil {
			return err
		}
		if active > 0 {
			return fmt.Errorf("%d deployment(s) not stopped: %w", active, ErrConflict)
		}
		// The schema cascades too; deleting explicitly does not depend on
		// SQLite's foreign_keys pragma.
		versionIDs := tx.Model(&versionRow{}).Select("id").Where("flow_id = ?", id)
		steps := []func() error{
			func() error { return tx.Where("flow_id = ?", id).Delete(&deploymentRow{}).Error },
			func() error { return tx.Where("version_id IN (?)", versionIDs).Delete(&fileRow{}).Error },
			func() error { return tx.Where("flow_id = ?", id).Delete(&versionRow{}).Error },
			func() error { return tx.Where("flow_id = ?", id).Delete(&revisionRow{}).Error },
			func() error { return tx.Where("id = ?", id).Delete(&flowRow{}).Error },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete flow %q: %w", name, err)
	}
	return nil
}

// ListRevisions returns the flow's revisions, newest first. ErrNotFound.
func (s *Store) ListRevisions(ctx context.Context, name string) ([]Revision, error) {
	db := s.db.WithContext(ctx)
	f, err := s.flowRow(db, name)
	if err != nil {
		return nil, fmt.Errorf("list revisions of %q: %w", name, err)
	}
	var rows []revisionRow
	if err := db.Where("flow_id = ?", f.ID).Order("revision DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list revisions of %q: %w", name, err)
	}
	revs := make([]Revision, len(rows))
	for i := range rows {
		revs[i] = rows[i].revision()
	}
	return revs, nil
}

// GetRevision returns one revision of the flow. ErrNotFound.
func (s *Store) GetRevision(ctx context.Context, name string, rev int) (*Revision, error) {
	var rows []revisionRow
	err := s.db.WithContext(ctx).
		Select("flow_revisions.*").
		Joins("JOIN flows ON flows.id = flow_revisions.flow_id").
		Where("flows.name = ? AND flow_revisions.revision = ?", name, rev).
		Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get revision %d of %q: %w", rev, name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("get revision %d of %q: %w", rev, name, ErrNotFound)
	}
	r := rows[0].revision()
	return &r, nil
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("name is empty: %w", ErrInvalid)
	}
	return checkText("name", name)
}
