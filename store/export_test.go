package store

import "context"

// Test access to the raw columns, to see what the database holds and to
// write rows as an older version did.

// RawColumn returns a deployment's column as stored.
func RawColumn(ctx context.Context, s *Store, id, column string) (string, error) {
	var v []string
	err := s.db.WithContext(ctx).Table("deployments").Where("id = ?", id).Pluck(column, &v).Error
	if err != nil || len(v) == 0 {
		return "", err
	}
	return v[0], nil
}

// SetRawColumn overwrites a deployment's column as stored.
func SetRawColumn(ctx context.Context, s *Store, id, column, value string) error {
	return s.db.WithContext(ctx).Table("deployments").Where("id = ?", id).Update(column, value).Error
}
