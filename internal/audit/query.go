package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// queryMargin is the slack Query allows between an event's time and the
// time its file was opened when it skips files by name.
const queryMargin = 10 * time.Minute

// Filter selects events for Query. Zero fields match everything.
type Filter struct {
	// KeyARN matches an event whose resources include this key ARN.
	KeyARN string
	// Principal matches userIdentity.arn, principalId, accessKeyId or
	// userName.
	Principal string
	// Action matches eventName, case-insensitively; a "kms:" prefix is
	// ignored.
	Action string
	// Outcome matches openkms.outcome; OutcomeUnknown matches any.
	Outcome Outcome
	// From (inclusive) and To (exclusive) bound eventTime.
	From, To time.Time
}

// Match reports whether ev passes f.
func (f Filter) Match(ev Event) bool {
	if f.KeyARN != "" && !hasResource(ev, f.KeyARN) {
		return false
	}
	if p := f.Principal; p != "" {
		id := ev.UserIdentity
		if p != id.ARN && p != id.PrincipalID && p != id.AccessKeyID && p != id.UserName {
			return false
		}
	}
	if f.Action != "" && !strings.EqualFold(strings.TrimPrefix(f.Action, "kms:"), ev.EventName) {
		return false
	}
	if f.Outcome != OutcomeUnknown && f.Outcome != ev.OpenKMS.Outcome {
		return false
	}
	if !f.From.IsZero() && ev.EventTime.Before(f.From.Truncate(time.Second)) {
		return false
	}
	if !f.To.IsZero() && !ev.EventTime.Before(f.To) {
		return false
	}
	return true
}

func hasResource(ev Event, arn string) bool {
	for _, r := range ev.Resources {
		if r.ARN == arn {
			return true
		}
	}
	return false
}

// LineError is yielded by Query for a line that is not an event record.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("audit: %s line %d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// storedEvent decodes a record: the outer fields shadow the Event's
// Parameters, which have no UnmarshalJSON by design.
type storedEvent struct {
	Event
	RecordType        string         `json:"recordType"`
	RequestParameters map[string]any `json:"requestParameters"`
	ResponseElements  map[string]any `json:"responseElements"`
}

// Query returns the events of the log in dir that match f, in log order.
// Digest records and torn last lines are skipped; a line that does not
// decode yields a *LineError (the sequence continues if the consumer does).
// An unreadable directory or file yields an error and ends the sequence.
// Query does not verify the chain: run Verify for that.
func Query(dir string, f Filter) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		files, err := listLogFiles(dir)
		if err != nil {
			yield(Event{}, err)
			return
		}
		for i, lf := range files {
			// A file holds events written before the next file was
			// opened, and an event's time does not follow its write (up to
			// clock steps: queryMargin), so such a file can be skipped.
			if !f.From.IsZero() && i+1 < len(files) && files[i+1].start.Before(f.From.Add(-queryMargin)) {
				continue
			}
			if !queryFile(filepath.Join(dir, lf.name), lf.name, f, yield) {
				return
			}
		}
	}
}

// queryFile yields the matching events of one file; false means stop.
func queryFile(path, name string, f Filter, yield func(Event, error) bool) bool {
	fh, err := os.Open(path)
	if err != nil {
		return yield(Event{}, fmt.Errorf("audit: %w", err))
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 256<<10)
	for n := 1; ; n++ {
		line, complete, tooLong, size, err := readLine(r)
		if err != nil {
			return yield(Event{}, fmt.Errorf("audit: read %s: %w", name, err))
		}
		if size == 0 || !complete {
			return true
		}
		if tooLong {
			if !yield(Event{}, &LineError{File: name, Line: n, Err: fmt.Errorf("line too long")}) {
				return false
			}
			continue
		}
		var se storedEvent
		if err := json.Unmarshal(line, &se); err != nil {
			if !yield(Event{}, &LineError{File: name, Line: n, Err: err}) {
				return false
			}
			continue
		}
		if se.RecordType == digestRecordType {
			continue
		}
		if se.EventVersion == "" || se.OpenKMS.Chain == nil {
			if !yield(Event{}, &LineError{File: name, Line: n, Err: errors.New("not an event record")}) {
				return false
			}
			continue
		}
		ev := se.Event
		ev.RequestParameters = Parameters{m: se.RequestParameters}
		ev.ResponseElements = Parameters{m: se.ResponseElements}
		if f.Match(ev) && !yield(ev, nil) {
			return false
		}
	}
}

// WriteTable writes events as an aligned text table (TIME, OUTCOME, ACTION,
// PRINCIPAL, KEY, SOURCE IP, ERROR) and returns the number of rows. It
// stops at the first error of events and returns it.
func WriteTable(w io.Writer, events iter.Seq2[Event, error]) (int, error) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tOUTCOME\tACTION\tPRINCIPAL\tKEY\tSOURCE IP\tERROR")
	n := 0
	for ev, err := range events {
		if err != nil {
			tw.Flush()
			return n, err
		}
		key := "-"
		if len(ev.Resources) > 0 {
			key = ev.Resources[0].ARN
		}
		who := ev.UserIdentity.ARN
		if who == "" {
			who = ev.UserIdentity.Type
			if ev.UserIdentity.AccessKeyID != "" {
				who += " (" + ev.UserIdentity.AccessKeyID + ")"
			}
		}
		errCol := "-"
		if ev.ErrorCode != "" {
			errCol = ev.ErrorCode
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.EventTime.UTC().Format(TimeFormat), ev.OpenKMS.Outcome,
			cell(ev.EventName), cell(who), cell(key), cell(ev.SourceIPAddress), cell(errCol))
		n++
	}
	return n, tw.Flush()
}

// cell makes s safe for one table cell: no tabs, newlines or control
// characters (log content is attacker-influenced).
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
