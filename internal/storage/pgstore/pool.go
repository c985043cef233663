package pgstore

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/openkms/openkms/internal/storage"
)

// pool is a small bounded pool of connections for transactions.
//
// (pgxpool would need github.com/jackc/puddle/v2 and golang.org/x/sync in
// go.mod; the store needs little of it: a bound, reuse of healthy idle
// connections, and dropping broken ones, which begin detects and retries.)
type pool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection in use or being dialled

	mu     sync.Mutex
	idle   []*pgx.Conn // most recently used last
	closed bool
}

func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, size)}
}

// acquire returns an idle connection, or dials a new one, waiting while
// every slot is in use. The caller must pass the connection to release.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, storage.ErrClosed
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if !c.IsClosed() {
			p.mu.Unlock()
			return c, nil
		}
	}
	p.mu.Unlock()
	c, err := connect(ctx, p.cfg)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// release returns c to the pool, or closes it if it is broken, still in a
// transaction, or the pool is closed.
func (p *pool) release(c *pgx.Conn) {
	defer func() { <-p.slots }()
	if !c.IsClosed() && c.PgConn().TxStatus() == 'I' {
		p.mu.Lock()
		if !p.closed {
			p.idle = append(p.idle, c)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	closeConn(c)
}

// discardIdle closes the idle connections. begin calls it when a pooled
// connection turned out to be broken: after a server restart all of them
// are.
func (p *pool) discardIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
	}
}

// close closes the idle connections and makes acquire fail; connections in
// use are closed when they are released.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.discardIdle()
}

// connect dials a new connection. pgx copies cfg, so concurrent calls may
// share it.
func connect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, cfg)
}

// closeConn closes c, waiting at most cleanupTimeout.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = c.Close(ctx)
}
