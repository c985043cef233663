package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	cases := []struct {
		args      []string
		code      int
		out, err  string
		notOutput string
	}{
		{args: []string{"version"}, code: 0, out: "openkms "},
		{args: []string{"help"}, code: 0, out: "openkms server"},
		{args: nil, code: 2, err: "Usage"},
		{args: []string{"fly"}, code: 2, err: "openkms: error: unknown command"},
		{args: []string{"server", "--help"}, code: 0, out: "--scheduler-interval"},
		{args: []string{"server", "--bogus"}, code: 2, err: "openkms: error:"},
		{args: []string{"server", "--log-level", "loud"}, code: 2, err: "log_level"},
		{args: []string{"server", "extra"}, code: 2, err: "unexpected argument"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code {
			t.Errorf("%v: exit code %d, want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
		}
		if tc.out != "" && !strings.Contains(stdout.String(), tc.out) {
			t.Errorf("%v: stdout %q does not contain %q", tc.args, stdout.String(), tc.out)
		}
		if tc.err != "" && !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("%v: stderr %q does not contain %q", tc.args, stderr.String(), tc.err)
		}
	}
}

func TestServerHelpDocumentsEverySetting(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"server", "--help"}, &stdout, &stderr)
	for _, s := range []string{"listen", "tls_cert", "tls_key", "data_dir", "account_id", "bootstrap_access_key_id",
		"bootstrap_secret_access_key", "regions", "log_level", "log_format", "scheduler_interval", "max_clock_skew", "OPENKMS_LISTEN"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("server --help does not mention %s", s)
		}
	}
}
