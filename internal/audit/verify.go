package audit

import (
	"bufio"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IssueKind is what Verify found wrong.
type IssueKind int

const (
	IssueUnknown IssueKind = iota
	// IssueModified: a record's bytes do not match its hash, or a line
	// where a record should be is not a record.
	IssueModified
	// IssueDeleted: records missing from the sequence (a seq gap).
	IssueDeleted
	// IssueInserted: a record (or line) that is not part of the chain:
	// forged, replayed, or written after its file's closing digest.
	IssueInserted
	// IssueReordered: a record out of sequence order.
	IssueReordered
	// IssueBrokenLink: a record whose prevHash does not match its
	// predecessor although both are intact: a record was replaced and
	// re-hashed.
	IssueBrokenLink
	// IssueTruncated: a file ends in an incomplete line (a crash during a
	// write, or truncation). A warning, not corruption.
	IssueTruncated
	// IssueBadSignature: a digest whose signature does not verify under the
	// given public key.
	IssueBadSignature
	// IssueMissingFile: a file index absent from the directory.
	IssueMissingFile
	// IssueUnclosedFile: a file that does not end with a closing digest
	// (crash, or the logger is still running). A warning.
	IssueUnclosedFile
	// IssueUnsignedTail: records after the last valid digest, which only
	// the hash chain protects. A warning.
	IssueUnsignedTail
)

var issueKindNames = []string{"unknown", "modified", "deleted", "inserted", "reordered", "broken-link",
	"truncated", "bad-signature", "missing-file", "unclosed-file", "unsigned-tail"}

func (k IssueKind) String() string { return enumName(issueKindNames, int(k)) }

// ParseIssueKind is the inverse of IssueKind.String.
func ParseIssueKind(s string) (IssueKind, error) {
	i, err := parseEnum("issue kind", issueKindNames, s)
	return IssueKind(i), err
}

// Severity grades an issue.
type Severity int

const (
	SeverityUnknown Severity = iota
	// SeverityWarning: expected after a crash or while logging; worth
	// knowing, not evidence of tampering by itself.
	SeverityWarning
	// SeverityError: the log is not what the logger wrote.
	SeverityError
)

var severityNames = []string{"unknown", "warning", "error"}

func (s Severity) String() string { return enumName(severityNames, int(s)) }

// ParseSeverity is the inverse of Severity.String.
func ParseSeverity(s string) (Severity, error) {
	i, err := parseEnum("severity", severityNames, s)
	return Severity(i), err
}

// Issue is one finding of Verify.
type Issue struct {
	Kind     IssueKind
	Severity Severity
	// File and Line (1-based) locate the issue; Line is 0 for a whole file
	// or a position between files.
	File string
	Line int
	// Seq..SeqEnd are the sequence numbers concerned (0 when unknown;
	// SeqEnd == Seq for one record).
	Seq, SeqEnd uint64
	Detail      string

	fileIdx int // for sorting
}

// String formats the issue on one line.
func (i Issue) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", i.Severity, i.Kind)
	switch {
	case i.Seq != 0 && i.SeqEnd > i.Seq:
		fmt.Fprintf(&b, " seq %d..%d", i.Seq, i.SeqEnd)
	case i.Seq != 0:
		fmt.Fprintf(&b, " seq %d", i.Seq)
	}
	if i.File != "" {
		fmt.Fprintf(&b, " %s", i.File)
		if i.Line > 0 {
			fmt.Fprintf(&b, " line %d", i.Line)
		}
	}
	if i.Detail != "" {
		b.WriteString(": " + i.Detail)
	}
	return b.String()
}

// FileReport summarizes one file.
type FileReport struct {
	Name              string
	Lines             int
	Records, Digests  int
	FirstSeq, LastSeq uint64
	// Closed: the file ends with a rotate or close digest.
	Closed bool
	// Torn: the file ends with an incomplete line.
	Torn bool
}

// Report is the result of Verify.
type Report struct {
	Files []FileReport
	// Records and Digests count the records that belong to the chain.
	Records, Digests  int
	FirstSeq, LastSeq uint64
	// SignedThrough is the seq of the last digest with a valid signature:
	// every record up to it is covered by a signature.
	SignedThrough uint64
	// Issues, in file and line order.
	Issues []Issue
}

// OK reports whether the log has no error-severity issue.
func (r Report) OK() bool {
	for _, i := range r.Issues {
		if i.Severity == SeverityError {
			return false
		}
	}
	return true
}

// IssuesOf returns the issues of kind k.
func (r Report) IssuesOf(k IssueKind) []Issue {
	var out []Issue
	for _, i := range r.Issues {
		if i.Kind == k {
			out = append(out, i)
		}
	}
	return out
}

// String formats the report: a summary line, then one line per issue.
func (r Report) String() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %d files, %d records, %d digests, seq %d..%d, signed through seq %d, %d issues\n",
		verdict, len(r.Files), r.Records, r.Digests, r.FirstSeq, r.LastSeq, r.SignedThrough, len(r.Issues))
	for _, i := range r.Issues {
		b.WriteString(i.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// verifyWindow is how many records Verify looks ahead to tell an inserted
// record from a reordered one.
const verifyWindow = 64

// Verify checks the log in dir offline against the audit public key pub
// and reports what is wrong, precisely: modified records (hash mismatch at
// seq N, file F line L), deleted records (seq gaps), inserted, reordered
// and re-hashed records, torn last lines (as truncation, a warning), bad
// digest signatures, missing files, files without a closing digest, and
// records no signature covers yet.
//
// It reads the files once, in order, with memory bounded by a small window
// (not by the log size). It never panics on corrupt input: anything that is
// not a record is an issue. The error is only for I/O failures (dir or a
// file unreadable).
func Verify(dir string, pub ed25519.PublicKey) (Report, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Report{}, errors.New("audit: Verify: not an Ed25519 public key")
	}
	files, err := listLogFiles(dir)
	if err != nil {
		return Report{}, err
	}
	v := &verifier{pub: pub, files: files, closed: make([]bool, len(files)),
		tornIssue: map[string]int{}, missingBefore: map[int]int{}}
	v.rep.Files = make([]FileReport, len(files))
	for i, f := range files {
		v.rep.Files[i].Name = f.name
	}
	v.checkFileIndexes()
	src := &lineSource{dir: dir, files: files, v: v}
	defer src.close()
	for {
		for len(v.win) < verifyWindow {
			r, ok, err := src.next()
			if err != nil {
				return Report{}, err
			}
			if !ok {
				break
			}
			v.win = append(v.win, r)
		}
		if len(v.win) == 0 {
			break
		}
		r := v.win[0]
		v.win = v.win[1:]
		v.process(r)
	}
	v.finish()
	return v.rep, nil
}

// vrec is what Verify keeps of one line.
type vrec struct {
	file, line int
	parsed     bool
	err        string
	parsedLine
	moved bool
}

type hole struct {
	from, to    uint64
	after, next vrec
}

type verifier struct {
	pub   ed25519.PublicKey
	files []logFile
	rep   Report
	win   []vrec

	have        bool
	last        vrec
	lastSeq     uint64 // the slot of last (differs from last.seq if last was modified)
	lastFlagged bool   // last was modified: do not report its successor's link
	corrupt     []vrec // lines that are not records since last
	holes       []hole
	closed      []bool // file's closing digest seen

	tornIssue     map[string]int // file name -> index in rep.Issues
	missingBefore map[int]int    // file index -> MissingFile issue index
}

func (v *verifier) pos(r vrec) string {
	return fmt.Sprintf("%s line %d", v.files[r.file].name, r.line)
}

func (v *verifier) add(i Issue) int {
	if i.Severity == SeverityUnknown {
		i.Severity = SeverityError
	}
	v.rep.Issues = append(v.rep.Issues, i)
	return len(v.rep.Issues) - 1
}

func (v *verifier) issueAt(k IssueKind, r vrec, seq uint64, detail string) {
	v.add(Issue{Kind: k, File: v.files[r.file].name, Line: r.line, Seq: seq, SeqEnd: seq, Detail: detail, fileIdx: r.file})
}

func (v *verifier) checkFileIndexes() {
	if len(v.files) == 0 {
		return
	}
	if first := v.files[0].index; first > 1 {
		v.add(Issue{Kind: IssueMissingFile, Severity: SeverityWarning, File: v.files[0].name, fileIdx: -1,
			Detail: fmt.Sprintf("files with index 1..%d are not in the directory (expired by retention, or deleted)", first-1)})
	}
	for i := 1; i < len(v.files); i++ {
		a, b := v.files[i-1].index, v.files[i].index
		if b > a+1 {
			detail := fmt.Sprintf("file index %d is missing, between %s and %s", a+1, v.files[i-1].name, v.files[i].name)
			if b > a+2 {
				detail = fmt.Sprintf("file indexes %d..%d are missing, between %s and %s", a+1, b-1, v.files[i-1].name, v.files[i].name)
			}
			v.missingBefore[i] = v.add(Issue{Kind: IssueMissingFile, File: fmt.Sprintf("audit-*-%06d.jsonl", a+1), fileIdx: i, Detail: detail})
		}
	}
}

// find returns the index in the window of the first record matching f.
func (v *verifier) find(f func(w vrec) bool) int {
	for j, w := range v.win {
		if w.parsed && w.selfOK && f(w) {
			return j
		}
	}
	return -1
}

// hasSucc reports whether the window holds r's successor.
func (v *verifier) hasSucc(r vrec) bool {
	return v.find(func(w vrec) bool { return w.seq == r.seq+1 && w.prevHash == r.hash }) >= 0
}

// hasPred reports whether the window holds r's predecessor.
func (v *verifier) hasPred(r vrec) bool {
	return v.find(func(w vrec) bool { return w.seq+1 == r.seq && w.hash == r.prevHash }) >= 0
}

func (v *verifier) process(r vrec) {
	if !r.parsed {
		v.corrupt = append(v.corrupt, r)
		return
	}
	if !v.have {
		v.first(r)
		return
	}
	e := v.lastSeq + 1
	if !r.selfOK {
		seq, detail := r.seq, "hash mismatch: the record's bytes were changed"
		if seq != e {
			detail += fmt.Sprintf(" (its seq field reads %d)", r.seq)
			seq = e
		}
		v.issueAt(IssueModified, r, seq, detail)
		v.accept(r, seq, true)
		return
	}
	s := r.seq
	switch {
	case s == e:
		if r.prevHash == v.last.hash {
			j := v.find(func(w vrec) bool { return w.seq == s && w.prevHash == v.last.hash })
			if j >= 0 && v.hasSucc(v.win[j]) && !v.hasSucc(r) {
				v.issueAt(IssueInserted, r, s, fmt.Sprintf("forged record: seq %d is also at %s, from which the chain continues", s, v.pos(v.win[j])))
				return
			}
			v.accept(r, s, false)
			return
		}
		if v.lastFlagged || len(v.corrupt) > 0 {
			v.accept(r, s, false)
			return
		}
		if j := v.find(func(w vrec) bool { return w.seq == s && w.prevHash == v.last.hash }); j >= 0 {
			v.issueAt(IssueInserted, r, s, fmt.Sprintf("not linked to seq %d; the chain continues at %s", v.lastSeq, v.pos(v.win[j])))
			return
		}
		v.issueAt(IssueBrokenLink, r, s, fmt.Sprintf("prevHash does not match seq %d at %s: a record was replaced and re-hashed", v.lastSeq, v.pos(v.last)))
		v.accept(r, s, false)
	case s > e:
		if j := v.find(func(w vrec) bool { return w.seq == e && w.prevHash == v.last.hash }); j >= 0 && !r.moved {
			// Either r was moved early, or the record of seq e was moved
			// late. If r is followed by its successor, r is in place:
			// leave a hole that the late record will fill.
			inPlace := len(v.win) > 0 && v.win[0].parsed && v.win[0].seq == s+1 && v.win[0].prevHash == r.hash
			if inPlace {
				v.gap(e, s-1, r)
				v.accept(r, s, false)
				return
			}
			if v.hasSucc(r) || v.hasPred(r) {
				v.issueAt(IssueReordered, r, s, fmt.Sprintf("seq %d appears before seq %d (%s)", s, e, v.pos(v.win[j])))
				r.moved = true
				k := j
				if p := v.find(func(w vrec) bool { return w.seq+1 == s && w.hash == r.prevHash }); p > k {
					k = p
				}
				v.win = slices.Insert(v.win, k+1, r)
				return
			}
			v.issueAt(IssueInserted, r, s, fmt.Sprintf("not part of the chain: seq %d follows at %s", e, v.pos(v.win[j])))
			return
		}
		v.gap(e, s-1, r)
		v.accept(r, s, false)
	default: // s < e
		if v.fillHole(s) {
			v.issueAt(IssueReordered, r, s, fmt.Sprintf("seq %d appears after seq %d (%s)", s, v.lastSeq, v.pos(v.last)))
			v.count(r, s)
			return
		}
		v.issueAt(IssueInserted, r, s, fmt.Sprintf("seq %d is already in the chain (replayed or forged record)", s))
	}
}

// first accepts the first record of the log.
func (v *verifier) first(r vrec) {
	seq := r.seq
	if !r.selfOK {
		v.issueAt(IssueModified, r, seq, "hash mismatch: the record's bytes were changed")
	}
	if seq > 1 {
		if v.files[0].index == 1 && r.file == 0 {
			from := uint64(1)
			for i, c := range v.corrupt {
				if from+uint64(i) < seq {
					v.issueAt(IssueModified, c, from+uint64(i), "not a valid record: "+c.err)
				}
			}
			from += uint64(len(v.corrupt))
			v.corrupt = nil
			if from < seq {
				v.add(Issue{Kind: IssueDeleted, File: v.files[r.file].name, Line: r.line, Seq: from, SeqEnd: seq - 1, fileIdx: r.file,
					Detail: "records missing at the start of the log"})
			}
		} else {
			v.add(Issue{Kind: IssueMissingFile, Severity: SeverityWarning, File: v.files[r.file].name, Line: r.line, Seq: 1, SeqEnd: seq - 1,
				fileIdx: r.file, Detail: "the log starts at a later seq: earlier records are not in this directory"})
		}
	} else if r.selfOK && r.prevHash != zeroHash {
		v.issueAt(IssueBrokenLink, r, seq, "the first record of the log does not start the chain (prevHash is not zero)")
	}
	v.rep.FirstSeq = seq
	v.accept(r, seq, !r.selfOK)
}

// gap handles missing seqs from..to before r.
func (v *verifier) gap(from, to uint64, r vrec) {
	// Lines that are not records, where the missing records stood, are
	// those records, modified.
	for i, c := range v.corrupt {
		if seq := from + uint64(i); seq <= to {
			v.issueAt(IssueModified, c, seq, "not a valid record: "+c.err)
		} else {
			v.issueAt(IssueInserted, c, 0, "not a valid record, and no record is missing here: "+c.err)
		}
	}
	from += uint64(len(v.corrupt))
	v.corrupt = nil
	if from > to {
		return
	}
	if r.file != v.last.file {
		for fi := v.last.file + 1; fi <= r.file; fi++ {
			if idx, ok := v.missingBefore[fi]; ok {
				is := &v.rep.Issues[idx]
				is.Seq, is.SeqEnd = from, to
				is.Detail += fmt.Sprintf("; seq %d..%d are missing with it", from, to)
				return
			}
		}
	}
	v.holes = append(v.holes, hole{from: from, to: to, after: v.last, next: r})
}

// fillHole removes seq from the reported gaps, reporting whether it was in
// one.
func (v *verifier) fillHole(seq uint64) bool {
	for i, h := range v.holes {
		if seq < h.from || seq > h.to {
			continue
		}
		switch {
		case h.from == h.to:
			v.holes = slices.Delete(v.holes, i, i+1)
		case seq == h.from:
			v.holes[i].from++
		case seq == h.to:
			v.holes[i].to--
		default:
			right := h
			right.from = seq + 1
			v.holes[i].to = seq - 1
			v.holes = slices.Insert(v.holes, i+1, right)
		}
		return true
	}
	return false
}

// accept makes r (in slot seq) the chain's last record.
func (v *verifier) accept(r vrec, seq uint64, flagged bool) {
	for _, c := range v.corrupt {
		v.issueAt(IssueInserted, c, 0, "not a valid record; the chain skips it: "+c.err)
	}
	v.corrupt = nil
	if v.closed[r.file] {
		v.issueAt(IssueInserted, r, seq, "written after the closing digest of its file")
	}
	v.have, v.last, v.lastSeq, v.lastFlagged = true, r, seq, flagged
	v.count(r, seq)
	v.rep.LastSeq = max(v.rep.LastSeq, seq)
	if r.digest != nil && r.digest.Reason.closes() {
		v.closed[r.file] = true
	}
}

// count adds r to the totals and checks its signature if it is a digest.
func (v *verifier) count(r vrec, seq uint64) {
	fr := &v.rep.Files[r.file]
	if fr.FirstSeq == 0 || seq < fr.FirstSeq {
		fr.FirstSeq = seq
	}
	fr.LastSeq = max(fr.LastSeq, seq)
	if r.digest == nil {
		fr.Records++
		v.rep.Records++
		return
	}
	fr.Digests++
	v.rep.Digests++
	d := *r.digest
	if err := verifyDigest(v.pub, r.seq, r.prevHash, d); err != nil {
		v.issueAt(IssueBadSignature, r, seq, "digest "+err.Error())
	} else if seq > v.rep.SignedThrough {
		v.rep.SignedThrough = seq
	}
	if rec := d.Recovery; rec != nil && rec.TornFile != "" {
		if idx, ok := v.tornIssue[rec.TornFile]; ok {
			v.rep.Issues[idx].Detail += fmt.Sprintf("; the logger recovered: the chain resumes at seq %d (%s)", seq, v.pos(r))
		}
	}
}

func (v *verifier) finish() {
	for _, c := range v.corrupt {
		v.issueAt(IssueModified, c, 0, "not a valid record: "+c.err)
	}
	for _, h := range v.holes {
		detail := fmt.Sprintf("records missing between %s and %s", v.pos(h.after), v.pos(h.next))
		v.add(Issue{Kind: IssueDeleted, File: v.files[h.next.file].name, Line: h.next.line, Seq: h.from, SeqEnd: h.to,
			Detail: detail, fileIdx: h.next.file})
	}
	for i := range v.rep.Files {
		fr := &v.rep.Files[i]
		fr.Closed = v.closed[i]
		if fr.Closed || fr.Lines == 0 {
			continue
		}
		detail := "no closing digest: the logger crashed while writing this file"
		if i == len(v.rep.Files)-1 {
			detail = "no closing digest: the logger is running, or crashed"
		}
		v.add(Issue{Kind: IssueUnclosedFile, Severity: SeverityWarning, File: fr.Name, fileIdx: i, Line: fr.Lines, Detail: detail})
	}
	if v.rep.LastSeq > v.rep.SignedThrough {
		v.add(Issue{Kind: IssueUnsignedTail, Severity: SeverityWarning, Seq: v.rep.SignedThrough + 1, SeqEnd: v.rep.LastSeq,
			fileIdx: len(v.files), Detail: "records after the last valid digest: only the hash chain protects them"})
	}
	slices.SortStableFunc(v.rep.Issues, func(a, b Issue) int {
		if a.fileIdx != b.fileIdx {
			return a.fileIdx - b.fileIdx
		}
		return a.Line - b.Line
	})
}

// lineSource reads the lines of the files in order.
type lineSource struct {
	dir   string
	files []logFile
	v     *verifier
	fi    int
	f     *os.File
	r     *bufio.Reader
	line  int
	off   int64
}

func (s *lineSource) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// next returns the next line as a vrec; ok is false at the end.
func (s *lineSource) next() (vrec, bool, error) {
	for {
		if s.f == nil {
			if s.fi >= len(s.files) {
				return vrec{}, false, nil
			}
			f, err := os.Open(filepath.Join(s.dir, s.files[s.fi].name))
			if err != nil {
				return vrec{}, false, fmt.Errorf("audit: %w", err)
			}
			s.f, s.r, s.line, s.off = f, bufio.NewReaderSize(f, 256<<10), 0, 0
		}
		line, complete, tooLong, n, err := readLine(s.r)
		if err != nil {
			return vrec{}, false, fmt.Errorf("audit: read %s: %w", s.files[s.fi].name, err)
		}
		if n == 0 { // end of file
			s.close()
			s.fi++
			continue
		}
		s.line++
		start := s.off
		s.off += int64(n)
		fr := &s.v.rep.Files[s.fi]
		fr.Lines = s.line
		if !complete {
			fr.Torn = true
			fr.Lines = s.line - 1
			s.v.tornIssue[s.files[s.fi].name] = s.v.add(Issue{Kind: IssueTruncated, Severity: SeverityWarning,
				File: s.files[s.fi].name, Line: s.line, fileIdx: s.fi,
				Detail: fmt.Sprintf("the file ends with an incomplete line (%d bytes at offset %d): a write cut short by a crash, or truncation", n, start)})
			continue
		}
		r := vrec{file: s.fi, line: s.line}
		if tooLong {
			r.err = "line too long"
			return r, true, nil
		}
		p, perr := parseLine(line)
		if perr != nil {
			r.err = perr.Error()
			return r, true, nil
		}
		r.parsed, r.parsedLine = true, p
		return r, true, nil
	}
}

// readLine reads one line. complete is false for a last line without a
// newline; n is the bytes consumed (0 at the end). Lines longer than
// maxLineBytes are consumed but not returned (tooLong).
func readLine(r *bufio.Reader) (line []byte, complete, tooLong bool, n int, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(line)+len(chunk) > maxLineBytes+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return line, false, tooLong, n, nil
		case err != nil:
			return nil, false, false, n, err
		}
		if !tooLong {
			line = line[:len(line)-1]
		}
		return line, true, tooLong, n, nil
	}
}
