package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves Go's runtime profiles (net/http/pprof) on their own
// listener at addr, apart from the API: they are unauthenticated and reveal
// internals (though no memory contents, and not the command line), so they
// are off unless the operator names an address, and a non-loopback address
// is logged as a warning. The returned function stops the listener.
func startPprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof_listen %s: %w", addr, err)
	}
	if ip := net.ParseIP(hostOf(ln.Addr())); ip == nil || !ip.IsLoopback() {
		log.Warn("pprof profiles are served unauthenticated on a non-loopback address", "address", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, goroutine, allocs, block, mutex, threadcreate
	// Not /debug/pprof/cmdline: the command line may hold a secret
	// (--bootstrap-secret-access-key), and Index answers it with 404.
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: a CPU profile or trace streams for as long as
		// its ?seconds= asks.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof listener", "error", err)
		}
	}()
	log.Info("pprof profiles served", "endpoint", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = srv.Close() }, nil
}

func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return host
}
