package engine_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestCaptureListenAndOffer(t *testing.T) {
	t.Parallel()
	h := engine.NewCaptures()
	now := time.Unix(1_700_000_000, 0)
	h.SetClock(func() time.Time { return now })

	// Nobody listens: an offer is dropped.
	h.Offer("k1", &engine.Request{Method: "POST", Body: []byte("early")})
	c, err := h.Listen(1, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ID) != 32 || !c.Deadline.Equal(now.Add(engine.ListenFor)) || c.Request != nil {
		t.Fatalf("listen: %+v", c)
	}
	other, _ := h.Listen(2, "k2")

	body := []byte(`{"n":1}`)
	req := &engine.Request{Method: "POST", Query: "a=1", Headers: []engine.HeaderValue{{Name: "Content-Type", Value: "application/json"}}, Body: body}
	now = now.Add(10 * time.Second)
	h.Offer("k1", req)
	body[2] = 'X' // the capture holds a copy

	got, err := h.Get(1, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Request == nil || string(got.Request.Body) != `{"n":1}` || got.Request.Query != "a=1" || got.Request.ContentType() != "application/json" ||
		!got.CapturedAt.Equal(now) || got.BodySize != 7 || got.BodyTruncated {
		t.Fatalf("captured: %+v", got)
	}
	// The first request only: a second one leaves the capture as it was.
	h.Offer("k1", &engine.Request{Method: "POST", Body: []byte("second")})
	if got, _ := h.Get(1, c.ID); string(got.Request.Body) != `{"n":1}` {
		t.Errorf("a second request replaced the first: %q", got.Request.Body)
	}
	// Another workflow's listen saw nothing, and ids are per workflow.
	if o, _ := h.Get(2, other.ID); o.Request != nil {
		t.Error("a listen of another workflow captured the request")
	}
	if _, err := h.Get(2, c.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("another workflow's listen: %v", err)
	}
	if list := h.Captured(1); len(list) != 1 || list[0].ID != c.ID {
		t.Errorf("captured list: %+v", list)
	}

	// Time runs out: a waiting listen is over but says so for a while,
	// then it is forgotten; so is the captured request.
	now = now.Add(engine.ListenFor)
	if o, err := h.Get(2, other.ID); err != nil || o.Waiting(now) || o.Request != nil {
		t.Errorf("timed-out listen: %+v %v", o, err)
	}
	now = now.Add(engine.CaptureKeep)
	if _, err := h.Get(1, c.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("old capture still kept: %v", err)
	}
	if _, err := h.Get(2, other.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("old listen still kept: %v", err)
	}
}

func TestCaptureBounds(t *testing.T) {
	t.Parallel()
	h := engine.NewCaptures()
	c, _ := h.Listen(1, "k")
	big := bytes.Repeat([]byte("a"), engine.MaxCaptureBody+10)
	h.Offer("k", &engine.Request{Method: "POST", Body: big})
	got, _ := h.Get(1, c.ID)
	if len(got.Request.Body) != engine.MaxCaptureBody || !got.BodyTruncated || got.BodySize != len(big) {
		t.Errorf("big body: kept %d of %d, truncated %v", len(got.Request.Body), got.BodySize, got.BodyTruncated)
	}

	for i := 0; i < engine.MaxListensPerWorkflow; i++ {
		if _, err := h.Listen(2, "k2"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Listen(2, "k2"); engine.ErrorCode(err) != engine.ETOOMANY {
		t.Errorf("listen over the per-workflow bound: %v", err)
	}
	// A stopped listen is gone and makes room.
	stopped, _ := h.Listen(3, "k3")
	h.Stop(3, stopped.ID)
	if _, err := h.Get(3, stopped.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("stopped listen: %v", err)
	}
	h.Offer("k3", &engine.Request{Method: "POST"})

	// The whole hub is bounded: captured requests make room for listens,
	// waiting listens do not.
	h2 := engine.NewCaptures()
	for i := 0; i < engine.MaxCaptures; i++ {
		if _, err := h2.Listen(int64(i), "key"+strings.Repeat("x", i%3)); err != nil {
			t.Fatalf("listen %d: %v", i, err)
		}
	}
	if _, err := h2.Listen(999, "other"); engine.ErrorCode(err) != engine.ETOOMANY {
		t.Errorf("listen over the hub bound: %v", err)
	}
	h2.Offer("key", &engine.Request{Method: "POST"})
	if _, err := h2.Listen(999, "other"); err != nil {
		t.Errorf("listen after captures freed room: %v", err)
	}
}

// TestCaptureConcurrent: many requests and listens at once (run with
// -race); every listen gets exactly one request.
func TestCaptureConcurrent(t *testing.T) {
	t.Parallel()
	h := engine.NewCaptures()
	var ids []string
	for i := 0; i < 4; i++ {
		c, err := h.Listen(1, "k")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Offer("k", &engine.Request{Method: "POST", Body: []byte("x")})
			h.Captured(1)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if c, err := h.Get(1, id); err != nil || c.Request == nil {
			t.Errorf("listen %s: %+v %v", id, c, err)
		}
	}
}

// BenchmarkCaptureOfferIdle is the webhook path's cost when nobody
// listens.
func BenchmarkCaptureOfferIdle(b *testing.B) {
	h := engine.NewCaptures()
	req := &engine.Request{Method: "POST", Body: []byte("x")}
	for b.Loop() {
		h.Offer("k", req)
	}
}
