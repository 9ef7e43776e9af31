// Shapes of the flow document (FLOW-FORMAT.md) and of the REST API.

// The node-type catalog's shapes are generated from the server's Go types.
export type { Catalog as NodeTypes, Category, DynamicPorts, ExprDoc, ExprFunction, ExprVariable, Field, Spec } from './generated/catalog';

export interface Position {
  x: number;
  y: number;
}

export type Config = Record<string, unknown>;

export interface FlowNode {
  id: string;
  type: string;
  config?: Config;
  position?: Position;
}

export interface FlowEdge {
  from: string;
  to: string;
  port?: string;
}

export interface FlowDoc {
  version: number;
  name: string;
  description?: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** Errors stop a publish or a test run; warnings are advice and never block anything. */
export type Severity = 'error' | 'warning';

export interface Problem {
  node: string;
  field: string;
  message: string;
  /** Absent means "error" (servers before warnings existed). */
  severity?: Severity;
  /** Where in the field's expression, in characters, when it is about a part of it. */
  at?: { from: number; to: number };
}

/** What is known of a value before the flow runs (flow.Type on the server). */
export interface ValueType {
  kind: 'any' | 'nil' | 'bool' | 'number' | 'string' | 'map' | 'list';
  fields?: Record<string, ValueType>;
  /** The map may hold keys besides fields. */
  open?: boolean;
  elem?: ValueType;
  /** "sample" when known only from the last test run, "schema" from a validate schema. */
  from?: string;
}

/** POST /analyze: the problems, type problems included, and each node's output type. */
export interface Analysis {
  problems: Problem[];
  types: Record<string, ValueType>;
}

/** A node output used by test runs instead of running the node. */
export interface Pin {
  output: unknown;
  port: string;
}

export interface FlowRecord {
  name: string;
  revision: number;
  document: FlowDoc;
  updated_at?: string;
}

/** One saved state of a flow (GET /flows/{name}/revisions/{n}): the base of a three-way merge. */
export interface FlowRevision {
  revision: number;
  document: FlowDoc;
  created_at?: string;
}

export interface DeploymentRef {
  id: string;
  version: number;
  target: string;
  status: string;
}

export interface FlowSummary {
  name: string;
  revision: number;
  description?: string;
  method?: string;
  path?: string;
  updated_at?: string;
  latest_version?: { version: number; target: string; revision?: number } | null;
  deployments?: DeploymentRef[] | null;
}

/** A kind of bundle publishing can build (js, go) and whether this server can build it now. */
export interface BundleTarget {
  name: string;
  available: boolean;
  /** Why it is unavailable; only when available is false. */
  reason?: string;
}

export interface Info {
  version: string;
  gateway_url: string;
  /** Deploy targets (local, nomad). */
  targets: string[];
  /** Publish (bundle) targets; absent on servers that predate it. */
  bundle_targets?: BundleTarget[];
}

export interface TestRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  raw_body?: string;
  content_type?: string;
}

export interface Span {
  id: string;
  type?: string;
  port?: string;
  input?: unknown;
  output?: unknown;
  error?: string;
  start?: string;
  duration_ms?: number;
  /** The node did not run: its output was pinned. */
  pinned?: boolean;
}

export interface LogLine {
  time?: string;
  level?: string;
  node?: string;
  message?: string;
  trace_id?: string;
  instance?: string;
}

export interface TestResult {
  response: { status: number; headers?: Record<string, string | string[]>; body?: unknown };
  trace: { id: string; spans: Span[]; logs?: LogLine[] };
}

export interface Version {
  version: number;
  target: string;
  /** The flow revision the version was built from (absent or 0 on versions that predate it). */
  revision?: number;
  created_at?: string;
}

export interface Instance {
  id: string;
  addr?: string;
  state?: string;
  restarts?: number;
}

export interface Deployment {
  id: string;
  flow?: string;
  version: number;
  target: string;
  status: string;
  message?: string;
  url?: string;
  instances?: Instance[] | null;
  env?: Record<string, string> | null;
  /** Names of the secret variables, each "set": values are never shown back. */
  secrets?: Record<string, string> | null;
  /** Names of the datasources, each "set" (their URLs are secrets). */
  datasources?: Record<string, string> | null;
  scaling?: { min?: number; max?: number } | null;
  deadline?: string;
  /** What its http.request nodes may call besides public addresses (canonical form). */
  egress?: Egress | null;
}

/** The egress allow-list of a deployment or a test run: CIDRs, IP addresses and host names, each with an optional :port. */
export interface Egress {
  allow: string[];
}

/** What a deploy sends; secrets and datasource URLs are never shown back, so every deploy sends them again. */
export interface DeployRequest {
  version: number;
  target: string;
  env: Record<string, string>;
  secrets: Record<string, string>;
  datasources: Record<string, string>;
  scaling: { min: number; max: number };
  deadline: string;
  egress: Egress;
}

/** What a test run uses besides the request and the flow. */
export interface TestRunEnv {
  env: Record<string, string>;
  secrets: Record<string, string>;
  datasources: Record<string, string>;
  egress: Egress;
  /** Node outputs used instead of running those nodes. */
  pins?: Record<string, Pin>;
}

/** An API key of a flow's published endpoint; the server keeps only its hash. */
export interface FlowKey {
  id: string;
  name: string;
  /** The secret's first characters, to tell keys apart. */
  prefix: string;
  /** 0: no limit. */
  rate_per_minute: number;
  created_at?: string;
}

/** A key just made: the only time its secret (flk_...) is shown. */
export interface NewFlowKey extends FlowKey {
  key: string;
}

/** Who may call a flow's published endpoint. */
export interface EndpointAccess {
  /** The gateway refuses calls without a valid X-API-Key header (401). */
  require_key: boolean;
  /** Browser origins allowed to call it: "*" or scheme://host[:port]. */
  cors_origins: string[];
  keys: FlowKey[];
}

/** Who may do what: a viewer reads, an editor also changes flows, an admin also manages users. */
export type Role = 'viewer' | 'editor' | 'admin';

export interface User {
  id: string;
  name: string;
  role: Role | string;
  /** Signed in with a one-time password: every call but /session is refused until it is changed. */
  must_change_password: boolean;
  disabled: boolean;
  created_at?: string;
  updated_at?: string;
}

/** The signed-in user and the CSRF token the designer's unsafe calls carry. */
export interface Session {
  user: User;
  /** Absent for token callers; the designer always has one. */
  csrf_token?: string;
}

export interface ApiToken {
  id: string;
  name: string;
  /** The secret's first characters, to tell tokens apart. */
  prefix: string;
  user: string;
  created_at?: string;
  last_used_at?: string | null;
}

/** A token just made: the only time its secret is shown. */
export interface NewApiToken extends ApiToken {
  token: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: string;
}
