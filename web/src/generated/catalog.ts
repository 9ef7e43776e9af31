// Generated from the Go types of GET /api/v1/node-types by internal/docgen; do not edit.
// Run `go test ./internal/docgen -update` after changing them.

export interface Catalog {
  categories: Category[];
  types: Spec[];
  expr: ExprDoc;
}

export interface Category {
  name: string;
  description: string;
  color: string;
}

export interface Spec {
  type: string;
  title: string;
  category: string;
  description: string;
  summary?: string;
  ports: string[];
  dynamic_ports?: DynamicPorts;
  fields: Field[];
  output: string;
  examples?: Example[];
}

export interface ExprDoc {
  variables: ExprVariable[];
  functions: ExprFunction[];
}

export interface DynamicPorts {
  field: string;
  item: string;
}

export interface Field {
  name: string;
  label: string;
  kind: string;
  description: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
  item?: Field[];
  language?: string;
  placeholder?: string;
}

export interface Example {
  title: string;
  config: unknown;
}

export interface ExprVariable {
  name: string;
  type: string;
  doc: string;
  fields?: ExprField[];
}

export interface ExprFunction {
  name: string;
  signature: string;
  doc: string;
  result: string;
}

export interface ExprField {
  name: string;
  type: string;
  doc: string;
}
