package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Deployment is a version of a flow deployed to a target.
type Deployment struct {
	ID            string            `json:"id"`
	FlowID        string            `json:"flow_id"`
	FlowName      string            `json:"flow"`
	VersionID     string            `json:"version_id"`
	VersionNumber int               `json:"version"`
	Target        string            `json:"target"` // "local" or "nomad"
	Method        string            `json:"method"` // the trigger's method and path, for route-conflict checks
	Path          string            `json:"path"`
	Env           map[string]string `json:"env"`         // plain variables
	Secrets       map[string]string `json:"secrets"`     // secret variables; sealed at rest
	Datasources   map[string]string `json:"datasources"` // name -> URL; sealed at rest
	Scaling       Scaling           `json:"scaling"`
	Deadline      time.Duration     `json:"deadline"`     // request deadline; 0 = default
	EgressAllow   []string          `json:"egress_allow"` // http.request's egress allow-list (engine/egress entries); never nil when read
	Status        string            `json:"status"`       // a deploy.State*, stored as given; "stopped" is not active
	Message       string            `json:"message"`      // last status detail, e.g. a start error
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// Scaling is a deployment's instance bounds.
type Scaling struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// DeploymentFilter selects deployments; zero fields select all.
type DeploymentFilter struct {
	FlowName string
	Active   bool // status not "stopped" (deploy.StateStopped)
}

type deploymentRow struct {
	ID          string `gorm:"primaryKey"`
	FlowID      string
	VersionID   string
	Target      string
	Method      string
	Path        string
	Env         string // JSON object
	Datasources string // JSON object, sealed (secrets.go)
	Secrets     string // JSON object, sealed
	ScalingMin  int
	ScalingMax  int
	DeadlineNs  int64
	EgressAllow string // JSON list
	Status      string
	Message     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (deploymentRow) TableName() string { return "deployments" }

// deploymentView is a deployment row joined with its flow's name and its
// version's number, which follow renames.
type deploymentView struct {
	ID            string
	FlowID        string
	FlowName      string
	VersionID     string
	VersionNumber int
	Target        string
	Method        string
	Path          string
	Env           string
	Datasources   string
	Secrets       string
	ScalingMin    int
	ScalingMax    int
	DeadlineNs    int64
	EgressAllow   string
	Status        string
	Message       string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (r *deploymentView) deployment(sl *sealer) (Deployment, error) {
	d := Deployment{
		ID:            r.ID,
		FlowID:        r.FlowID,
		FlowName:      r.FlowName,
		VersionID:     r.VersionID,
		VersionNumber: r.VersionNumber,
		Target:        r.Target,
		Method:        r.Method,
		Path:          r.Path,
		Scaling:       Scaling{Min: r.ScalingMin, Max: r.ScalingMax},
		Deadline:      time.Duration(r.DeadlineNs),
		Status:        r.Status,
		Message:       r.Message,
		CreatedAt:     utc(r.CreatedAt),
		UpdatedAt:     utc(r.UpdatedAt),
	}
	if err := json.Unmarshal([]byte(r.Env), &d.Env); err != nil {
		return d, fmt.Errorf("deployment %s: env: %w", r.ID, err)
	}
	for _, c := range []struct {
		column, value string
		into          *map[string]string
	}{{"datasources", r.Datasources, &d.Datasources}, {"secrets", r.Secrets, &d.Secrets}} {
		plain, err := sl.open(c.value, sealedAD(c.column, r.ID))
		if err != nil {
			return d, fmt.Errorf("deployment %s: %s: %w", r.ID, c.column, err)
		}
		if plain == "" {
			plain = "{}"
		}
		if err := json.Unmarshal([]byte(plain), c.into); err != nil {
			// Not %w, and not the JSON error's text: it could quote a secret.
			return d, fmt.Errorf("deployment %s: %s: not a JSON object", r.ID, c.column)
		}
	}
	if err := json.Unmarshal([]byte(r.EgressAllow), &d.EgressAllow); err != nil {
		return d, fmt.Errorf("deployment %s: egress allow-list: %w", r.ID, err)
	}
	if d.EgressAllow == nil {
		d.EgressAllow = []string{}
	}
	if d.Env == nil {
		d.Env = map[string]string{}
	}
	if d.Datasources == nil {
		d.Datasources = map[string]string{}
	}
	if d.Secrets == nil {
		d.Secrets = map[string]string{}
	}
	return d, nil
}

// CreateDeployment stores d and sets its ID, timestamps, FlowID, FlowName,
// VersionID and VersionNumber. The flow is found by FlowID, else by
// FlowName; the version by VersionID, else by VersionNumber. An empty Status
// becomes "pending". ErrNotFound if the flow or version does not exist.
func (s *Store) CreateDeployment(ctx context.Context, d *Deployment) error {
	env, err := encodeStrings("env", d.Env)
	if err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	datasources, err := encodeStrings("datasources", d.Datasources)
	if err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	secrets, err := encodeStrings("secrets", d.Secrets)
	if err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	id := uuid.NewString()
	if datasources, err = s.sealColumn("datasources", id, datasources); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	if secrets, err = s.sealColumn("secrets", id, secrets); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	egressAllow, err := encodeList("egress allow-list", d.EgressAllow)
	if err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	for what, v := range map[string]string{"target": d.Target, "method": d.Method, "path": d.Path, "status": d.Status} {
		if err := checkText(what, v); err != nil {
			return fmt.Errorf("create deployment: %w", err)
		}
	}
	status := d.Status
	if status == "" {
		status = "pending" // deploy.StatePending
	}
	t := now()
	row := deploymentRow{
		ID:          id,
		Target:      d.Target,
		Method:      d.Method,
		Path:        d.Path,
		Env:         env,
		Datasources: datasources,
		Secrets:     secrets,
		ScalingMin:  d.Scaling.Min,
		ScalingMax:  d.Scaling.Max,
		DeadlineNs:  int64(d.Deadline),
		EgressAllow: egressAllow,
		Status:      status,
		Message:     cleanText(d.Message),
		CreatedAt:   t,
		UpdatedAt:   t,
	}
	var flowName string
	var versionNumber int
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var flows []flowRow
		q := tx.Limit(1)
		if d.FlowID != "" {
			q = q.Where("id = ?", d.FlowID)
		} else {
			q = q.Where("name = ?", d.FlowName)
		}
		if err := q.Find(&flows).Error; err != nil {
			return err
		}
		if len(flows) == 0 {
			return fmt.Errorf("flow: %w", ErrNotFound)
		}
		var versions []versionRow
		q = tx.Where("flow_id = ?", flows[0].ID).Limit(1)
		if d.VersionID != "" {
			q = q.Where("id = ?", d.VersionID)
		} else {
			q = q.Where("number = ?", d.VersionNumber)
		}
		if err := q.Find(&versions).Error; err != nil {
			return err
		}
		if len(versions) == 0 {
			return fmt.Errorf("version: %w", ErrNotFound)
		}
		row.FlowID, row.VersionID = flows[0].ID, versions[0].ID
		flowName, versionNumber = flows[0].Name, versions[0].Number
		if err := tx.Create(&row).Error; err != nil {
			if isForeignKey(err) { // the flow was deleted meanwhile
				return fmt.Errorf("flow: %w", ErrNotFound)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create deployment of %q: %w", d.FlowName, err)
	}
	d.ID, d.FlowID, d.FlowName = row.ID, row.FlowID, flowName
	d.VersionID, d.VersionNumber = row.VersionID, versionNumber
	d.Status, d.Message = row.Status, row.Message
	d.CreatedAt, d.UpdatedAt = t, t
	return nil
}

// deployments starts a query over deployments joined with their flow's name
// and version's number.
func (s *Store) deployments(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("deployments").
		Select("deployments.*, flows.name AS flow_name, versions.number AS version_number").
		Joins("JOIN flows ON flows.id = deployments.flow_id").
		Joins("JOIN versions ON versions.id = deployments.version_id")
}

// GetDeployment returns one deployment. ErrNotFound.
func (s *Store) GetDeployment(ctx context.Context, id string) (*Deployment, error) {
	var rows []deploymentView
	if err := s.deployments(ctx).Where("deployments.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("get deployment %q: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("get deployment %q: %w", id, ErrNotFound)
	}
	d, err := rows[0].deployment(s.sealer)
	if err != nil {
		return nil, fmt.Errorf("get deployment %q: %w", id, err)
	}
	return &d, nil
}

// ListDeployments returns the deployments f selects, newest first. A
// FlowName that names no flow selects none.
func (s *Store) ListDeployments(ctx context.Context, f DeploymentFilter) ([]Deployment, error) {
	q := s.deployments(ctx)
	if f.FlowName != "" {
		q = q.Where("flows.name = ?", f.FlowName)
	}
	if f.Active {
		q = q.Where("deployments.status <> ?", "stopped") // deploy.StateStopped
	}
	var rows []deploymentView
	if err := q.Order("deployments.created_at DESC, deployments.id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	list := make([]Deployment, len(rows))
	for i := range rows {
		d, err := rows[i].deployment(s.sealer)
		if err != nil {
			return nil, fmt.Errorf("list deployments: %w", err)
		}
		list[i] = d
	}
	return list, nil
}

// UpdateDeploymentStatus sets a deployment's status and message. The
// message is free text (often a process's output): invalid UTF-8 and NUL
// bytes in it are replaced, not refused. ErrNotFound.
func (s *Store) UpdateDeploymentStatus(ctx context.Context, id, status, message string) error {
	if err := checkText("status", status); err != nil {
		return fmt.Errorf("update deployment %q: %w", id, err)
	}
	res := s.db.WithContext(ctx).Model(&deploymentRow{}).Where("id = ?", id).Updates(map[string]any{
		"status":     status,
		"message":    cleanText(message),
		"updated_at": now(),
	})
	if res.Error != nil {
		return fmt.Errorf("update deployment %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update deployment %q: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteDeployment deletes a deployment's record. ErrNotFound.
func (s *Store) DeleteDeployment(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&deploymentRow{})
	if res.Error != nil {
		return fmt.Errorf("delete deployment %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete deployment %q: %w", id, ErrNotFound)
	}
	return nil
}

// encodeList encodes l as a JSON list; nil becomes [].
func encodeList(what string, l []string) (string, error) {
	for i, v := range l {
		if err := checkText(fmt.Sprintf("%s entry %d", what, i), v); err != nil {
			return "", err
		}
	}
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return string(b), nil
}

// encodeStrings encodes m as a JSON object; nil becomes {}.
func encodeStrings(what string, m map[string]string) (string, error) {
	for k, v := range m {
		if err := checkText(what+" name", k); err != nil {
			return "", err
		}
		if err := checkText(fmt.Sprintf("%s %q", what, k), v); err != nil {
			return "", err
		}
	}
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return string(b), nil
}
