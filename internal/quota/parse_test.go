package quota

import (
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		enabled bool
		want    map[Category]float64
	}{
		{"off", false, nil},
		{" off ", false, nil},
		{"on", true, nil},
		{"symmetric=10000,rsa=500,ecc=300,mldsa=100,management=50", true,
			map[Category]float64{Symmetric: 10000, RSA: 500, ECC: 300, MLDSA: 100, Management: 50}},
		{" Symmetric = 2.5e4 , CreateKey=0.5 ", true, map[Category]float64{Symmetric: 25000, opCreateKey: 0.5}},
		{"GenerateDataKeyPair(RSA_4096)=0.1,describekey=unlimited", true,
			map[Category]float64{dataKeyPairRSA4096: 0.1, opDescribeKey: math.Inf(1)}},
	} {
		cfg, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if cfg.Enabled != tc.enabled || len(cfg.Overrides) != len(tc.want) {
			t.Errorf("Parse(%q) = %+v, want enabled=%v overrides=%v", tc.in, cfg, tc.enabled, tc.want)
			continue
		}
		for c, r := range tc.want {
			if cfg.Overrides[c] != r {
				t.Errorf("Parse(%q): %v = %v, want %v", tc.in, c, cfg.Overrides[c], r)
			}
		}
		if _, err := New(cfg); err != nil {
			t.Errorf("New(Parse(%q)): %v", tc.in, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	// Each error quotes the entry and its position.
	for _, tc := range []struct{ in, want string }{
		{"", `empty setting`},
		{"   ", `empty setting`},
		{"rsa", `entry 1 "rsa": want category=rate`},
		{"off,rsa=1", `entry 1 "off": want category=rate`},
		{"rsa=1,,ecc=2", `entry 2 is empty`},
		{"rsa=1,", `entry 2 is empty`},
		{"rsa=1,foo=2", `entry 2 "foo=2": unknown quota category "foo"`},
		{"rsa=", `entry 1 "rsa=": rate "" is not a number`},
		{"rsa=abc", `entry 1 "rsa=abc": rate "abc" is not a number`},
		{"rsa=Inf", `entry 1 "rsa=Inf": rate "Inf" is not a number`},
		{"rsa=NaN", `entry 1 "rsa=NaN": rate NaN is not between`},
		{"rsa=0", `entry 1 "rsa=0": rate 0 is not between`},
		{"rsa=-5", `entry 1 "rsa=-5": rate -5 is not between`},
		{"rsa=1e10", `entry 1 "rsa=1e10": rate 1e+10 is not between`},
		{"ecc=1,rsa=2,RSA=3", `entry 3 "RSA=3": category rsa already set by entry 2`},
		{"unknown=1", `entry 1 "unknown=1": unknown quota category`},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error containing %q", tc.in, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "quota: ") {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"off", "on", "symmetric=10000,rsa=500", "CreateKey=unlimited", "a=b=c", ",", "rsa=0x1p3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse(s)
		if err != nil {
			return
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("Parse(%q) accepted a config New rejects: %v", s, err)
		}
	})
}
