package web

import (
	"net"
	"sync"
	"sync/atomic"
)

// Listener wraps a net.Listener to know which connections have not sent a
// single byte yet. fasthttp's graceful shutdown closes keep-alive
// connections between requests, but waits for such silent new ones (HTTP
// clients open spare connections) until the read timeout cuts them off;
// CloseSilent ends that wait at once. Connections that have sent bytes are
// left to fasthttp, which lets their requests finish.
type Listener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// NewListener wraps ln.
func NewListener(ln net.Listener) *Listener {
	return &Listener{Listener: ln, conns: map[*trackedConn]struct{}{}}
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// CloseSilent closes every connection that has not sent a byte yet and
// returns how many.
func (l *Listener) CloseSilent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for c := range l.conns {
		if !c.spoke.Load() {
			c.Conn.Close()
			delete(l.conns, c)
			n++
		}
	}
	return n
}

type trackedConn struct {
	net.Conn
	l     *Listener
	spoke atomic.Bool
	once  sync.Once
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.spoke.Load() {
		c.spoke.Store(true)
		c.forget()
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.forget()
	return c.Conn.Close()
}

func (c *trackedConn) forget() {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
}
