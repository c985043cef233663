package loadgen

import (
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "encrypt=70,decrypt=20,generate-data-key=10", want: "encrypt=70,decrypt=20,generate-data-key=10"},
		{in: "encrypt", want: "encrypt=1"},
		{in: " Encrypt = 3 , GenerateDataKey=1", want: "encrypt=3,generate-data-key=1"},
		{in: "sign=1,verify=1,generate-mac=1,verify-mac=1,re-encrypt=1,describe-key=1,create-key=1,generate-random=1",
			want: "sign=1,verify=1,generate-mac=1,verify-mac=1,re-encrypt=1,describe-key=1,create-key=1,generate-random=1"},
		{in: "", err: "empty mix"},
		{in: "encrypt=0", err: "weight of encrypt"},
		{in: "encrypt=-1", err: "weight of encrypt"},
		{in: "encrypt=x", err: "weight of encrypt"},
		{in: "encrypt=10001", err: "weight of encrypt"},
		{in: "encrypt=1,encrypt=2", err: "appears twice"},
		{in: "encrypt=1,,decrypt", err: "unknown operation"},
		{in: "list-keys=1", err: `unknown operation "list-keys"`},
	}
	for _, tc := range cases {
		m, err := ParseMix(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMix(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMix(%q): %v", tc.in, err)
			continue
		}
		if got := m.String(); got != tc.want {
			t.Errorf("ParseMix(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestMixScheduleProportions(t *testing.T) {
	m, err := ParseMix("encrypt=70,decrypt=20,generate-data-key=10")
	if err != nil {
		t.Fatal(err)
	}
	seq := m.schedule()
	if len(seq) != 10 { // weights reduced by their gcd
		t.Fatalf("len(schedule) = %d, want 10", len(seq))
	}
	got := map[Operation]int{}
	for _, op := range seq {
		got[op]++
	}
	if got[OpEncrypt] != 7 || got[OpDecrypt] != 2 || got[OpGenerateDataKey] != 1 {
		t.Errorf("schedule counts = %v, want encrypt 7, decrypt 2, generate-data-key 1", got)
	}
}

func TestOperationEnum(t *testing.T) {
	if OpUnknown.String() != "unknown" || OpUnknown.Target() != "" {
		t.Errorf("zero Operation = %q/%q, want unknown/\"\"", OpUnknown, OpUnknown.Target())
	}
	for _, name := range OperationNames() {
		op, err := ParseOperation(name)
		if err != nil || op.String() != name {
			t.Errorf("ParseOperation(%q) = %v, %v", name, op, err)
		}
		if op2, err := ParseOperation(op.Target()); err != nil || op2 != op {
			t.Errorf("ParseOperation(%q) = %v, %v, want %v", op.Target(), op2, err, op)
		}
	}
}
