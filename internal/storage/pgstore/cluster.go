package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openkms/openkms/internal/storage"
)

// Listener reconnection and liveness.
const (
	// listenPing is how long a listener waits for a notification before it
	// checks that its connection still works.
	listenPing = 30 * time.Second
	// listenMaxBackoff caps the delay between reconnection attempts.
	listenMaxBackoff = 5 * time.Second
)

// channelName maps a channel of this store to a PostgreSQL channel: it is
// prefixed with the schema, so that stores in different schemas of one
// database do not hear each other.
func (s *Store) channelName(channel string) (string, error) {
	name := s.schema + "." + channel
	switch {
	case channel == "":
		return "", errors.New("pgstore: empty channel name")
	case len(name) > maxIdentLen || !storable(name):
		return "", fmt.Errorf("pgstore: channel %q: schema and channel names must be at most %d bytes of UTF-8 together", channel, maxIdentLen-1)
	}
	return name, nil
}

// Notify sends payload to the listeners of channel in every Store on this
// database and schema, this one included. It is sent at once, in a
// transaction of its own; PostgreSQL limits payloads to 8000 bytes. Errors
// wrap ErrUnavailable, ctx.Err() or storage.ErrClosed as for Update.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	name, err := s.channelName(channel)
	if err != nil {
		return err
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	conn, err := s.pool.acquire(ctx)
	if err != nil {
		return classify(ctx, "notify", nil, err)
	}
	_, err = conn.Exec(ctx, "SELECT pg_notify($1, $2)", name, payload)
	s.pool.release(conn)
	if err != nil {
		return classify(ctx, "notify", conn, err)
	}
	return nil
}

// listener is one Listen subscription.
type listener struct {
	s       *Store
	channel string // the PostgreSQL channel
	fn      func(payload string)
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// Listen calls fn with the payload of every notification sent to channel
// (see Notify) from the moment Listen returns until stop is called or the
// Store is closed. fn runs on one goroutine, one notification at a time, in
// the order PostgreSQL delivers them; a slow fn delays the next ones.
//
// The subscription has its own connection. When that connection fails (for
// example because the server restarted) Listen reconnects with backoff and
// subscribes again; notifications sent while it was disconnected are lost,
// so a caller that caches state should refresh it rather than rely on
// seeing every notification.
//
// ctx bounds the first connection only. Listen fails with an error wrapping
// ErrUnavailable if it cannot connect, or storage.ErrClosed after Close.
// stop waits for fn to return and may be called more than once, but not from
// fn.
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) (stop func(), err error) {
	name, err := s.channelName(channel)
	if err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, errors.New("pgstore: listen: nil callback")
	}
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	conn, err := s.listenConn(ctx, name)
	s.inflight.Done()
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, channel: name, fn: fn, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		closeConn(conn)
		return nil, fmt.Errorf("pgstore: listen: %w", storage.ErrClosed)
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	go l.run(lctx, conn)
	return l.stop, nil
}

// listenConn opens a connection subscribed to the PostgreSQL channel name.
func (s *Store) listenConn(ctx context.Context, name string) (*pgx.Conn, error) {
	conn, err := connect(ctx, s.cfg)
	if err != nil {
		return nil, classify(ctx, "listen", nil, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{name}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, classify(ctx, "listen", conn, err)
	}
	return conn, nil
}

func (l *listener) stop() {
	l.once.Do(func() {
		l.cancel()
		<-l.done
		l.s.mu.Lock()
		delete(l.s.listeners, l)
		l.s.mu.Unlock()
	})
}

// run delivers notifications until ctx is cancelled, reconnecting when the
// connection fails.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	defer func() {
		if conn != nil {
			closeConn(conn)
		}
	}()
	failures := 0
	for {
		if conn == nil {
			d := min(listenMaxBackoff, 50*time.Millisecond<<min(failures, 10))
			if sleep(ctx, d) != nil {
				return
			}
			c, err := l.s.listenConn(ctx, l.channel)
			if err != nil {
				failures++
				continue
			}
			conn, failures = c, 0
		}
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			l.fn(n.Payload)
			continue
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// Quiet for a while: check that the connection still works.
			pctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return
			}
		}
		closeConn(conn)
		conn = nil
	}
}

// heldLock is a lock taken by TryLock.
type heldLock struct {
	s    *Store
	conn *pgx.Conn
	key  int64
	once sync.Once
}

// TryLock tries to take the cluster-wide lock called name without waiting.
// It returns ok true and an unlock function if it got the lock, ok false if
// another session (in this Store or another) holds it. The lock is a
// PostgreSQL session advisory lock on a dedicated connection: it is released
// by unlock, by Close, or by the server when that connection dies, so a
// crashed node cannot keep it. A holder is not told when its connection
// dies, so the lock suits run-once jobs whose double execution is harmless
// but wasteful, not mutual exclusion that correctness depends on.
//
// unlock may be called more than once. Errors wrap ErrUnavailable, ctx.Err()
// or storage.ErrClosed as for Update.
func (s *Store) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, false, err
	}
	defer s.inflight.Done()
	conn, err := connect(ctx, s.cfg)
	if err != nil {
		return nil, false, classify(ctx, "trylock", nil, err)
	}
	key := advisoryKey(s.schema, "lock", name)
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		closeConn(conn)
		return nil, false, classify(ctx, "trylock", conn, err)
	}
	if !got {
		closeConn(conn)
		return nil, false, nil
	}
	h := &heldLock{s: s, conn: conn, key: key}
	s.mu.Lock()
	if s.closed { // Close ran meanwhile and did not see this lock
		s.mu.Unlock()
		h.unlock()
		return nil, false, fmt.Errorf("pgstore: trylock: %w", storage.ErrClosed)
	}
	s.locks[h] = struct{}{}
	s.mu.Unlock()
	return h.unlock, true, nil
}

// unlock releases the lock before closing the connection: the server
// releases a dead session's locks only once its backend has exited, which
// happens after Close returns.
func (h *heldLock) unlock() {
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = h.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", h.key)
		closeConn(h.conn)
		h.s.mu.Lock()
		delete(h.s.locks, h)
		h.s.mu.Unlock()
	})
}
