package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

// Record layout. Every line (event or digest) is a JSON object whose last
// member is "openkms", whose last member is "chain", whose last member is
// "hash"; so every line ends with
//
//	"hash":"<64 hex>"}}}
//
// The canonical bytes of a line are the line with those 64 hex digits
// removed (the hash value empty); hash = hex(SHA-256(canonical bytes)).
// The layout lets the hash be checked byte-for-byte, with no JSON
// canonicalization.
const (
	hashHexLen   = 64
	recordSuffix = `"}}}`
	hashKey      = `"hash":"`
	// zeroHash is the prevHash of the first record of a log.
	zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"
	// digestRecordType marks digest lines; events have no recordType.
	digestRecordType = "OpenKMSDigest"
	// digestVersion is the format version of digest records.
	digestVersion = 1
	// digestContext prefixes every signed digest message (domain separation).
	digestContext = "openkms:audit-digest:v1\n"
	// maxLineBytes bounds a line that readers accept.
	maxLineBytes = 8 << 20
)

// chainState is the head of the chain as the writer sees it.
type chainState struct {
	seq  uint64 // last record written (0: none)
	hash string // its hash (zeroHash: none)
	// digestFrom is the first seq not yet covered by a digest.
	digestFrom uint64
	// sinceDigest counts event records since the last digest.
	sinceDigest int
}

// chainLine appends the chain object to body (a JSON object with its two
// closing braces cut off) and returns the complete line and its hash.
func chainLine(body []byte, seq uint64, prevHash string) ([]byte, string) {
	// The line is built in body's own array when it has room (eventBody
	// leaves some): a record's body is used for nothing else.
	line := slices.Grow(body, 48+20+2*hashHexLen)
	line = append(line, `,"chain":{"seq":`...)
	line = strconv.AppendUint(line, seq, 10)
	line = append(line, `,"prevHash":"`...)
	line = append(line, prevHash...)
	line = append(line, `","hash":"`...)
	h := sha256.New()
	h.Write(line)
	h.Write([]byte(recordSuffix))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	hexSum := hex.EncodeToString(sum[:])
	line = append(line, hexSum...)
	line = append(line, recordSuffix...)
	return line, hexSum
}

// cutBody marshals v and cuts its two closing braces: v must encode as an
// object whose last member is an object.
func cutBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b, []byte("}}")) {
		return nil, errors.New("audit: record does not end with the openkms object")
	}
	return b[:len(b)-2], nil
}

// digestBody is the "openkms"."digest" object of a digest record.
type digestBody struct {
	Version int          `json:"version"`
	Reason  DigestReason `json:"reason"`
	Time    string       `json:"time"`
	// FromSeq..ToSeq are the records written since the previous digest of
	// this process (empty, FromSeq = ToSeq+1, for a start digest). The
	// signature covers all records up to ToSeq through prevHash.
	FromSeq  uint64    `json:"fromSeq"`
	ToSeq    uint64    `json:"toSeq"`
	KeyID    string    `json:"keyId"`
	Recovery *Recovery `json:"recovery,omitempty"`
	// Signature is the base64 Ed25519 signature of digestMessage.
	Signature string `json:"signature"`
}

// Recovery is what a start or recovery digest notes about the state the
// logger found.
type Recovery struct {
	// UncleanShutdown: the last record on disk was not a closing digest.
	UncleanShutdown bool `json:"uncleanShutdown,omitempty"`
	// TornFile, TornOffset and TornBytes describe an incomplete last line
	// (a write cut by a crash) that the chain skips.
	TornFile   string `json:"tornFile,omitempty"`
	TornOffset int64  `json:"tornOffset,omitempty"`
	TornBytes  int64  `json:"tornBytes,omitempty"`
	// WriteError is the error of a failed write or fsync; the records of
	// that batch were not acknowledged and the chain resumes after ResumedAfter.
	WriteError string `json:"writeError,omitempty"`
	// LostFrom..LostTo are records acknowledged (async durability) but lost
	// to a failed fsync.
	LostFrom uint64 `json:"lostFrom,omitempty"`
	LostTo   uint64 `json:"lostTo,omitempty"`
}

// digestRecord is the top-level shape of a digest line.
type digestRecord struct {
	RecordType string `json:"recordType"`
	EventTime  string `json:"eventTime"`
	OpenKMS    struct {
		Digest *digestBody `json:"digest"`
	} `json:"openkms"`
}

// digestMessage is what a digest's signature signs: the digest's position
// and predecessor (which commits to every earlier record) and its body.
func digestMessage(seq uint64, prevHash string, d digestBody) ([]byte, error) {
	d.Signature = ""
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 0, len(digestContext)+24+hashHexLen+len(body))
	msg = append(msg, digestContext...)
	msg = strconv.AppendUint(msg, seq, 10)
	msg = append(msg, '\n')
	msg = append(msg, prevHash...)
	msg = append(msg, '\n')
	msg = append(msg, body...)
	return msg, nil
}

// verifyDigest checks d's signature as the record at seq after prevHash.
func verifyDigest(pub ed25519.PublicKey, seq uint64, prevHash string, d digestBody) error {
	if d.KeyID != KeyID(pub) {
		return errors.New("signed by key " + strconv.Quote(d.KeyID) + ", not the given key " + KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("signature is not a base64 Ed25519 signature")
	}
	msg, err := digestMessage(seq, prevHash, d)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// parsedLine is what readers learn from one line.
type parsedLine struct {
	seq      uint64
	prevHash string
	hash     string // stored hash
	selfOK   bool   // stored hash matches the canonical bytes
	digest   *digestBody
}

// lineShape is decoded from every line to find its chain and digest.
type lineShape struct {
	OpenKMS *struct {
		Digest *digestBody `json:"digest"`
		Chain  *Chain      `json:"chain"`
	} `json:"openkms"`
}

// errNotRecord is returned by parseLine for bytes that are not a record.
type errNotRecord string

func (e errNotRecord) Error() string { return string(e) }

// parseLine parses one line (without its newline). It never panics; bytes
// that are not a record give an errNotRecord.
func parseLine(line []byte) (parsedLine, error) {
	var p parsedLine
	n := len(line)
	if n < len(hashKey)+hashHexLen+len(recordSuffix)+2 || !bytes.HasSuffix(line, []byte(recordSuffix)) ||
		!bytes.Equal(line[n-len(recordSuffix)-hashHexLen-len(hashKey):n-len(recordSuffix)-hashHexLen], []byte(hashKey)) {
		return p, errNotRecord("not a record: the line does not end with the chain hash")
	}
	stored := line[n-len(recordSuffix)-hashHexLen : n-len(recordSuffix)]
	if !isHex(stored) {
		return p, errNotRecord("not a record: the chain hash is not hex")
	}
	var shape lineShape
	if err := json.Unmarshal(line, &shape); err != nil {
		return p, errNotRecord("not a record: invalid JSON")
	}
	if shape.OpenKMS == nil || shape.OpenKMS.Chain == nil {
		return p, errNotRecord("not a record: no openkms.chain")
	}
	c := shape.OpenKMS.Chain
	if c.Hash != string(stored) || len(c.PrevHash) != hashHexLen || !isHex([]byte(c.PrevHash)) {
		return p, errNotRecord("not a record: malformed chain")
	}
	h := sha256.New()
	h.Write(line[:n-len(recordSuffix)-hashHexLen])
	h.Write(line[n-len(recordSuffix):])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	p.seq, p.prevHash, p.hash = c.Seq, c.PrevHash, c.Hash
	p.selfOK = hex.EncodeToString(sum[:]) == c.Hash
	p.digest = shape.OpenKMS.Digest
	return p, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
