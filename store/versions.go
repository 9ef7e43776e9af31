package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Version is an immutable published version of a flow with its bundle.
type Version struct {
	ID       string `json:"id"`
	FlowID   string `json:"flow_id"`
	FlowName string `json:"flow"`
	Number   int    `json:"version"`
	Revision int    `json:"revision"` // the flow revision it was built from
	Target   string `json:"target"`   // "js" or "go"
	// Document is the flow document that was published.
	Document []byte `json:"-"`
	// Files is the generated bundle (path -> content), kept so that it
	// survives restarts. Nil in listings.
	Files     map[string][]byte `json:"-"`
	CreatedAt time.Time         `json:"created_at"`
}

type versionRow struct {
	ID        string `gorm:"primaryKey"`
	FlowID    string
	Number    int
	Revision  int
	Target    string
	Document  string
	CreatedAt time.Time
}

func (versionRow) TableName() string { return "versions" }

// fileRow is one file of a version's bundle, as bytes (BYTEA).
type fileRow struct {
	VersionID string `gorm:"primaryKey"`
	Path      string `gorm:"primaryKey"`
	Content   []byte
}

func (fileRow) TableName() string { return "version_files" }

// versionView is a version row joined with its flow's name.
type versionView struct {
	ID        string
	FlowID    string
	FlowName  string
	Number    int
	Revision  int
	Target    string
	Document  string
	CreatedAt time.Time
}

func (r *versionView) version() Version {
	return Version{
		ID:        r.ID,
		FlowID:    r.FlowID,
		FlowName:  r.FlowName,
		Number:    r.Number,
		Revision:  r.Revision,
		Target:    r.Target,
		Document:  []byte(r.Document),
		CreatedAt: utc(r.CreatedAt),
	}
}

// NewVersion is what CreateVersion stores.
type NewVersion struct {
	Flow string
	// Number is one ReserveVersion gave; 0 takes the next number now.
	Number   int
	Revision int // the flow revision Document is
	Target   string
	Document []byte
	Files    map[string][]byte
}

// ReserveVersion allocates the flow's next version number (1, 2, ...) from
// a counter on the flow's row, so that a publisher can bake the number into
// its bundle before storing it, with several servers on one database too.
// A number whose publish fails stays unused. ErrNotFound if the flow does
// not exist.
func (s *Store) ReserveVersion(ctx context.Context, flowName string) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, num, err := bumpVersion(tx, flowName)
		n = num
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reserve a version of %q: %w", flowName, err)
	}
	return n, nil
}

// bumpVersion bumps the flow's version counter and returns its id and the
// new number. The UPDATE takes the flow row's lock until commit (Postgres)
// or runs under the database's write lock (SQLite).
func bumpVersion(tx *gorm.DB, flowName string) (id string, number int, err error) {
	var bumped []struct {
		ID          string
		LastVersion int
	}
	err = tx.Raw("UPDATE flows SET last_version = last_version + 1 WHERE name = ? RETURNING id, last_version", flowName).
		Scan(&bumped).Error
	if err != nil {
		return "", 0, err
	}
	if len(bumped) == 0 {
		return "", 0, ErrNotFound
	}
	return bumped[0].ID, bumped[0].LastVersion, nil
}

// CreateVersion stores a new version of a flow with its bundle, under the
// number nv reserved or, without one, the next number. ErrNotFound if the
// flow does not exist; ErrConflict if the number is taken.
func (s *Store) CreateVersion(ctx context.Context, nv NewVersion) (*Version, error) {
	flowName, target, doc, files := nv.Flow, nv.Target, nv.Document, nv.Files
	if err := checkText("target", target); err != nil {
		return nil, fmt.Errorf("create version of %q: %w", flowName, err)
	}
	if err := checkText("flow document", string(doc)); err != nil {
		return nil, fmt.Errorf("create version of %q: %w", flowName, err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		if err := checkText("bundle file path", p); err != nil {
			return nil, fmt.Errorf("create version of %q: %w", flowName, err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)

	t := now()
	v := &Version{
		ID:        uuid.NewString(),
		FlowName:  flowName,
		Revision:  nv.Revision,
		Target:    target,
		Document:  append([]byte(nil), doc...),
		Files:     make(map[string][]byte, len(files)),
		CreatedAt: t,
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if nv.Number == 0 {
			id, n, err := bumpVersion(tx, flowName)
			if err != nil {
				return err
			}
			v.FlowID, v.Number = id, n
		} else {
			f, err := s.flowRow(tx, flowName)
			if err != nil {
				return err
			}
			if nv.Number > f.LastVersion {
				return fmt.Errorf("version %d was never reserved: %w", nv.Number, ErrConflict)
			}
			v.FlowID, v.Number = f.ID, nv.Number
		}
		row := versionRow{ID: v.ID, FlowID: v.FlowID, Number: v.Number, Revision: nv.Revision, Target: target, Document: string(doc), CreatedAt: t}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		// One file per statement: bundles can hold large files, and
		// Postgres caps a statement's parameters.
		for _, p := range paths {
			content := files[p]
			if content == nil {
				content = []byte{} // nil would be NULL
			}
			if err := tx.Create(&fileRow{VersionID: v.ID, Path: p, Content: content}).Error; err != nil {
				return fmt.Errorf("bundle file %q: %w", p, err)
			}
			v.Files[p] = append([]byte{}, content...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create version of %q: %w", flowName, err)
	}
	return v, nil
}

// ListVersions returns the flow's versions, newest first, without their
// files. ErrNotFound if the flow does not exist.
func (s *Store) ListVersions(ctx context.Context, flowName string) ([]Version, error) {
	db := s.db.WithContext(ctx)
	f, err := s.flowRow(db, flowName)
	if err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", flowName, err)
	}
	var rows []versionRow
	if err := db.Where("flow_id = ?", f.ID).Order("number DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", flowName, err)
	}
	versions := make([]Version, len(rows))
	for i := range rows {
		r := &rows[i]
		versions[i] = Version{
			ID:        r.ID,
			FlowID:    r.FlowID,
			FlowName:  f.Name,
			Number:    r.Number,
			Revision:  r.Revision,
			Target:    r.Target,
			Document:  []byte(r.Document),
			CreatedAt: utc(r.CreatedAt),
		}
	}
	return versions, nil
}

// GetVersion returns one version of the flow with its files. ErrNotFound.
func (s *Store) GetVersion(ctx context.Context, flowName string, number int) (*Version, error) {
	db := s.db.WithContext(ctx)
	var rows []versionView
	err := db.Table("versions").
		Select("versions.*, flows.name AS flow_name").
		Joins("JOIN flows ON flows.id = versions.flow_id").
		Where("flows.name = ? AND versions.number = ?", flowName, number).
		Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get version %d of %q: %w", number, flowName, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("get version %d of %q: %w", number, flowName, ErrNotFound)
	}
	v := rows[0].version()
	var files []fileRow
	if err := db.Where("version_id = ?", v.ID).Find(&files).Error; err != nil {
		return nil, fmt.Errorf("get version %d of %q: files: %w", number, flowName, err)
	}
	v.Files = make(map[string][]byte, len(files))
	for _, f := range files {
		if f.Content == nil {
			f.Content = []byte{}
		}
		v.Files[f.Path] = f.Content
	}
	return &v, nil
}
