package server

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowline/flowline/store"
)

// Environment variables, read in one place.
const (
	EnvAddr        = "FLOWLINE_ADDR"
	EnvGatewayAddr = "FLOWLINE_GATEWAY_ADDR"
	EnvDatabaseURL = "FLOWLINE_DATABASE_URL"
	EnvDataDir     = "FLOWLINE_DATA_DIR"
	EnvWebDir      = "FLOWLINE_WEB_DIR"
	EnvPublicURL   = "FLOWLINE_GATEWAY_URL"
	EnvMaxBody     = "FLOWLINE_MAX_BODY"
	EnvLogLevel    = "FLOWLINE_LOG_LEVEL"
	EnvGo          = "FLOWLINE_GO"
	EnvAPIToken    = "FLOWLINE_API_TOKEN"
	EnvAdminUser   = "FLOWLINE_ADMIN_USER"
	EnvAdminPass   = "FLOWLINE_ADMIN_PASSWORD"
	EnvSecure      = "FLOWLINE_SECURE_COOKIES"
	EnvAPIURL      = "FLOWLINE_URL"
	EnvSecretKey   = store.EnvSecretKeyName // FLOWLINE_SECRET_KEY; the store names it in its errors
)

// Config is everything the server is started with.
type Config struct {
	Addr        string // API and designer, default :8080
	GatewayAddr string // published endpoints, default :8081
	DatabaseURL string // postgres://... or empty for SQLite under DataDir
	DataDir     string // default ./data
	WebDir      string // serve the designer from here instead of the embedded copy
	GatewayURL  string // how clients reach the gateway, for the URLs the API shows
	MaxBody     int64  // gateway request body limit, default 1 MiB
	// HostCommand starts a JS host instance; default: this binary with "host".
	HostCommand []string
	// HostEnv adds KEY=value pairs to every instance's environment.
	HostEnv []string
	// GoCommand is the go command that builds Go bundles (default: go on
	// PATH). Without one, publishing with target go is refused.
	GoCommand string
	// ReadyTimeout bounds an instance's start (default 30s).
	ReadyTimeout time.Duration
	LogLevel     string
	// APIToken is an admin's API token given by configuration, for
	// automation; empty for none.
	APIToken string
	// AdminUser and AdminPassword make the first admin at first start;
	// without them the first admin is "admin" with a one-time password
	// printed to the log.
	AdminUser, AdminPassword string
	// SecureCookies marks the session cookie Secure (HTTPS only), for a
	// server behind a TLS proxy.
	SecureCookies bool
	// URL is where users open the designer (https://flowline.example),
	// when a proxy in front changes the Host header: browsers' requests
	// carry it as their Origin.
	URL string
	// SecretKey seals deployments' secrets in the store (32 bytes, given
	// as base64); nil uses the key file in DataDir, made at first start.
	// Servers sharing a database must share it.
	SecretKey []byte
}

// Defaults returns the configuration with nothing set.
func Defaults() Config {
	return Config{
		Addr:        "127.0.0.1:8080", // loopback until the operator opens it up
		GatewayAddr: ":8081",
		DataDir:     "data",
		MaxBody:     1 << 20,
		LogLevel:    "info",
	}
}

// FromEnv overlays the environment on c.
func FromEnv(c Config, getenv func(string) string) (Config, error) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Addr, EnvAddr)
	set(&c.GatewayAddr, EnvGatewayAddr)
	set(&c.DatabaseURL, EnvDatabaseURL)
	set(&c.DataDir, EnvDataDir)
	set(&c.WebDir, EnvWebDir)
	set(&c.GatewayURL, EnvPublicURL)
	set(&c.LogLevel, EnvLogLevel)
	set(&c.GoCommand, EnvGo)
	set(&c.APIToken, EnvAPIToken)
	set(&c.AdminUser, EnvAdminUser)
	set(&c.AdminPassword, EnvAdminPass)
	set(&c.URL, EnvAPIURL)
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return c, fmt.Errorf("%s: %q is not an http(s)://host URL", EnvAPIURL, c.URL)
		}
	}
	if v := getenv(EnvSecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s: %q is not true or false", EnvSecure, v)
		}
		c.SecureCookies = b
	}
	if v := getenv(EnvSecretKey); v != "" {
		key, err := store.DecodeKey(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvSecretKey, err)
		}
		c.SecretKey = key
	}
	if c.APIToken != "" && len(c.APIToken) < 16 {
		return c, fmt.Errorf("%s must be at least 16 characters: it is an admin's key", EnvAPIToken)
	}
	if v := getenv(EnvMaxBody); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("%s: %q is not a positive number of bytes", EnvMaxBody, v)
		}
		c.MaxBody = n
	}
	return c, nil
}

// Resolve makes every path of c absolute, against the working directory
// of the moment, so that nothing the server later starts in another
// directory (a go build, an instance) reads a relative path wrongly.
func (c Config) Resolve() (Config, error) {
	for _, p := range []*string{&c.DataDir, &c.WebDir} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return c, fmt.Errorf("resolve %q: %w", *p, err)
		}
		*p = abs
	}
	// A go command given as a path (./go, bin/go) is resolved too; a bare
	// name is looked up on PATH when it is used.
	if strings.ContainsRune(c.GoCommand, filepath.Separator) && !filepath.IsAbs(c.GoCommand) {
		abs, err := filepath.Abs(c.GoCommand)
		if err != nil {
			return c, fmt.Errorf("resolve %q: %w", c.GoCommand, err)
		}
		c.GoCommand = abs
	}
	return c, nil
}

// storeOptions are the options the store is opened with.
func (c Config) storeOptions() []store.Option {
	if c.SecretKey == nil {
		return nil
	}
	return []store.Option{store.WithSecretKey(c.SecretKey)}
}

// gatewayURL is the base URL clients call, derived from the listener when
// not configured.
func (c Config) gatewayURL(actual string) string {
	if c.GatewayURL != "" {
		return c.GatewayURL
	}
	return localURL(actual)
}

// localURL is the URL of a listener on this machine: a wildcard address
// is reached on 127.0.0.1.
func localURL(actual string) string {
	host, port, err := net.SplitHostPort(actual)
	if err != nil {
		return "http://" + actual
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
