package server

import (
	"net"
	"sync"
)

// DefaultMaxConnections bounds the client connections held at once when the
// configuration does not.
const DefaultMaxConnections = 4096

// limitListener accepts at most cap(slots) connections at once: Accept
// waits for a slot, and closing a connection frees it. Connections beyond
// the limit wait in the kernel's listen backlog, so idle keep-alive
// connections and slow clients cannot grow memory without bound (each held
// connection costs a goroutine and its buffers); the server's timeouts
// (header read, idle) close the ones that hold a slot for nothing.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn frees its slot once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
