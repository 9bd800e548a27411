// Package handlers holds Hookflow's thin Fiber handlers, one resource per
// file. Handlers parse the request, call the engine through the interfaces
// declared here, and return errors for web's ErrorHandler to map; they never
// touch the database directly.
package handlers
