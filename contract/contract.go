// Package contract is what the control plane (server, gateway, deploy
// targets) and the instances that serve a flow agree on: the environment an
// instance starts with, the files and lines it reads and writes, the route
// syntax both sides match, and the W3C trace context they pass on. It
// imports only the standard library, so that every side, generated Go
// bundles included, can import it.
package contract

// The environment an instance is started with. A deploy target sets these;
// the instance (engine.OptionsFromEnv) reads them.
const (
	EnvBundleDir  = "FLOWLINE_BUNDLE_DIR" // directory of the bundle's files
	EnvListen     = "FLOWLINE_LISTEN"     // address to listen on (host:port)
	EnvFlowEnv    = "FLOWLINE_FLOW_ENV"   // JSON object of the flow's plain variables
	EnvInstance   = "FLOWLINE_INSTANCE"   // instance id, <deployment id>-<n>
	EnvDeployment = "FLOWLINE_DEPLOYMENT" // deployment id
	EnvDeadline   = "FLOWLINE_DEADLINE"   // request deadline (Go duration), when the deployment sets one
	EnvMaxBody    = "FLOWLINE_MAX_BODY"   // largest request body in bytes
	EnvLogLevel   = "FLOWLINE_LOG_LEVEL"  // lowest level of the flow's own log lines
	// EnvEgressAllow is http.request's egress allow-list, a JSON list of
	// entries (engine/egress.Parse).
	EnvEgressAllow = "FLOWLINE_EGRESS_ALLOW"
	// EnvSecretsFile names a JSON file (Secrets) with the deployment's
	// secret variables and datasource URLs: secrets never travel in the
	// environment, which other processes of the user can read
	// (/proc/<pid>/environ) and which children inherit.
	EnvSecretsFile = "FLOWLINE_SECRETS_FILE"
	// EnvDatasources is still read, for instances started by hand; the
	// deploy targets pass datasources in EnvSecretsFile only.
	EnvDatasources = "FLOWLINE_DATASOURCES"
	// EnvHostMode selects what the JS host process does: "" serves a
	// bundle as an instance, HostModeTestRun runs one designer test run.
	EnvHostMode = "FLOWLINE_HOST_MODE"
)

// HostModeTestRun is the EnvHostMode of a test-run process.
const HostModeTestRun = "testrun"

// Operator limits: the server passes these on from its own environment to
// every process that runs user code.
const (
	EnvMaxUpstreamBody = "FLOWLINE_MAX_UPSTREAM_BODY" // largest http.request answer body, bytes
	EnvCodeMemory      = "FLOWLINE_CODE_MAX_MEMORY"   // code.js allocation budget per run, bytes
	EnvTestRunMemory   = "FLOWLINE_TESTRUN_MEMORY"    // address-space limit of a test-run process, bytes
	EnvExprMemory      = "FLOWLINE_EXPR_MAX_MEMORY"   // budget of one expression evaluation, bytes
	EnvExprSteps       = "FLOWLINE_EXPR_MAX_STEPS"    // budget of one expression evaluation, VM steps
)

// Limits are the operator limit variables, in the order above.
var Limits = []string{EnvMaxUpstreamBody, EnvCodeMemory, EnvTestRunMemory, EnvExprMemory, EnvExprSteps}

// The files of a bundle: every bundle has a manifest (engine.Manifest);
// a JS bundle has its source beside it, a Go bundle its binary.
const (
	ManifestFile = "manifest.json"
	JSBundleFile = "bundle.js"
)

// SecretsFileName is the name of the secrets file in a deployment's bundle
// directory on the local target; only the server's user may read it.
const SecretsFileName = "secrets.json"

// Secrets is the content of the file EnvSecretsFile names.
type Secrets struct {
	Env         map[string]string `json:"env"`         // secret variables, seen as env.NAME
	Datasources map[string]string `json:"datasources"` // name -> URL
}

// Paths every instance answers itself, beside the flow's route: a trigger
// may not use them.
const (
	PathHealth  = "/healthz" // the process is up
	PathReady   = "/readyz"  // it takes traffic; 503 while draining
	PathMetrics = "/metrics" // Prometheus metrics
)

// ReservedPaths are PathHealth, PathReady and PathMetrics.
var ReservedPaths = []string{PathHealth, PathReady, PathMetrics}

// An instance logs one JSON object per line on stdout (log/slog's JSON
// handler). These are the keys the control plane reads; others are shown
// as key=value after the message.
const (
	LogTime     = "time"
	LogLevel    = "level"
	LogMessage  = "msg"
	LogNode     = "node"
	LogTraceID  = "trace_id"
	LogSpanID   = "span_id"
	LogInstance = "instance"
	LogDeploy   = "deployment"
	// LogAddr is the key of the listening line's address.
	LogAddr = "addr"
)

// MsgListening is the message of the line an instance logs once it accepts
// connections, with its address under LogAddr: the deploy target learns
// where it listens from it.
const MsgListening = "listening"
