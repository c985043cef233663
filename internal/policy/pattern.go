package policy

import (
	"strings"
	"unicode/utf8"
)

// Wildcard patterns ("*" any run of characters, "?" one character), as used
// by Action, Resource, StringLike and the ARN operators, compiled to tokens.

type gkind uint8

const (
	gLit gkind = iota
	gStar
	gOne
)

type gtok struct {
	kind gkind
	lit  string
}

// glob is a compiled wildcard pattern.
type glob struct {
	toks []gtok
	// literal is set when the pattern has no wildcard: it then matches
	// exactly lit (toks[0].lit, or "" when toks is empty).
	literal bool
	// any is set for a pattern that is a single "*".
	any bool
}

func newGlob(toks []gtok) glob {
	g := glob{toks: toks, literal: true}
	for _, t := range toks {
		if t.kind != gLit {
			g.literal = false
		}
	}
	if len(toks) == 1 && toks[0].kind == gStar {
		g.any = true
	}
	if g.literal && len(toks) > 1 {
		var b strings.Builder
		for _, t := range toks {
			b.WriteString(t.lit)
		}
		g.toks = []gtok{{kind: gLit, lit: b.String()}}
	}
	return g
}

// compileGlob compiles a pattern with no policy variables. With fold, the
// pattern is lower-cased and match must be called with fold too.
func compileGlob(pat string, fold bool) glob {
	if fold {
		pat = asciiLower(pat)
	}
	var toks []gtok
	start := 0
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c != '*' && c != '?' {
			continue
		}
		if i > start {
			toks = append(toks, gtok{kind: gLit, lit: pat[start:i]})
		}
		if c == '*' {
			if len(toks) == 0 || toks[len(toks)-1].kind != gStar {
				toks = append(toks, gtok{kind: gStar})
			}
		} else {
			toks = append(toks, gtok{kind: gOne})
		}
		start = i + 1
	}
	if start < len(pat) {
		toks = append(toks, gtok{kind: gLit, lit: pat[start:]})
	}
	return newGlob(toks)
}

// match reports whether s matches the pattern. With fold, ASCII letters in
// s are compared case-insensitively (the pattern is already lower case).
func (g *glob) match(s string, fold bool) bool {
	if g.any {
		return true
	}
	if g.literal {
		lit := ""
		if len(g.toks) > 0 {
			lit = g.toks[0].lit
		}
		return len(s) == len(lit) && hasPrefixFold(s, lit, fold)
	}
	return matchToks(g.toks, s, fold)
}

// matchToks is the classic linear-backtracking wildcard match: on a
// mismatch it retries from the last star, one character further. The
// segments between stars hold no star, so taking the earliest place for
// each is correct. Worst case O(len(toks)*len(s)).
func matchToks(toks []gtok, s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case gStar:
				if ti == len(toks)-1 {
					return true
				}
				starTi, starSi = ti, si
				ti++
				continue
			case gOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case gLit:
				if hasPrefixFold(s[si:], t.lit, fold) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

func hasPrefixFold(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if !fold {
		return s[:len(prefix)] == prefix
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Templates: a policy string value that may hold policy variables
// (${aws:username}, ${aws:PrincipalTag/team, 'default'}, ${*}, ${?}, ${$}).

type tkind uint8

const (
	tLit  tkind = iota
	tStar       // wildcard *
	tOne        // wildcard ?
	tVar        // policy variable
)

type tpart struct {
	kind   tkind
	text   string // tLit: the text
	key    string // tVar: the condition key, lower case
	def    string // tVar: the default value
	hasDef bool
}

// template is a parsed string value. When hasVar is false, it is fully
// known at parse time.
type template struct {
	parts  []tpart
	hasVar bool
}

// parseTemplate parses s. With vars, ${...} is a policy variable (Version
// 2012-10-17 only); with wildcards, * and ? outside variables are wildcards.
// A "${" that does not start a well-formed variable is literal text.
func parseTemplate(s string, vars, wildcards bool) template {
	var t template
	lit := func(x string) {
		if x == "" {
			return
		}
		if n := len(t.parts); n > 0 && t.parts[n-1].kind == tLit {
			t.parts[n-1].text += x
			return
		}
		t.parts = append(t.parts, tpart{kind: tLit, text: x})
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			if p, n, ok := parseVariable(s[i:]); ok {
				lit(s[start:i])
				if p.kind == tLit {
					lit(p.text)
				} else {
					t.parts = append(t.parts, p)
					t.hasVar = true
				}
				i += n
				start = i
				continue
			}
		}
		if wildcards && (c == '*' || c == '?') {
			lit(s[start:i])
			k := tStar
			if c == '?' {
				k = tOne
			}
			t.parts = append(t.parts, tpart{kind: k})
			i++
			start = i
			continue
		}
		i++
	}
	lit(s[start:])
	return t
}

// parseVariable parses "${name}" or "${name, 'default'}" at the start of s
// and returns the part and its length. ${*}, ${?} and ${$} are literal.
// Spaces around the name and the default are ignored; in a default, two
// single quotes stand for one.
func parseVariable(s string) (tpart, int, bool) {
	i := 2
	j := i
	for j < len(s) && s[j] != '}' && s[j] != ',' {
		j++
	}
	if j >= len(s) {
		return tpart{}, 0, false
	}
	name := strings.TrimSpace(s[i:j])
	switch name {
	case "*", "?", "$":
		if s[j] != '}' {
			return tpart{}, 0, false
		}
		return tpart{kind: tLit, text: name}, j + 1, true
	}
	if name == "" || strings.ContainsAny(name, "${'") {
		return tpart{}, 0, false
	}
	p := tpart{kind: tVar, key: strings.ToLower(name)}
	if s[j] == '}' {
		return p, j + 1, true
	}
	// ", 'default'}"
	j++
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != '\'' {
		return tpart{}, 0, false
	}
	j++
	var def strings.Builder
	for {
		if j >= len(s) {
			return tpart{}, 0, false
		}
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				def.WriteByte('\'')
				j += 2
				continue
			}
			j++
			break
		}
		def.WriteByte(s[j])
		j++
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != '}' {
		return tpart{}, 0, false
	}
	p.def, p.hasDef = def.String(), true
	return p, j + 1, true
}

// lookupVar resolves a variable. A key with exactly one value resolves to
// it; a missing key, or a multivalued one (AWS: multivalued context keys
// cannot be used as variables), resolves to the default if there is one.
func lookupVar(ctx Context, p *tpart) (string, bool) {
	if ctx != nil {
		if v, ok := ctx.Lookup(p.key); ok && len(v) == 1 {
			return v[0], true
		}
	}
	if p.hasDef {
		return p.def, true
	}
	return "", false
}

// literal returns the value of a template without variables; wildcards,
// if any were parsed, are rendered as the characters.
func (t *template) literal() string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.kind {
		case tLit:
			b.WriteString(p.text)
		case tStar:
			b.WriteByte('*')
		case tOne:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// resolveString substitutes the variables. ok is false when a variable
// cannot be resolved.
func (t *template) resolveString(ctx Context) (string, bool) {
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case tLit:
			b.WriteString(p.text)
		case tStar:
			b.WriteByte('*')
		case tOne:
			b.WriteByte('?')
		case tVar:
			v, ok := lookupVar(ctx, p)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// toks converts a template to wildcard tokens, substituting variables
// (whose values are literal text: a "*" in a tag value is not a wildcard).
// With fold, literal text is lower-cased.
func (t *template) toks(ctx Context, fold bool) ([]gtok, bool) {
	out := make([]gtok, 0, len(t.parts))
	add := func(s string) {
		if s == "" {
			return
		}
		if fold {
			s = asciiLower(s)
		}
		if n := len(out); n > 0 && out[n-1].kind == gLit {
			out[n-1].lit += s
			return
		}
		out = append(out, gtok{kind: gLit, lit: s})
	}
	for i := range t.parts {
		p := &t.parts[i]
		switch p.kind {
		case tLit:
			add(p.text)
		case tStar:
			if n := len(out); n == 0 || out[n-1].kind != gStar {
				out = append(out, gtok{kind: gStar})
			}
		case tOne:
			out = append(out, gtok{kind: gOne})
		case tVar:
			v, ok := lookupVar(ctx, p)
			if !ok {
				return nil, false
			}
			add(v)
		}
	}
	return out, true
}

// ARN patterns: the ARN operators compare the six colon-separated
// components separately, each with its own wildcards (AWS: "Each of the six
// colon-delimited components of the ARN is checked separately").

// arnGlob is a compiled ARN pattern of up to six components; when the
// pattern has fewer, its last component matches the rest of the value.
type arnGlob struct {
	comps []glob
}

func newArnGlob(toks []gtok) arnGlob {
	var comps []glob
	var cur []gtok
	for _, t := range toks {
		if t.kind != gLit || len(comps) == 5 {
			cur = append(cur, t)
			continue
		}
		lit := t.lit
		for len(comps) < 5 {
			before, after, found := strings.Cut(lit, ":")
			if !found {
				break
			}
			if before != "" {
				cur = append(cur, gtok{kind: gLit, lit: before})
			}
			comps = append(comps, newGlob(cur))
			cur = nil
			lit = after
		}
		if lit != "" {
			cur = append(cur, gtok{kind: gLit, lit: lit})
		}
	}
	comps = append(comps, newGlob(cur))
	return arnGlob{comps: comps}
}

func (a *arnGlob) match(v string) bool {
	n := len(a.comps)
	for i := 0; i < n-1; i++ {
		before, after, found := strings.Cut(v, ":")
		if !found || !a.comps[i].match(before, false) {
			return false
		}
		v = after
	}
	return a.comps[n-1].match(v, false)
}

// globFromTemplate compiles a template without variables.
func globFromTemplate(t *template, fold bool) glob {
	toks, _ := t.toks(nil, fold)
	return newGlob(toks)
}
