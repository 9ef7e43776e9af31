// Shapes of the flow document (FLOW-FORMAT.md) and of the REST API.

export type FieldKind =
  | 'string'
  | 'int'
  | 'enum'
  | 'expr'
  | 'int_or_expr'
  | 'list'
  | 'expr_list'
  | 'schema'
  | 'code';

export interface Field {
  name: string;
  label?: string;
  kind: FieldKind | string;
  description?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
  item?: Field[];
  language?: string;
  placeholder?: string;
}

export interface Spec {
  type: string;
  title: string;
  category: string;
  description: string;
  ports: string[];
  dynamic_ports_field?: string;
  fields: Field[];
  output?: string;
  examples?: { title: string; config: unknown }[];
}

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
}

export interface FlowRecord {
  name: string;
  revision: number;
  document: FlowDoc;
  updated_at?: string;
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
  latest_version?: { version: number; target: string } | null;
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
  datasources?: Record<string, string> | null;
  scaling?: { min?: number; max?: number } | null;
  deadline?: string;
}
