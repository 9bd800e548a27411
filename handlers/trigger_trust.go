package handlers

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// The trigger panel's trust settings (issue 11) and its samples (issue
// 16): "Verify the sender" with a preset per sender, the allowed
// addresses, deduplication, and the three samples saved as
// trigger.samples, which test runs use.

// verifyPost is the "Verify the sender" section as posted.
type verifyPost struct {
	Type    string `json:"type"`
	Secrets []struct {
		Value string `json:"value"`
		Keep  string `json:"keep"`
	} `json:"secrets"`
	Header           string `json:"header"`
	Algorithm        string `json:"algorithm"`
	Encoding         string `json:"encoding"`
	Prefix           string `json:"prefix"`
	ToleranceSeconds string `json:"toleranceSeconds"`
}

// dedupePost is the dedupe section as posted.
type dedupePost struct {
	Key           string `json:"key"`
	WindowSeconds string `json:"windowSeconds"`
}

// verifyForm is the section for a stored verify setting: its secrets are
// rows that say "stored" and hold no value.
func verifyForm(v *engine.Verify) views.VerifyForm {
	if v == nil {
		return views.VerifyForm{}
	}
	f := views.VerifyForm{Type: v.Type, Header: v.Header, Algorithm: v.Algorithm, Encoding: v.Encoding, Prefix: v.Prefix}
	if v.ToleranceSeconds > 0 {
		f.Tolerance = strconv.Itoa(v.ToleranceSeconds)
	}
	for i := range storedSecrets(v) {
		f.Secrets = append(f.Secrets, views.SecretRow{Keep: i + 1})
	}
	if len(f.Secrets) == 0 {
		f.Secrets = []views.SecretRow{{}}
	}
	return f
}

// trustForm fills the trust sections of a trigger panel (verify, allowed
// addresses, dedupe) from the stored trigger t.
func trustForm(f *views.TriggerForm, t *engine.Trigger) {
	f.Verify = verifyForm(t.Verify)
	f.AllowIPs = slices.Clone(t.AllowIPs)
	if dd := t.Dedupe; dd != nil {
		f.DedupeKey = dd.Key
		if dd.WindowSeconds != nil {
			f.DedupeWindow = strconv.Itoa(*dd.WindowSeconds)
		}
	}
}

// storedSecrets lists a verify setting's secrets: secret, or secrets.
func storedSecrets(v *engine.Verify) []string {
	if v == nil {
		return nil
	}
	if v.Secret != "" {
		return []string{v.Secret}
	}
	return v.Secrets
}

// verifyFormFromPost is the section as posted; a chosen type always has
// at least one secret row.
func verifyFormFromPost(p *verifyPost) views.VerifyForm {
	f := views.VerifyForm{Type: strings.TrimSpace(p.Type), Header: p.Header, Algorithm: p.Algorithm, Encoding: p.Encoding,
		Prefix: p.Prefix, Tolerance: p.ToleranceSeconds}
	for _, r := range p.Secrets {
		keep, _ := strconv.Atoi(r.Keep)
		f.Secrets = append(f.Secrets, views.SecretRow{Value: r.Value, Keep: max(keep, 0)})
	}
	if f.Type != "" && len(f.Secrets) == 0 {
		f.Secrets = []views.SecretRow{{}}
	}
	return f
}

// verifyFromForm is the verify setting a save stores: the fields the type
// uses, a typed secret, or the stored one a row stands for. stored is the
// setting before the save (its secrets, and whether it listed them).
func verifyFromForm(f *views.VerifyForm, stored *engine.Verify, errs map[string]string) *engine.Verify {
	if f.Type == "" {
		return nil
	}
	t, known := views.VerifyTypeOf(f.Type)
	if !known {
		// A type this form does not know (a newer one, through the API)
		// stays as stored.
		return stored
	}
	v := &engine.Verify{Type: f.Type}
	old := storedSecrets(stored)
	var secrets []string
	for i, r := range f.Secrets {
		switch s := strings.TrimSpace(r.Value); {
		case s != "":
			secrets = append(secrets, s)
		case r.Keep > 0 && r.Keep <= len(old):
			secrets = append(secrets, old[r.Keep-1])
		case i == 0 && len(f.Secrets) == 1:
			errs[secretErrorName(0)] = "required: " + secretRequired(t)
		}
	}
	if len(secrets) == 1 && (stored == nil || stored.Secret != "" || len(stored.Secrets) == 0) {
		v.Secret = secrets[0]
	} else {
		v.Secrets = secrets
	}
	if t.Header {
		v.Header = strings.TrimSpace(f.Header)
	}
	if t.HMAC {
		v.Algorithm, v.Encoding, v.Prefix = f.Algorithm, f.Encoding, f.Prefix
	}
	if t.Tolerance {
		if s := strings.TrimSpace(f.Tolerance); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				errs["verify[toleranceSeconds]"] = "must be a whole number of seconds, at least 1"
			} else {
				v.ToleranceSeconds = n
			}
		}
	}
	return v
}

func secretRequired(t views.VerifyType) string {
	if t.Type == "token" {
		return "the token the sender puts in the header"
	}
	return "the secret the sender signs with"
}

func secretErrorName(i int) string { return "verify[secrets][" + strconv.Itoa(i) + "]" }

// placeVerifyErrors moves the engine's verify errors to the form's inputs:
// secret (one secret) is row 0, verify (the whole setting) is the type.
func placeVerifyErrors(errs map[string]string, rows int) {
	move := func(from, to string) {
		if msg := errs[from]; msg != "" {
			delete(errs, from)
			if errs[to] == "" {
				errs[to] = msg
			}
		}
	}
	if rows > 0 {
		move("verify[secret]", secretErrorName(0))
	} else {
		move("verify[secret]", "verify[secrets]")
	}
	move("verify", "verify[type]")
	move("dedupe", "dedupe[key]")
}

// trustInputs adds the input names of the trust sections.
func trustInputs(f *views.TriggerForm, in map[string]bool) {
	for _, n := range []string{"verify", "verify[type]", "verify[secret]", "verify[secrets]", "verify[header]", "verify[algorithm]",
		"verify[encoding]", "verify[prefix]", "verify[toleranceSeconds]", "allowIPs", "dedupe", "dedupe[key]", "dedupe[windowSeconds]",
		"sample-headers"} {
		in[n] = true
	}
	for i := range f.Verify.Secrets {
		in[secretErrorName(i)] = true
	}
	for i := range f.AllowIPs {
		in["allowIPs["+strconv.Itoa(i)+"]"] = true
	}
}

// applyTrust sets the trigger's verify, allowIPs and dedupe from the form;
// problems of the form's own values go into f.Errors. The engine then
// judges the whole document; each part is also asked about alone here
// (the engine stops at the first trust problem), so that every bad input
// is marked at once.
func applyTrust(f *views.TriggerForm, t *engine.Trigger, mode engine.Mode) {
	t.Verify = verifyFromForm(&f.Verify, t.Verify, f.Errors)
	t.AllowIPs = nil
	for i, s := range f.AllowIPs {
		if _, err := engine.ParsePrefix(s); err != nil {
			name := "allowIPs[" + strconv.Itoa(i) + "]"
			if f.Errors[name] == "" {
				f.Errors[name] = engine.ErrorMessage(err)
			}
		}
		t.AllowIPs = append(t.AllowIPs, s)
	}
	t.Dedupe = nil
	if key := strings.TrimSpace(f.DedupeKey); key != "" {
		dd := &engine.Dedupe{Key: key}
		if s := strings.TrimSpace(f.DedupeWindow); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				f.Errors["dedupe[windowSeconds]"] = "must be a whole number of seconds"
			} else {
				dd.WindowSeconds = &n
			}
		}
		t.Dedupe = dd
	}
	// Each part alone, in a document that has nothing else.
	probe := func(tr engine.Trigger) {
		p := &engine.Document{Title: "probe", Mode: mode, Trigger: tr, Nodes: []engine.Node{}}
		for _, err := range p.Problems() {
			field, rest, ok := editorSplitFieldError(engine.ErrorMessage(err))
			if !ok {
				continue
			}
			if name := fieldInputName(field); f.Errors[name] == "" {
				f.Errors[name] = rest
			}
		}
	}
	if t.Verify != nil {
		probe(engine.Trigger{Verify: t.Verify})
	}
	if t.Dedupe != nil {
		probe(engine.Trigger{Dedupe: t.Dedupe})
	}
	placeVerifyErrors(f.Errors, len(f.Verify.Secrets))
}

// suggestDedupe puts the sender's dedupe key into the form.
func suggestDedupe(f *views.TriggerForm) {
	if t, ok := views.VerifyTypeOf(f.Verify.Type); ok && t.Dedupe != nil {
		f.DedupeKey = t.Dedupe.Key
		f.Focus = fieldID("dedupe[key]")
	}
}

// fieldID is views' test id of an input name (rules[items][0] →
// rules-items-0).
func fieldID(name string) string {
	return strings.NewReplacer("[", "-", "]", "", ".", "-", " ", "-").Replace(name)
}

// ----- samples -----

// samplesForm fills the form's three sample boxes from the stored samples.
func samplesForm(f *views.TriggerForm, s *engine.Samples) {
	if s == nil {
		return
	}
	f.HeadersSample = headerLines(s.Headers)
	f.QuerySample, f.BodySample = s.Query, s.Body
}

// headerLines writes headers as "Name: value" lines, in name order.
func headerLines(hs map[string]string) string {
	names := make([]string, 0, len(hs))
	for k := range hs {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + ": " + hs[k] + "\n")
	}
	return b.String()
}

// maxSampleHeaders bounds the lines of a headers sample.
const maxSampleHeaders = 200

// parseHeaderLines reads a headers sample: "Name: value" per line, blank
// lines skipped; the first line that is no header is an error. A header
// given twice is joined with ", " as a request's would be.
func parseHeaderLines(text string) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderToken(name) {
			return nil, nil, fmt.Errorf("line %d: write each header as Name: value, such as Content-Type: application/json", i+1)
		}
		value = strings.TrimSpace(value)
		key := strings.ToLower(name)
		if old, dup := out[key]; dup {
			out[key] = old + ", " + value
			continue
		}
		if len(order) >= maxSampleHeaders {
			return nil, nil, fmt.Errorf("more than %d headers", maxSampleHeaders)
		}
		out[key] = value
		order = append(order, name)
	}
	return out, order, nil
}

// validHeaderToken reports whether s is an HTTP header name (RFC 9110
// token).
func validHeaderToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// transportHeaders are headers of a sample that are about the connection,
// not the sender: parsing a sample does not declare them as fields.
var transportHeaders = []string{"host", "content-length", "connection", "transfer-encoding", "accept-encoding",
	"expect", "keep-alive", "te", "upgrade", "accept"}

// samplesFromForm is the trigger.samples a save stores, nil when every box
// is empty. The query box keeps only the query string of a pasted URL. A
// body without a Content-Type among the headers gets the one its text
// calls for, so that a test run parses it as the admin expects.
func samplesFromForm(f *views.TriggerForm) *engine.Samples {
	s := &engine.Samples{Query: engine.QueryOfSample(f.QuerySample), Body: f.BodySample}
	if strings.TrimSpace(f.BodySample) == "" {
		s.Body = ""
	}
	hs, _, err := parseHeaderLines(f.HeadersSample)
	if err != nil {
		f.Errors["sample-headers"] = err.Error()
	} else if len(hs) > 0 {
		s.Headers = hs
	}
	if s.Body != "" && s.Headers["content-type"] == "" && err == nil {
		if ct := sampleContentType(s.Body); ct != "" {
			if s.Headers == nil {
				s.Headers = map[string]string{}
			}
			s.Headers["content-type"] = ct
			f.HeadersSample = headerLines(s.Headers)
		}
	}
	if s.Headers == nil && s.Query == "" && s.Body == "" {
		return nil
	}
	return s
}

// sampleContentType is the content type a body sample's text calls for.
func sampleContentType(body string) string {
	t := strings.TrimSpace(body)
	switch {
	case t == "":
		return ""
	case strings.HasPrefix(t, "{") || strings.HasPrefix(t, "["):
		return "application/json"
	case strings.HasPrefix(t, "<"):
		return "application/xml"
	case engine.SampleKind(t) == engine.SampleQuery:
		return "application/x-www-form-urlencoded"
	}
	return "text/plain"
}

// secretHeaders are the request headers of a workflow whose value is a
// secret (a token verification's header), lower-cased: they are redacted
// wherever a request is shown or kept as a sample.
func secretHeaders(d *engine.Document) []string {
	if v := d.Trigger.Verify; v != nil && v.Type == "token" && v.Header != "" {
		return []string{strings.ToLower(v.Header)}
	}
	return nil
}

// redactHeaders returns the headers with the secret ones' values replaced.
func redactHeaders(hs []engine.HeaderValue, secret []string) []engine.HeaderValue {
	if len(secret) == 0 {
		return hs
	}
	out := slices.Clone(hs)
	for i := range out {
		if slices.Contains(secret, strings.ToLower(out[i].Name)) {
			out[i].Value = "[redacted]"
		}
	}
	return out
}

// sampleFromRequest fills the three sample boxes from a request (captured,
// or an execution's): credentials and connection headers are left out,
// and a token header redacted, so that the document keeps no password.
func sampleFromRequest(f *views.TriggerForm, req *engine.Request, secret []string) {
	hs := map[string]string{}
	for _, h := range redactHeaders(req.Headers, secret) {
		k := strings.ToLower(h.Name)
		if slices.Contains(transportHeaders, k) || k == "authorization" || k == "proxy-authorization" || k == "cookie" {
			continue
		}
		if old, dup := hs[k]; dup {
			hs[k] = old + ", " + h.Value
			continue
		}
		hs[k] = h.Value
	}
	f.HeadersSample = headerLines(hs)
	f.QuerySample = req.Query
	f.BodySample = strings.ToValidUTF8(string(req.Body), "\uFFFD")
}

// parseHeadersSample lists the header names of the headers sample (those
// about the connection left out) and merges them into the header rows.
func parseHeadersSample(f *views.TriggerForm) bool {
	const errKey = "sample-headers"
	f.Focus = "parse-headers"
	if strings.TrimSpace(f.HeadersSample) == "" {
		f.Errors[errKey] = "Paste the request's headers first, one per line: Name: value."
		return false
	}
	_, names, err := parseHeaderLines(f.HeadersSample)
	if err != nil {
		f.Errors[errKey] = err.Error()
		return false
	}
	var paths []string
	for _, n := range names {
		if !slices.Contains(transportHeaders, strings.ToLower(n)) {
			paths = append(paths, n)
		}
	}
	rows, added := mergeFields(f.Headers, paths, headerKey)
	f.Headers = rows
	f.Parsed["headers"] = fmt.Sprintf("Found %d %s; added %d new %s. Save the settings to keep them and the sample.",
		len(paths), editorPlural(len(paths), "header", "headers"), added, editorPlural(added, "row", "rows"))
	return true
}

// headerKey is a header name's key: names match without regard to case.
func headerKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// useSamples fills the form's samples from a request and parses all three
// parts, as "Use as samples" does; what it found is flashed.
func useSamples(f *views.TriggerForm, req *engine.Request, secret []string, from string) string {
	sampleFromRequest(f, req, secret)
	var found []string
	if strings.TrimSpace(f.HeadersSample) != "" && parseHeadersSample(f) {
		found = append(found, "headers")
	}
	if strings.TrimSpace(f.QuerySample) != "" && parseSample(f, "query") {
		found = append(found, "query")
	}
	if strings.TrimSpace(f.BodySample) != "" && engine.SampleKind(f.BodySample) != "" && jsonScalarKind(f.BodySample) == "" {
		if parseSample(f, "body") {
			found = append(found, "body")
		}
	}
	f.Focus = "sec-fields"
	msg := "Samples taken from " + from
	if len(found) > 0 {
		msg += "; fields parsed from the " + strings.Join(found, ", ")
	}
	return msg + ". Save the settings to keep them."
}
