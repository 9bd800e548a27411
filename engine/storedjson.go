package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// The stored forms of jobs and replies are defined here, once, for every
// store: the SQLite and the PostgreSQL stores keep the same JSON, so that
// an execution reads alike from either (and a future copy between them is
// a copy of text).

// storedResponse is the JSON form of a stored reply.
type storedResponse struct {
	Status      int           `json:"status"`
	Headers     []HeaderValue `json:"headers"`
	ContentType string        `json:"contentType"`
	Body        string        `json:"body"`
}

// EncodeResponse returns the stored JSON form of a reply (nil for none),
// written by hand: it runs once per execution, on the hot path, and gives
// the bytes encoding/json would (TestStoredEncodingMatchesEncodingJSON).
func EncodeResponse(r *Response) []byte {
	if r == nil {
		return nil
	}
	b := make([]byte, 0, 64+len(r.ContentType)+len(r.Body)+len(r.Headers)*32)
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = AppendJSONString(b, h.Name)
		b = append(b, `,"value":`...)
		b = AppendJSONString(b, h.Value)
		b = append(b, '}')
	}
	b = append(b, `],"contentType":`...)
	b = AppendJSONString(b, r.ContentType)
	b = append(b, `,"body":`...)
	b = AppendJSONString(b, string(r.Body))
	b = append(b, '}')
	return b
}

// DecodeResponse reads a stored reply; empty input is no reply.
func DecodeResponse(b []byte) (*Response, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var r storedResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &Response{Status: r.Status, Headers: r.Headers, ContentType: r.ContentType, Body: []byte(r.Body)}, nil
}

// EncodeJobs returns jobs as the JSON array encoding/json would give for
// []Job (nil for nil jobs), written by hand for the hot path. A result that
// is not valid JSON (a node kind's bug) is an error, as it is for
// encoding/json.
func EncodeJobs(jobs []Job) ([]byte, error) {
	if jobs == nil {
		return nil, nil
	}
	b := make([]byte, 0, len(jobs)*200)
	b = append(b, '[')
	for i := range jobs {
		j := &jobs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"nodeKey":`...)
		b = AppendJSONString(b, j.NodeKey)
		b = append(b, `,"nodeType":`...)
		b = AppendJSONString(b, j.NodeType)
		b = append(b, `,"status":`...)
		b = AppendJSONString(b, string(j.Status))
		b = append(b, `,"result":`...)
		switch {
		case len(j.Result) == 0:
			b = append(b, "null"...)
		case !gjson.ValidBytes(j.Result):
			return nil, fmt.Errorf("job %s: result is not valid JSON", j.NodeKey)
		default:
			b = appendCompactRaw(b, j.Result)
		}
		if j.Branch != "" {
			b = append(b, `,"branch":`...)
			b = AppendJSONString(b, j.Branch)
		}
		if j.Error != "" {
			b = append(b, `,"error":`...)
			b = AppendJSONString(b, j.Error)
		}
		b = append(b, `,"startedAt":"`...)
		b = j.StartedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","durationNs":`...)
		b = strconv.AppendInt(b, int64(j.Duration), 10)
		if !j.DueAt.IsZero() {
			b = append(b, `,"dueAt":"`...)
			b = j.DueAt.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		}
		// Request nodes' records are rarer and richer: encoding/json.
		if j.Request != nil {
			r, err := json.Marshal(j.Request)
			if err != nil {
				return nil, fmt.Errorf("job %s: request: %w", j.NodeKey, err)
			}
			b = append(b, `,"request":`...)
			b = append(b, r...)
		}
		if len(j.Attempts) > 0 {
			a, err := json.Marshal(j.Attempts)
			if err != nil {
				return nil, fmt.Errorf("job %s: attempts: %w", j.NodeKey, err)
			}
			b = append(b, `,"attempts":`...)
			b = append(b, a...)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	return b, nil
}

// DecodeJobs reads stored jobs; empty input is no jobs.
func DecodeJobs(b []byte) ([]Job, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var jobs []Job
	if err := json.Unmarshal(b, &jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

// appendCompactRaw appends valid JSON as encoding/json does for a
// json.RawMessage: compacted, with <, >, &, U+2028 and U+2029 escaped.
// Results are usually compact and plain already, and are copied as they
// are; the others go through encoding/json.
func appendCompactRaw(dst, src []byte) []byte {
	if bytes.IndexAny(src, " \t\r\n<>&\xe2") < 0 {
		return append(dst, src...)
	}
	b, err := json.Marshal(json.RawMessage(src))
	if err != nil {
		return append(dst, src...)
	}
	return append(dst, b...)
}
