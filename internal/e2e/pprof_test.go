package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

// TestPprofListener checks that pprof_listen serves Go's profiles on its
// own address, and that the API listener never serves them.
func TestPprofListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.PprofListen = addr }})

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + addr + "/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("pprof heap: status %d, body %.80q", code, body)
	}
	if code, body := get("http://" + addr + "/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof goroutine: status %d, body %.80q", code, body)
	}
	// The command line may carry a secret flag; it is not served.
	if code, body := get("http://" + addr + "/debug/pprof/cmdline"); code == http.StatusOK || strings.Contains(body, "-test.") {
		t.Errorf("pprof cmdline served: status %d, body %.80q", code, body)
	}
	if code, body := get(srv.Endpoint + "/debug/pprof/heap?debug=1"); code == http.StatusOK || strings.Contains(body, "heap profile") {
		t.Errorf("the API listener served a profile: status %d", code)
	}
}
