// Package engine is what a compiled flow runs on, in both bundle targets:
// a Flow serves HTTP requests (routing by the contract's rules, reading
// the request within its limits, answering errors as FLOW-FORMAT.md says),
// and an Exec is one request's run, which generated code drives node by
// node (Trigger, Begin, Eval, End, Fail, Respond) while it records spans
// and log lines under the request's trace. Main and ServeInstance run a
// flow as an instance, with health, readiness, metrics and graceful
// draining.
//
// It is the small API generated Go code imports. What nodes do outside the
// expression language lives in packages of their own that implement Call:
// httpcall (http.request), sqlquery (db.query), sandbox (code.js), schema
// (validate), and the node types of flow/nodes. jshost runs JS bundles on
// the same engine; egress and redact are the policies every side applies.
package engine
