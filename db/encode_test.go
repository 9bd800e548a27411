package db

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The hand-written encoders of the hot path must store exactly what
// encoding/json would, so that rows written before and after them read
// alike.
func TestStoredEncodingMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 27, 5, 25, 55, 340822487, time.UTC)
	jobs := [][]engine.Job{
		{},
		{{NodeKey: "paid", NodeType: "condition", Status: engine.JobResolved, Result: []byte("true"), Branch: "yes", StartedAt: at, Duration: 3996}},
		{
			{NodeKey: "r", NodeType: "response", Status: engine.JobResolved, Result: []byte(`{"status": 200, "b": [1, 2]}`), StartedAt: at.In(time.FixedZone("x", 3600))},
			{NodeKey: "x-1", NodeType: "test", Status: engine.JobError, Error: "bad <input> & \"quotes\"\n\u2028\xff", StartedAt: time.Time{}, Duration: -1},
			{NodeKey: "é", NodeType: "end", Status: engine.JobFailed, Result: nil, StartedAt: at.Round(time.Second)},
		},
		{
			{NodeKey: "html", NodeType: "t", Status: engine.JobResolved, Result: []byte(`{"html":"<b>&amp;</b>","sep":"  "}`), StartedAt: at},
			{NodeKey: "ctl", NodeType: "t", Status: engine.JobError, Result: []byte(`"tab\tbell\u0007"`), Error: "a\bb\fc\x01\u2028", StartedAt: at},
			{NodeKey: "spaced", NodeType: "t", Status: engine.JobResolved, Result: []byte("[ 1 ,\n {\"a\" : \"<\"} ]"), StartedAt: at},
		},
	}
	for _, js := range jobs {
		got, err := encodeJobs(js)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(js)
		if err != nil {
			t.Fatal(err)
		}
		if got.String != string(want) || !got.Valid {
			t.Errorf("jobs\n got %s\nwant %s", got.String, want)
		}
	}
	if got, err := encodeJobs(nil); err != nil || got.Valid {
		t.Errorf("nil jobs: %+v %v", got, err)
	}
	if _, err := encodeJobs([]engine.Job{{NodeKey: "bad", Result: []byte(`{"a":`)}}); err == nil {
		t.Error("a result that is not JSON was stored")
	}

	for _, r := range []*engine.Response{
		{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")},
		{Status: 422, Headers: []engine.HeaderValue{{Name: "X-Order", Value: "1<2>&3"}, {Name: "X-Empty"}}, ContentType: "application/json", Body: []byte(`{"ok":false}`)},
		{Status: 500, Body: []byte("\xff\xfe binary \x00")},
		{Status: 200, ContentType: "text/plain", Body: []byte("a\bb\fc\td\u2028<&>")},
	} {
		got, err := encodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		h := r.Headers
		if h == nil {
			h = []engine.HeaderValue{}
		}
		want, err := json.Marshal(storedResponse{Status: r.Status, Headers: h, ContentType: r.ContentType, Body: string(r.Body)})
		if err != nil {
			t.Fatal(err)
		}
		if got.String != string(want) {
			t.Errorf("response\n got %s\nwant %s", got.String, want)
		}
		back, err := decodeResponse(got)
		if err != nil || back.Status != r.Status || back.ContentType != r.ContentType {
			t.Errorf("decoded %+v %v", back, err)
		}
	}
}
