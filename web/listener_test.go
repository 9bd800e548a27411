package web

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestListenerCloseSilent(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw)
	defer ln.Close()

	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	silent, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	talker, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer talker.Close()
	var server [2]net.Conn
	for i := range server {
		select {
		case server[i] = <-accepted:
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
		}
	}
	// The talker sends a byte, which the server reads.
	if _, err := talker.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	talked := server[0]
	if server[0].RemoteAddr().String() != talker.LocalAddr().String() {
		talked = server[1]
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(talked, buf); err != nil {
		t.Fatal(err)
	}

	if n := ln.CloseSilent(); n != 1 {
		t.Fatalf("CloseSilent closed %d connections, want 1 (only the silent one)", n)
	}
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(buf); err == nil {
		t.Error("the silent connection is still open")
	}
	// The talking connection still works.
	if _, err := talked.Write([]byte("x")); err != nil {
		t.Fatalf("talking connection closed: %v", err)
	}
	talker.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(talker, buf); err != nil || buf[0] != 'x' {
		t.Errorf("talking connection: %q %v", buf, err)
	}
	if n := ln.CloseSilent(); n != 0 {
		t.Errorf("second CloseSilent closed %d, want 0", n)
	}
}
