package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Condition operators. See
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

type opKind uint8

const (
	opStringEquals opKind = iota + 1
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opNumericEquals
	opNumericNotEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateNotEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opNotIPAddress
	opArnEquals
	opArnLike
	opArnNotEquals
	opArnNotLike
	opNull
)

// operators maps the case-sensitive operator names (IAM rejects
// "stringEquals": "Invalid Condition type") to their kind.
var operators = map[string]opKind{
	"StringEquals":              opStringEquals,
	"StringNotEquals":           opStringNotEquals,
	"StringEqualsIgnoreCase":    opStringEqualsIgnoreCase,
	"StringNotEqualsIgnoreCase": opStringNotEqualsIgnoreCase,
	"StringLike":                opStringLike,
	"StringNotLike":             opStringNotLike,
	"NumericEquals":             opNumericEquals,
	"NumericNotEquals":          opNumericNotEquals,
	"NumericLessThan":           opNumericLessThan,
	"NumericLessThanEquals":     opNumericLessThanEquals,
	"NumericGreaterThan":        opNumericGreaterThan,
	"NumericGreaterThanEquals":  opNumericGreaterThanEquals,
	"DateEquals":                opDateEquals,
	"DateNotEquals":             opDateNotEquals,
	"DateLessThan":              opDateLessThan,
	"DateLessThanEquals":        opDateLessThanEquals,
	"DateGreaterThan":           opDateGreaterThan,
	"DateGreaterThanEquals":     opDateGreaterThanEquals,
	"Bool":                      opBool,
	"BinaryEquals":              opBinaryEquals,
	"IpAddress":                 opIPAddress,
	"NotIpAddress":              opNotIPAddress,
	"ArnEquals":                 opArnEquals,
	"ArnLike":                   opArnLike,
	"ArnNotEquals":              opArnNotEquals,
	"ArnNotLike":                opArnNotLike,
	"Null":                      opNull,
}

// negated reports whether the operator is a negated matching operator,
// evaluated as the negation of its positive form.
func (o opKind) negated() bool {
	switch o {
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opNumericNotEquals,
		opDateNotEquals, opNotIPAddress, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

func (o opKind) family() family {
	switch {
	case o <= opStringNotLike:
		return famString
	case o <= opNumericGreaterThanEquals:
		return famNumeric
	case o <= opDateGreaterThanEquals:
		return famDate
	case o == opBool:
		return famBool
	case o == opBinaryEquals:
		return famBinary
	case o == opIPAddress || o == opNotIPAddress:
		return famIP
	case o <= opArnNotLike:
		return famARN
	}
	return famNull
}

type setOp uint8

const (
	setNone setOp = iota
	setForAnyValue
	setForAllValues
)

// condition is one (operator, key) pair of a Condition element.
type condition struct {
	opName   string // as written, for explanations
	rawKey   string // as written
	key      string // lower case
	op       opKind
	set      setOp
	ifExists bool
	values   []condValue
}

// condValue is one policy value, pre-parsed for its operator.
type condValue struct {
	raw  string
	str  string   // string equality operators without variables: the value
	tmpl template // string and ARN operators
	g    glob     // StringLike without variables
	arn  arnGlob  // ARN operators without variables
	num  float64
	t    time.Time
	pfx  netip.Prefix
	bin  []byte
	b    bool
}

// parseOperator splits "ForAnyValue:StringLikeIfExists".
func parseOperator(name string) (op opKind, set setOp, ifExists bool, ok bool) {
	base := name
	if rest, found := strings.CutPrefix(base, "ForAnyValue:"); found {
		set, base = setForAnyValue, rest
	} else if rest, found := strings.CutPrefix(base, "ForAllValues:"); found {
		set, base = setForAllValues, rest
	}
	if rest, found := strings.CutSuffix(base, "IfExists"); found && rest != "Null" {
		ifExists, base = true, rest
	}
	op, ok = operators[base]
	return op, set, ifExists, ok
}

// validConditionKey checks "prefix:name": a vendor prefix is required
// (IAM: "Actions/Conditions must be prefaced by a vendor").
func validConditionKey(k string) bool {
	vendor, name, found := strings.Cut(k, ":")
	if !found || name == "" || !validVendor(vendor) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return !strings.ContainsAny(k, "*?${}")
}

func validVendor(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func parseConditionElement(n *jnode, kind Kind, vars bool, stmt int) ([]condition, error) {
	if n.kind != jObject {
		return nil, perr(ReasonCondition, stmt, "Condition must be an object.", "")
	}
	var out []condition
	for i, opName := range n.keys {
		op, set, ifExists, ok := parseOperator(opName)
		if !ok {
			return nil, perr(ReasonCondition, stmt, "Policy contains an invalid condition operator.", "(%q)", opName)
		}
		block := n.vals[i]
		if block.kind != jObject || len(block.keys) == 0 {
			return nil, perr(ReasonCondition, stmt, "Condition operator must map at least one condition key to values.", "(%q)", opName)
		}
		for j, rawKey := range block.keys {
			if !validConditionKey(rawKey) {
				return nil, perr(ReasonCondition, stmt, "Policy contains an invalid condition key.", "(%q)", rawKey)
			}
			key := strings.ToLower(rawKey)
			if kind == KindKey && set == setForAllValues {
				// AWS KMS refuses these on CreateKey/PutKeyPolicy.
				if strings.HasPrefix(key, "kms:encryptioncontext:") {
					return nil, perr(ReasonCondition, stmt, "OverlyPermissiveCondition:EncryptionContext: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified encryption context or with an unspecified encryption context. To fix, remove ForAllValues.", "(%q)", rawKey)
				}
				if strings.HasPrefix(key, "aws:requesttag/") {
					return nil, perr(ReasonCondition, stmt, "OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued condition key matches requests without the specified tag or with an unspecified tag. To fix, remove ForAllValues.", "(%q)", rawKey)
				}
			}
			raws, err := conditionValues(block.vals[j])
			if err != nil {
				return nil, perr(ReasonCondition, stmt, "Policy contains an invalid condition value.", "(%s %s: %v)", opName, rawKey, err)
			}
			c := condition{opName: opName, rawKey: rawKey, key: key, op: op, set: set, ifExists: ifExists}
			for _, raw := range raws {
				v, ok := parseCondValue(op, raw, vars)
				if !ok {
					return nil, perr(ReasonCondition, stmt, "Policy contains an invalid condition value.", "(%s %s: %q)", opName, rawKey, raw)
				}
				c.values = append(c.values, v)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues accepts a scalar or a non-empty array of scalars; JSON
// numbers and booleans are taken as their text (AWS examples write
// "kms:GrantIsForAWSResource": true).
func conditionValues(n *jnode) ([]string, error) {
	scalar := func(e *jnode) (string, bool) {
		switch e.kind {
		case jString, jNumber:
			return e.str, true
		case jBool:
			return strconv.FormatBool(e.b), true
		}
		return "", false
	}
	if n.kind == jArray {
		if len(n.elems) == 0 {
			return nil, errEmptyList
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			s, ok := scalar(e)
			if !ok {
				return nil, listError("values must be strings, numbers or booleans")
			}
			out[i] = s
		}
		return out, nil
	}
	s, ok := scalar(n)
	if !ok {
		return nil, listError("values must be strings, numbers or booleans")
	}
	return []string{s}, nil
}

func parseCondValue(op opKind, raw string, vars bool) (condValue, bool) {
	v := condValue{raw: raw}
	switch op.family() {
	case famString:
		like := op == opStringLike || op == opStringNotLike
		v.tmpl = parseTemplate(raw, vars, like)
		if !v.tmpl.hasVar {
			if like {
				v.g = globFromTemplate(&v.tmpl, false)
			} else {
				v.str = v.tmpl.literal()
			}
		}
		return v, true
	case famARN:
		v.tmpl = parseTemplate(raw, vars, true)
		if !v.tmpl.hasVar {
			toks, _ := v.tmpl.toks(nil, false)
			v.arn = newArnGlob(toks)
		}
		return v, true
	case famNumeric:
		f, ok := parseNumber(raw)
		v.num = f
		return v, ok
	case famDate:
		t, ok := parseDate(raw)
		v.t = t
		return v, ok
	case famBool, famNull:
		b, ok := parseBool(raw)
		v.b = b
		return v, ok
	case famBinary:
		b, err := base64.StdEncoding.Strict().DecodeString(raw)
		v.bin = b
		return v, err == nil && raw != ""
	case famIP:
		p, ok := parseIPPrefix(raw)
		v.pfx = p
		return v, ok
	}
	return v, false
}

// parseNumber accepts an optionally signed decimal number with an optional
// fraction and exponent ("7", "-1.5", "1546257599.0", "1e3").
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// Date formats: ISO 8601 variations and epoch seconds ("You must use one of
// the W3C implementations of the ISO 8601 date formats or epoch (UNIX)
// time").
// A time without a zone is UTC. A string of digits (with an optional
// fraction) is epoch seconds, never a year.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
}

func parseDate(s string) (time.Time, bool) {
	if s == "" || len(s) > 64 {
		return time.Time{}, false
	}
	if t, ok := parseEpoch(s); ok {
		return t, true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseEpoch parses "1546257599" or "1546257599.25" (seconds since 1970).
func parseEpoch(s string) (time.Time, bool) {
	neg := false
	body := s
	if strings.HasPrefix(body, "-") {
		neg, body = true, body[1:]
	}
	ip, fp, hasFrac := strings.Cut(body, ".")
	if !isDigits(ip) || hasFrac && fp != "" && !isDigits(fp) || len(ip) > 12 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var nsec int64
	if len(fp) > 9 {
		fp = fp[:9]
	}
	if fp != "" {
		n, _ := strconv.ParseInt(fp, 10, 64)
		for i := len(fp); i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), true
}

func parseIPPrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if p.Bits() < 0 {
				return netip.Prefix{}, false
			}
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// eval evaluates the condition against the request context.
//
// Semantics (IAM User Guide, condition operators and multivalued keys):
//   - "If the key that you specify in a policy condition is not present in
//     the request context, the values do not match and the condition is
//     false. If the policy condition requires that the key is not matched,
//     such as StringNotLike or ArnNotLike, and the right key is not present,
//     the condition is true." ...IfExists is true when the key is absent;
//     Null tests presence.
//   - ForAllValues is true when the key is absent ("also returns true if
//     there are no context keys in the request"), else every request value
//     must satisfy the operator. ForAnyValue is false when the key is
//     absent, else at least one request value must satisfy it.
//   - Several policy values for one key are ORed; for a negated operator
//     they are NORed ("If a single negated matching condition operator
//     includes multiple values for a context key, those values are
//     evaluated using a logical NOR").
//   - Without a set operator, a key with several request values satisfies a
//     positive operator when any value matches; a negated operator is the
//     negation of that.
//
// A key present with no values counts as absent.
func (c *condition) eval(ctx Context) bool {
	var vals []string
	if ctx != nil {
		vals, _ = ctx.Lookup(c.key)
	}
	present := len(vals) > 0
	if c.op == opNull {
		// "Null": true means the key must be absent. Several values are ORed.
		for i := range c.values {
			if c.values[i].b == !present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == setForAllValues:
			return true
		case c.set == setForAnyValue:
			return false
		}
		return c.op.negated()
	}
	switch c.set {
	case setForAllValues:
		for _, v := range vals {
			if !c.evalOne(v, ctx) {
				return false
			}
		}
		return true
	case setForAnyValue:
		for _, v := range vals {
			if c.evalOne(v, ctx) {
				return true
			}
		}
		return false
	}
	if len(vals) == 1 {
		return c.evalOne(vals[0], ctx)
	}
	pos := false
	for _, v := range vals {
		if m, _ := c.matchPositive(v, ctx); m {
			pos = true
			break
		}
	}
	if c.op.negated() {
		return !pos && !c.anyUnresolved(ctx)
	}
	return pos
}

// evalOne applies the operator (with its negation) to one request value.
// A policy value whose variables cannot be resolved never matches, and
// makes a negated operator false: nothing can be asserted about it.
func (c *condition) evalOne(v string, ctx Context) bool {
	m, unresolved := c.matchPositive(v, ctx)
	if c.op.negated() {
		return !m && !unresolved
	}
	return m
}

func (c *condition) anyUnresolved(ctx Context) bool {
	for i := range c.values {
		if c.values[i].tmpl.hasVar {
			if _, ok := c.values[i].tmpl.resolveString(ctx); !ok {
				return true
			}
		}
	}
	return false
}

// matchPositive reports whether request value v matches any policy value
// under the positive form of the operator, and whether a policy value had
// an unresolvable variable. A request value that does not parse for the
// operator (a number, date, boolean, IP address or base64) matches nothing.
func (c *condition) matchPositive(v string, ctx Context) (match, unresolved bool) {
	switch c.op.family() {
	case famString:
		return c.matchString(v, ctx)
	case famARN:
		for i := range c.values {
			cv := &c.values[i]
			if !cv.tmpl.hasVar {
				if cv.arn.match(v) {
					return true, unresolved
				}
				continue
			}
			toks, ok := cv.tmpl.toks(ctx, false)
			if !ok {
				unresolved = true
				continue
			}
			a := newArnGlob(toks)
			if a.match(v) {
				return true, unresolved
			}
		}
		return false, unresolved
	case famNumeric:
		f, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		for i := range c.values {
			if cmpOp(c.op, compareFloat(f, c.values[i].num)) {
				return true, false
			}
		}
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false, false
		}
		for i := range c.values {
			if cmpOp(c.op, t.Compare(c.values[i].t)) {
				return true, false
			}
		}
	case famBool:
		b, ok := parseBool(v)
		if !ok {
			return false, false
		}
		for i := range c.values {
			if c.values[i].b == b {
				return true, false
			}
		}
	case famBinary:
		var buf [96]byte
		dst := buf[:]
		if n := base64.StdEncoding.DecodedLen(len(v)); n > len(dst) {
			dst = make([]byte, n)
		}
		n, err := base64.StdEncoding.Decode(dst, []byte(v))
		if err != nil {
			return false, false
		}
		for i := range c.values {
			if bytes.Equal(dst[:n], c.values[i].bin) {
				return true, false
			}
		}
	case famIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false, false
		}
		a = a.Unmap().WithZone("")
		for i := range c.values {
			if c.values[i].pfx.Contains(a) {
				return true, false
			}
		}
	}
	return false, false
}

func (c *condition) matchString(v string, ctx Context) (match, unresolved bool) {
	for i := range c.values {
		cv := &c.values[i]
		switch c.op {
		case opStringLike, opStringNotLike:
			if !cv.tmpl.hasVar {
				if cv.g.match(v, false) {
					return true, unresolved
				}
				continue
			}
			toks, ok := cv.tmpl.toks(ctx, false)
			if !ok {
				unresolved = true
				continue
			}
			g := newGlob(toks)
			if g.match(v, false) {
				return true, unresolved
			}
		default:
			want := cv.str
			if cv.tmpl.hasVar {
				s, ok := cv.tmpl.resolveString(ctx)
				if !ok {
					unresolved = true
					continue
				}
				want = s
			}
			if c.op == opStringEqualsIgnoreCase || c.op == opStringNotEqualsIgnoreCase {
				if strings.EqualFold(v, want) {
					return true, unresolved
				}
			} else if v == want {
				return true, unresolved
			}
		}
	}
	return false, unresolved
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpOp applies a comparison operator to cmp (request value compared with
// policy value). Negated operators use their positive form here.
func cmpOp(op opKind, cmp int) bool {
	switch op {
	case opNumericEquals, opNumericNotEquals, opDateEquals, opDateNotEquals:
		return cmp == 0
	case opNumericLessThan, opDateLessThan:
		return cmp < 0
	case opNumericLessThanEquals, opDateLessThanEquals:
		return cmp <= 0
	case opNumericGreaterThan, opDateGreaterThan:
		return cmp > 0
	case opNumericGreaterThanEquals, opDateGreaterThanEquals:
		return cmp >= 0
	}
	return false
}
