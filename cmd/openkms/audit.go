package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/openkms/openkms/internal/audit"
)

const auditHelp = `Usage: openkms admin audit COMMAND --dir DIR [flags]

Offline tools for the audit log: the files in the server's audit directory
(audit_dir, default DATA_DIR/audit). They only read the files, so they are
safe to run while a server writes them. See docs/AUDIT.md.

Commands:
  verify      check the hash chain and the signed digests; exit 1 on tampering
  query       list events by key, principal, action, outcome and time
  public-key  print the public key that verifies the digests

Examples:
  # once: keep a copy of the public key away from the server
  openkms admin audit public-key --dir ./openkms-data/audit > /secure/openkms-audit.pub.pem
  openkms admin audit verify --dir ./openkms-data/audit --public-key /secure/openkms-audit.pub.pem
  openkms admin audit query --dir ./openkms-data/audit --key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  openkms admin audit query --dir ./openkms-data/audit --outcome denied --from 2026-11-28T00:00:00Z --json

Run 'openkms admin audit COMMAND --help' for a command's flags.
`

const auditVerifyHelp = `Usage: openkms admin audit verify --dir DIR [--public-key FILE]

Checks every audit file in DIR: each record's hash, the chain of hashes
(deleted, inserted, reordered or re-hashed records), missing files, and the
Ed25519 signature of every digest. Prints a summary and one line per issue
(severity, kind, seq, file and line). Warnings (a torn last line after a
crash, a file still open, records not yet signed) do not fail the check.

Exit status: 0 if no error was found, 1 if the log was tampered with or
could not be read, 2 for a usage error.

The public key defaults to DIR/audit-signing-key.pub.pem. Anyone who can
rewrite the log can rewrite that file too: pin a copy elsewhere (see
'openkms admin audit public-key') and pass it with --public-key.

Examples:
  openkms admin audit verify --dir ./openkms-data/audit --public-key /secure/openkms-audit.pub.pem
  openkms admin audit verify --dir /var/lib/openkms/audit

Flags:
`

const auditQueryHelp = `Usage: openkms admin audit query --dir DIR [filters] [--json]

Prints the audit events that match every filter given, in log order, as a
table (TIME, OUTCOME, ACTION, PRINCIPAL, KEY, SOURCE IP, ERROR) or, with
--json, as one CloudTrail-shaped JSON record per line. It does not verify
the log: run 'openkms admin audit verify' for that.

Examples:
  openkms admin audit query --dir ./openkms-data/audit --key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  openkms admin audit query --dir ./openkms-data/audit --principal arn:aws:iam::111122223333:user/alice --action Decrypt
  openkms admin audit query --dir ./openkms-data/audit --outcome denied --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z --json

Flags:
`

const auditPublicKeyHelp = `Usage: openkms admin audit public-key --dir DIR

Prints the audit signing public key (PEM) stored in DIR. Save it somewhere
the server cannot write, and verify with --public-key.

Example:
  openkms admin audit public-key --dir ./openkms-data/audit > /secure/openkms-audit.pub.pem

Flags:
`

// runAudit runs 'openkms admin audit ...'.
func runAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditHelp)
		return 2
	}
	switch args[0] {
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, auditHelp)
		return 0
	case "verify":
		return runAuditVerify(args[1:], stdout, stderr)
	case "query":
		return runAuditQuery(args[1:], stdout, stderr)
	case "public-key":
		return runAuditPublicKey(args[1:], stdout, stderr)
	}
	return failf(stderr, 2, "run 'openkms admin audit help' for the list of commands", "unknown audit command %q", args[0])
}

func runAuditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dir := fs.String("dir", "", "audit directory (the server's audit_dir, default DATA_DIR/audit)")
	pubFile := fs.String("public-key", "", "PEM public key to verify with (default DIR/"+audit.PublicKeyFile+")")
	if code, ok := parseFlags(fs, args, auditVerifyHelp, stdout, stderr); !ok {
		return code
	}
	if *dir == "" {
		return failf(stderr, 2, "pass --dir DIR, the server's audit directory (default DATA_DIR/audit)", "no audit directory")
	}
	if *pubFile == "" {
		*pubFile = filepath.Join(*dir, audit.PublicKeyFile)
		fmt.Fprintf(stderr, "openkms: warning: verifying with the public key stored in the audit directory (%s); "+
			"whoever can rewrite the log can replace it too. Pin a copy elsewhere and pass --public-key.\n", *pubFile)
	}
	pem, err := os.ReadFile(*pubFile)
	if err != nil {
		return failf(stderr, 1, "pass --public-key FILE with the audit public key ('openkms admin audit public-key' prints it)", "reading the public key: %v", err)
	}
	pub, err := audit.ParsePublicKeyPEM(pem)
	if err != nil {
		return failf(stderr, 1, "pass --public-key FILE with the PEM from 'openkms admin audit public-key'", "%s: %v", *pubFile, err)
	}
	rep, err := audit.Verify(*dir, pub)
	if err != nil {
		return failf(stderr, 1, "check --dir and its permissions", "reading the audit log: %v", err)
	}
	if len(rep.Files) == 0 {
		return failf(stderr, 1, "is --dir the server's audit directory (audit_dir, default DATA_DIR/audit)?", "no audit files in %s", *dir)
	}
	fmt.Fprint(stdout, rep.String())
	if !rep.OK() {
		n := 0
		for _, is := range rep.Issues {
			if is.Severity == audit.SeverityError {
				n++
			}
		}
		return failf(stderr, 1, "each error line names the record (seq, file, line); keep the files unchanged as evidence",
			"the audit log in %s failed verification: %d error issue(s)", *dir, n)
	}
	return 0
}

func runAuditQuery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit query", flag.ContinueOnError)
	dir := fs.String("dir", "", "audit directory (the server's audit_dir, default DATA_DIR/audit)")
	key := fs.String("key", "", "only events on this key `ARN`")
	who := fs.String("principal", "", "only events by this principal (`ARN`, principal id, access key id or user name)")
	action := fs.String("action", "", "only this `operation` (Encrypt, kms:Decrypt, ...; any case)")
	outcome := fs.String("outcome", "", "only this outcome: allowed, denied or error")
	from := fs.String("from", "", "only events at or after this `time` (RFC 3339, e.g. 2026-11-28T00:00:00Z)")
	to := fs.String("to", "", "only events before this `time` (RFC 3339)")
	asJSON := fs.Bool("json", false, "print JSON lines (CloudTrail records) instead of a table")
	if code, ok := parseFlags(fs, args, auditQueryHelp, stdout, stderr); !ok {
		return code
	}
	if *dir == "" {
		return failf(stderr, 2, "pass --dir DIR, the server's audit directory (default DATA_DIR/audit)", "no audit directory")
	}
	f := audit.Filter{KeyARN: *key, Principal: *who, Action: *action}
	if *outcome != "" {
		o, err := audit.ParseOutcome(*outcome)
		if err != nil || o == audit.OutcomeUnknown {
			return failf(stderr, 2, "--outcome is one of allowed, denied, error", "invalid outcome %q", *outcome)
		}
		f.Outcome = o
	}
	for _, tf := range []struct {
		flag, val string
		dst       *time.Time
	}{{"from", *from, &f.From}, {"to", *to, &f.To}} {
		if tf.val == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, tf.val)
		if err != nil {
			return failf(stderr, 2, "times are RFC 3339, e.g. 2026-11-28T16:00:00Z", "invalid --%s %q", tf.flag, tf.val)
		}
		*tf.dst = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return failf(stderr, 2, "--from must be before --to", "empty time range")
	}
	if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
		return failf(stderr, 1, "is --dir the server's audit directory (audit_dir, default DATA_DIR/audit)?", "%s is not a readable directory", *dir)
	}

	bad := 0
	events := skipLineErrors(audit.Query(*dir, f), func(e *audit.LineError) {
		bad++
		fmt.Fprintf(stderr, "openkms: warning: %s line %d is not an event record: %v\n", e.File, e.Line, e.Err)
	})
	var err error
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for ev, e := range events {
			if e != nil {
				err = e
				break
			}
			if err = enc.Encode(ev); err != nil {
				break
			}
		}
	} else {
		_, err = audit.WriteTable(stdout, events)
	}
	if err != nil {
		return failf(stderr, 1, "check --dir and its permissions", "reading the audit log: %v", err)
	}
	if bad > 0 {
		return failf(stderr, 1, "run 'openkms admin audit verify --dir "+*dir+"' to check the log", "%d lines could not be read; the results may be incomplete", bad)
	}
	return 0
}

// skipLineErrors passes events through, reporting lines that are not
// events to onBad instead of stopping; other errors are passed through.
func skipLineErrors(events iter.Seq2[audit.Event, error], onBad func(*audit.LineError)) iter.Seq2[audit.Event, error] {
	return func(yield func(audit.Event, error) bool) {
		for ev, err := range events {
			var le *audit.LineError
			if errors.As(err, &le) {
				onBad(le)
				continue
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

func runAuditPublicKey(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit public-key", flag.ContinueOnError)
	dir := fs.String("dir", "", "audit directory (the server's audit_dir, default DATA_DIR/audit)")
	if code, ok := parseFlags(fs, args, auditPublicKeyHelp, stdout, stderr); !ok {
		return code
	}
	if *dir == "" {
		return failf(stderr, 2, "pass --dir DIR, the server's audit directory (default DATA_DIR/audit)", "no audit directory")
	}
	path := filepath.Join(*dir, audit.PublicKeyFile)
	pem, err := os.ReadFile(path)
	if err != nil {
		return failf(stderr, 1, "the server writes it when it first opens the audit log; is --dir its audit directory?", "%v", err)
	}
	if _, err := audit.ParsePublicKeyPEM(pem); err != nil {
		return failf(stderr, 1, "the file is damaged; the server rewrites it from the sealed signing key at start", "%s: %v", path, err)
	}
	_, _ = stdout.Write(pem)
	return 0
}
