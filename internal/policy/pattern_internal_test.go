package policy

import (
	"strings"
	"testing"
	"time"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"abc", "abc", false, true},
		{"abc", "abC", false, false},
		{"abc", "ABC", true, true},
		{"a*c", "ac", false, true},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "aéc", false, true},
		{"*a*b*c*", "xxaxxbxxcxx", false, true},
		{"*a*b*c*", "xxaxxcxxbxx", false, false},
		{"a**b", "ab", false, true},
		{"*ab", "aab", false, true},
		{"*ab", "abab", false, true},
		{"*aab", "aaab", false, true},
		{"ab*", "a", false, false},
		{"?", "", false, false},
		{"*?", "", false, false},
		{"*?", "x", false, true},
		{"kms:describe*", "KMS:DescribeKey", true, true},
		{"kms:describe*", "kms:Describ", true, false},
	}
	for _, tc := range tests {
		g := compileGlob(tc.pat, tc.fold)
		if got := g.match(tc.s, tc.fold); got != tc.want {
			t.Errorf("glob %q match %q (fold %v): got %v, want %v", tc.pat, tc.s, tc.fold, got, tc.want)
		}
	}
}

// TestGlobWorstCase checks the match stays polynomial on inputs that make
// naive recursive matchers exponential.
func TestGlobWorstCase(t *testing.T) {
	pat := strings.Repeat("*a", 200) + "*b"
	s := strings.Repeat("a", 5000)
	g := compileGlob(pat, false)
	start := time.Now()
	if g.match(s, false) {
		t.Errorf("got match, want none")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("match took %v", d)
	}
}

func TestArnGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"arn:aws:s3:::*", "arn:aws:s3:::bucket/key:with:colons", true},
		{"arn:*:s3:::b", "arn:aws-cn:s3:::b", true},
		{"arn:*:s3:::b", "arn:aws:x:s3:::b", false},
		{"arn:aws:iam::*", "arn:aws:iam::111122223333:role/x", true},
		{"*", "arn:aws:iam::1:role/x", true},
		{"arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/a/b", true},
		{"arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333", false},
		{"arn:aws:iam::1?:root", "arn:aws:iam::12:root", true},
	}
	for _, tc := range tests {
		tm := parseTemplate(tc.pat, false, true)
		toks, _ := tm.toks(nil, false)
		a := newArnGlob(toks)
		if got := a.match(tc.s); got != tc.want {
			t.Errorf("ArnLike %q vs %q: got %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestTemplates(t *testing.T) {
	ctx := ContextMap{}
	ctx.Set("aws:username", "bob")
	ctx.Set("aws:PrincipalTag/team", "blue")
	ctx.Set("aws:TagKeys", "a", "b")
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"plain", "plain", true},
		{"${aws:username}", "bob", true},
		{"${ AWS:UserName }", "bob", true},
		{"home/${aws:username}/x", "home/bob/x", true},
		{"${aws:PrincipalTag/team}-${aws:username}", "blue-bob", true},
		{"${aws:missing}", "", false},
		{"${aws:missing, 'dflt'}", "dflt", true},
		{"${aws:missing,'dflt'}", "dflt", true},
		{"${aws:missing, 'it''s'}", "it's", true},
		{"${aws:missing, ''}", "", true},
		{"${aws:username, 'dflt'}", "bob", true},
		{"${aws:TagKeys}", "", false},
		{"${aws:TagKeys, 'multi'}", "multi", true},
		{"${*}${?}${$}", "*?$", true},
		{"${aws:username", "${aws:username", true},
		{"${}", "${}", true},
		{"$", "$", true},
		{"${aws:missing, 'unterminated}", "${aws:missing, 'unterminated}", true},
		{"${aws:missing, noquote}", "${aws:missing, noquote}", true},
		{"${a}b}", "", false},
	}
	for _, tc := range tests {
		tm := parseTemplate(tc.in, true, false)
		got, ok := tm.resolveString(ctx)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("template %q: got %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	// Without variables (Version 2008-10-17), ${...} is literal.
	tm := parseTemplate("${aws:username}", false, false)
	if got, ok := tm.resolveString(ctx); !ok || got != "${aws:username}" {
		t.Errorf("literal template got %q %v", got, ok)
	}
}

func TestResourceTemplate(t *testing.T) {
	ctx := ContextMap{}
	ctx.Set("aws:username", "bob")
	tests := []struct{ in, s string }{
		{"arn:aws:s3:::bucket/${aws:username}/*", "arn:aws:s3:::bucket/bob/file"},
		{"arn:aws:sqs:us-east-2:*:${aws:username}-queue", "arn:aws:sqs:us-east-2:111122223333:bob-queue"},
		{"arn:aws:${aws:username}:::x", "arn:aws:${aws:username}:::x"}, // not in the resource part: literal
	}
	for _, tc := range tests {
		tm := resourceTemplate(tc.in, true)
		toks, ok := tm.toks(ctx, false)
		g := newGlob(toks)
		if !ok || !g.match(tc.s, false) {
			t.Errorf("resource %q did not match %q", tc.in, tc.s)
		}
	}
}

func TestParseDate(t *testing.T) {
	ref := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"2020-01-01T00:00:00Z", "2020-01-01", "2020-01", "2020-01-01T00:00Z", "2020-01-01T00:00", "2020-01-01T02:00:00+02:00", "2020-01-01T02:00:00+0200", "1577836800", "1577836800.0", "2020-01-01T00:00:00.000Z"} {
		got, ok := parseDate(s)
		if !ok || !got.Equal(ref) {
			t.Errorf("parseDate(%q) got %v %v, want %v", s, got, ok, ref)
		}
	}
	if got, ok := parseDate("1546257599.25"); !ok || got.UnixNano() != 1546257599250000000 {
		t.Errorf("parseDate fraction got %v %v", got, ok)
	}
	for _, s := range []string{"", "yesterday", "2020-13-01", "2020-01-01T25:00:00Z", "1e9", "-", ".", "99999999999999", "2020-01-01 00:00:00"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) succeeded", s)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for s, want := range map[string]float64{"7": 7, "-7": -7, "+7": 7, "7.5": 7.5, ".5": 0.5, "5.": 5, "1e3": 1000, "1E-3": 0.001, "1546257599.0": 1546257599} {
		if got, ok := parseNumber(s); !ok || got != want {
			t.Errorf("parseNumber(%q) got %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "e3", "1e", "0x10", "1_000", "Inf", "NaN", "1e400", " 1", "1 ", "1,5"} {
		if _, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) succeeded", s)
		}
	}
}

func TestParseIPPrefix(t *testing.T) {
	for s, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3/8": "10.0.0.0/8", "203.0.113.7": "203.0.113.7/32", "2001:DB8::/32": "2001:db8::/32", "::1": "::1/128", "::ffff:10.0.0.0/104": "10.0.0.0/8"} {
		p, ok := parseIPPrefix(s)
		if !ok || p.String() != want {
			t.Errorf("parseIPPrefix(%q) got %v %v, want %s", s, p, ok, want)
		}
	}
	for _, s := range []string{"", "10.0.0.0/33", "300.1.1.1", "fe80::1%eth0", "example.com", "10.0.0.0/-1", "::ffff:10.0.0.0/90"} {
		if _, ok := parseIPPrefix(s); ok {
			t.Errorf("parseIPPrefix(%q) succeeded", s)
		}
	}
}

func TestParseOperator(t *testing.T) {
	tests := []struct {
		in       string
		op       opKind
		set      setOp
		ifExists bool
		ok       bool
	}{
		{"StringEquals", opStringEquals, setNone, false, true},
		{"StringEqualsIfExists", opStringEquals, setNone, true, true},
		{"ForAnyValue:StringLike", opStringLike, setForAnyValue, false, true},
		{"ForAllValues:NumericLessThanIfExists", opNumericLessThan, setForAllValues, true, true},
		{"Null", opNull, setNone, false, true},
		{"NullIfExists", 0, setNone, false, false},
		{"IfExists", 0, setNone, false, false},
		{"ForAnyValue:", 0, setNone, false, false},
		{"stringequals", 0, setNone, false, false},
	}
	for _, tc := range tests {
		op, set, ie, ok := parseOperator(tc.in)
		if ok != tc.ok || ok && (op != tc.op || set != tc.set || ie != tc.ifExists) {
			t.Errorf("parseOperator(%q) got %v %v %v %v, want %v %v %v %v", tc.in, op, set, ie, ok, tc.op, tc.set, tc.ifExists, tc.ok)
		}
	}
}
