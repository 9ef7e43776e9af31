package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secrets at rest: a deployment's secret variables and datasource URLs are
// sealed with AES-256-GCM before they are written, so a copy of the
// database (a backup, a replica, a dump) opens nothing without the key.
// A sealed value is "sealed:v1:" + base64(nonce | ciphertext), and is bound
// to its row and column (the additional data), so that it cannot be moved
// to another deployment to be read by that deployment's flow.
//
// The key is given to Open (WithSecretKey, from FLOWLINE_SECRET_KEY), or
// else read from KeyFile in the data directory, which is made on first use.
// Every server over one database must use the same key.

// KeyFile is the key's file in the data directory when Open is given none:
// 32 random bytes, base64, readable by the server's user only.
const KeyFile = "secret.key"

// KeySize is the size in bytes of a secret key (AES-256).
const KeySize = 32

// sealedPrefix starts every sealed value; a value without it was written
// before secrets were sealed, as plain JSON.
const sealedPrefix = "sealed:v1:"

// EnvSecretKeyName is the server setting a key comes from, for messages:
// the store does not read the environment.
const EnvSecretKeyName = "FLOWLINE_SECRET_KEY"

// ErrSecretKey is wrapped by errors about the secret key: a malformed key,
// or a value sealed with another key than the store's.
var ErrSecretKey = errors.New("secret key")

// Option configures Open.
type Option func(*options)

type options struct {
	secretKey []byte
}

// WithSecretKey makes Open seal secrets with key (KeySize bytes) instead
// of the key file in the data directory.
func WithSecretKey(key []byte) Option {
	return func(o *options) { o.secretKey = key }
}

// DecodeKey decodes a key written as base64 (standard or URL alphabet,
// padded or not), as FLOWLINE_SECRET_KEY and the key file hold it.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("%w: %d bytes, want %d (base64 of 32 random bytes, e.g. from openssl rand -base64 32)", ErrSecretKey, len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: not base64 (want base64 of 32 random bytes, e.g. from openssl rand -base64 32)", ErrSecretKey)
}

// sealer seals and opens values with one key.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrSecretKey, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts plain, bound to ad (where it is kept).
func (s *sealer) seal(plain, ad string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(ad))
	return sealedPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// open decrypts a sealed value; a value that is not sealed (a row written
// before sealing) is returned as it is.
func (s *sealer) open(value, ad string) (string, error) {
	enc, ok := strings.CutPrefix(value, sealedPrefix)
	if !ok {
		return value, nil
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(b) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", fmt.Errorf("%w: a sealed value is damaged", ErrSecretKey)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(ad))
	if err != nil {
		return "", fmt.Errorf("%w: a secret was sealed with another key than this server's; "+
			"every server over one database must be started with the same %s", ErrSecretKey, EnvSecretKeyName)
	}
	return string(plain), nil
}

func isSealed(value string) bool { return strings.HasPrefix(value, sealedPrefix) }

// sealedAD is what a deployment's sealed column is bound to.
func sealedAD(column, id string) string { return "deployments." + column + "/" + id }

// loadOrCreateKey reads the key file in dataDir, or makes it: 32 random
// bytes, base64, mode 0600. The file appears whole or not at all, and when
// two servers start together on one directory both end up with the key
// that was written first.
func loadOrCreateKey(dataDir string) ([]byte, error) {
	if dataDir == "" {
		dataDir = "data"
	}
	path := filepath.Join(dataDir, KeyFile)
	if b, err := os.ReadFile(path); err == nil {
		key, err := DecodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	f, err := os.CreateTemp(dataDir, "."+KeyFile+".*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	// A hard link, unlike a rename, never replaces a key another server
	// has just written.
	if err := os.Link(tmp, path); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("key file: %w", err)
		}
		return loadOrCreateKey(dataDir)
	}
	return key, nil
}

// checkKey opens one sealed value, if there is any, so that a server
// started with the wrong key says so at once rather than on every read.
func (s *Store) checkKey(ctx context.Context) error {
	var rows []struct{ ID, Datasources string }
	err := s.db.WithContext(ctx).Table("deployments").Select("id, datasources").
		Where("datasources LIKE ?", sealedPrefix+"%").Limit(1).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("check secret key: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := s.sealer.open(rows[0].Datasources, sealedAD("datasources", rows[0].ID)); err != nil {
		return fmt.Errorf("check secret key: deployment %s: %w", rows[0].ID, err)
	}
	return nil
}

// sealPlain seals the secrets of rows written before secrets were sealed.
// Each row is updated only if it still holds what was read, so servers
// starting together do not seal a value twice.
func (s *Store) sealPlain(ctx context.Context) error {
	var rows []struct{ ID, Datasources, Secrets string }
	err := s.db.WithContext(ctx).Table("deployments").Select("id, datasources, secrets").
		Where("datasources NOT LIKE ? OR secrets NOT LIKE ?", sealedPrefix+"%", sealedPrefix+"%").Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("seal secrets: %w", err)
	}
	for _, r := range rows {
		ds, err := s.sealColumn("datasources", r.ID, r.Datasources)
		if err != nil {
			return err
		}
		sec, err := s.sealColumn("secrets", r.ID, r.Secrets)
		if err != nil {
			return err
		}
		err = s.db.WithContext(ctx).Model(&deploymentRow{}).
			Where("id = ? AND datasources = ? AND secrets = ?", r.ID, r.Datasources, r.Secrets).
			Updates(map[string]any{"datasources": ds, "secrets": sec}).Error
		if err != nil {
			return fmt.Errorf("seal secrets of deployment %s: %w", r.ID, err)
		}
	}
	return nil
}

// sealColumn seals a column's value unless it is sealed already.
func (s *Store) sealColumn(column, id, value string) (string, error) {
	if isSealed(value) {
		return value, nil
	}
	if value == "" {
		value = "{}"
	}
	sealed, err := s.sealer.seal(value, sealedAD(column, id))
	if err != nil {
		return "", fmt.Errorf("seal %s of deployment %s: %w", column, id, err)
	}
	return sealed, nil
}
