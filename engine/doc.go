// Package engine is Hookflow's domain: the workflow document, request parsing
// (the qs-style bracket parser and the path lister), templates, conditions,
// node kinds, the executor and the runner that consumes queued executions.
//
// It is pure Go. It imports none of Hookflow's other packages and none of
// net/http, database/sql, fiber or templ; storage is reached through the
// interfaces declared in store.go.
package engine
