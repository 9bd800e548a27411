package engine

import (
	"encoding/json"
	"testing"
	"time"
)

// The hand-written encoders of the hot path must store exactly what
// encoding/json would, so that rows written before and after them read
// alike.
func TestStoredEncodingMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 27, 5, 25, 55, 340822487, time.UTC)
	jobs := [][]Job{
		{},
		{{NodeKey: "paid", NodeType: "condition", Status: JobResolved, Result: []byte("true"), Branch: "yes", StartedAt: at, Duration: 3996}},
		{
			{NodeKey: "r", NodeType: "response", Status: JobResolved, Result: []byte(`{"status": 200, "b": [1, 2]}`), StartedAt: at.In(time.FixedZone("x", 3600))},
			{NodeKey: "x-1", NodeType: "test", Status: JobError, Error: "bad <input> & \"quotes\"\n\u2028\xff", StartedAt: time.Time{}, Duration: -1},
			{NodeKey: "é", NodeType: "end", Status: JobFailed, Result: nil, StartedAt: at.Round(time.Second)},
		},
		{
			{NodeKey: "html", NodeType: "t", Status: JobResolved, Result: []byte(`{"html":"<b>&amp;</b>","sep":"  "}`), StartedAt: at},
			{NodeKey: "ctl", NodeType: "t", Status: JobError, Result: []byte(`"tab\tbell\u0007"`), Error: "a\bb\fc\x01\u2028", StartedAt: at},
			{NodeKey: "spaced", NodeType: "t", Status: JobResolved, Result: []byte("[ 1 ,\n {\"a\" : \"<\"} ]"), StartedAt: at},
		},
	}
	for _, js := range jobs {
		got, err := EncodeJobs(js)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(js)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) || got == nil {
			t.Errorf("jobs\n got %s\nwant %s", got, want)
		}
	}
	if got, err := EncodeJobs(nil); err != nil || got != nil {
		t.Errorf("nil jobs: %+v %v", got, err)
	}
	if _, err := EncodeJobs([]Job{{NodeKey: "bad", Result: []byte(`{"a":`)}}); err == nil {
		t.Error("a result that is not JSON was stored")
	}

	for _, r := range []*Response{
		{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")},
		{Status: 422, Headers: []HeaderValue{{Name: "X-Order", Value: "1<2>&3"}, {Name: "X-Empty"}}, ContentType: "application/json", Body: []byte(`{"ok":false}`)},
		{Status: 500, Body: []byte("\xff\xfe binary \x00")},
		{Status: 200, ContentType: "text/plain", Body: []byte("a\bb\fc\td\u2028<&>")},
	} {
		got := EncodeResponse(r)
		h := r.Headers
		if h == nil {
			h = []HeaderValue{}
		}
		want, err := json.Marshal(storedResponse{Status: r.Status, Headers: h, ContentType: r.ContentType, Body: string(r.Body)})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("response\n got %s\nwant %s", got, want)
		}
		back, err := DecodeResponse(got)
		if err != nil || back.Status != r.Status || back.ContentType != r.ContentType {
			t.Errorf("decoded %+v %v", back, err)
		}
	}
}
