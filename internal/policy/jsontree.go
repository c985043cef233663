package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// jkind is the type of a JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jString
	jNumber
	jBool
	jObject
	jArray
)

func (k jkind) String() string {
	switch k {
	case jString:
		return "string"
	case jNumber:
		return "number"
	case jBool:
		return "boolean"
	case jObject:
		return "object"
	case jArray:
		return "array"
	}
	return "null"
}

// jnode is a decoded JSON value. Objects keep their members in document
// order; duplicate member names are rejected while decoding.
type jnode struct {
	kind  jkind
	str   string // string value, or the number's text
	b     bool
	keys  []string
	vals  []*jnode
	elems []*jnode
}

// get returns the object member named key, or nil.
func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func checkSize(doc string, kind Kind, limit int) error {
	if len(doc) > MaxDocumentBytes {
		return perr(ReasonTooLarge, -1, "Policy document exceeds the maximum allowed size.", "(%d bytes, limit %d)", len(doc), MaxDocumentBytes)
	}
	if limit <= 0 {
		switch kind {
		case KindKey:
			limit = MaxKeyPolicyBytes
		case KindIdentity:
			limit = MaxIdentityPolicyChars
		case KindTrust:
			limit = MaxTrustPolicyChars
		}
	}
	if kind == KindKey {
		if len(doc) > limit {
			return perr(ReasonTooLarge, -1, "Policy document exceeds the maximum allowed size.", "(%d bytes, limit %d)", len(doc), limit)
		}
		return nil
	}
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	if n > limit {
		return perr(ReasonTooLarge, -1, "Policy document exceeds the maximum allowed size.", "(%d non-whitespace characters, limit %d)", n, limit)
	}
	return nil
}

type jdecoder struct {
	dec   *json.Decoder
	count int
}

var errNotJSON = errors.New("not JSON")

// decodeJSON decodes a document that must be exactly one JSON object.
func decodeJSON(doc string) (*jnode, error) {
	if !utf8.ValidString(doc) {
		return nil, perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(invalid UTF-8)")
	}
	d := &jdecoder{dec: json.NewDecoder(strings.NewReader(doc))}
	d.dec.UseNumber()
	root, err := d.value(0)
	if err != nil {
		return nil, jsonError(err)
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(data after the top-level object)")
	}
	if root.kind != jObject {
		return nil, perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(the document must be a JSON object, not %s)", root.kind)
	}
	return root, nil
}

func jsonError(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(%v at offset %d)", se, se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(unexpected end of document)")
	}
	return perr(ReasonJSON, -1, "Policy document is not valid JSON.", "(%v)", err)
}

func (d *jdecoder) value(depth int) (*jnode, error) {
	if depth > MaxDepth {
		return nil, perr(ReasonStructure, -1, "Policy document is nested too deeply.", "(limit %d)", MaxDepth)
	}
	d.count++
	if d.count > MaxJSONValues {
		return nil, perr(ReasonStructure, -1, "Policy document has too many elements.", "(limit %d values)", MaxJSONValues)
	}
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &jnode{kind: jObject}
			var seen map[string]bool // used once the object is large
			for d.dec.More() {
				kt, err := d.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errNotJSON
				}
				dup := false
				if seen != nil {
					dup = seen[key]
					seen[key] = true
				} else {
					dup = n.get(key) != nil
					if len(n.keys) >= 16 {
						seen = make(map[string]bool, 32)
						for _, k := range n.keys {
							seen[k] = true
						}
						seen[key] = true
					}
				}
				if dup {
					return nil, perr(ReasonJSON, -1, "Policy document contains a duplicate element.", "(%q)", key)
				}
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			if _, err := d.dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &jnode{kind: jArray}
			for d.dec.More() {
				v, err := d.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			if _, err := d.dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
		return nil, errNotJSON
	case string:
		return &jnode{kind: jString, str: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: string(t)}, nil
	case bool:
		return &jnode{kind: jBool, b: t}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, errNotJSON
}
