// Package views holds the admin UI's templ components.
//
// Pages end in Page (SignInPage, ErrorPage) and render inside Layout;
// fragments are nouns (FlashMessages) and are what htmx requests get. The
// generated *_templ.go files are committed: run `go tool templ generate`
// after editing a .templ file.
//
// Markup uses the class names of static/app.css (cards, tables, badges,
// forms, the flow canvas) and never inline scripts or styles: the
// Content-Security-Policy forbids them. Behaviour comes from data-attributes
// handled by static/app.js (data-copy, data-confirm, data-json-validate).
// Elements that tests look for carry data-testid attributes.
//
// views imports only the standard library, templ, static (for asset URLs)
// and engine.
package views
