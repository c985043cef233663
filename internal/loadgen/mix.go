package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Operation is a KMS operation the load generator can send. The zero
// value is OpUnknown.
type Operation int

// The operations, in the order reports list them.
const (
	OpUnknown Operation = iota
	OpEncrypt
	OpDecrypt
	OpGenerateDataKey
	OpReEncrypt
	OpSign
	OpVerify
	OpGenerateMac
	OpVerifyMac
	OpDescribeKey
	OpCreateKey
	OpGenerateRandom
	numOps
)

var opNames = [numOps]struct{ flag, target string }{
	OpUnknown:         {"unknown", ""},
	OpEncrypt:         {"encrypt", "Encrypt"},
	OpDecrypt:         {"decrypt", "Decrypt"},
	OpGenerateDataKey: {"generate-data-key", "GenerateDataKey"},
	OpReEncrypt:       {"re-encrypt", "ReEncrypt"},
	OpSign:            {"sign", "Sign"},
	OpVerify:          {"verify", "Verify"},
	OpGenerateMac:     {"generate-mac", "GenerateMac"},
	OpVerifyMac:       {"verify-mac", "VerifyMac"},
	OpDescribeKey:     {"describe-key", "DescribeKey"},
	OpCreateKey:       {"create-key", "CreateKey"},
	OpGenerateRandom:  {"generate-random", "GenerateRandom"},
}

// String returns the operation's name as the CLI spells it (AWS CLI style).
func (o Operation) String() string {
	if o <= OpUnknown || o >= numOps {
		return "unknown"
	}
	return opNames[o].flag
}

// Target returns the AWS KMS operation name ("Encrypt"), the suffix of
// the X-Amz-Target header.
func (o Operation) Target() string {
	if o <= OpUnknown || o >= numOps {
		return ""
	}
	return opNames[o].target
}

// ParseOperation accepts the CLI name ("generate-data-key") or the AWS
// operation name ("GenerateDataKey"), case-insensitively.
func ParseOperation(s string) (Operation, error) {
	for o := OpUnknown + 1; o < numOps; o++ {
		if strings.EqualFold(s, opNames[o].flag) || strings.EqualFold(s, opNames[o].target) {
			return o, nil
		}
	}
	return OpUnknown, fmt.Errorf("unknown operation %q (known: %s)", s, strings.Join(OperationNames(), ", "))
}

// OperationNames lists the CLI names of every operation.
func OperationNames() []string {
	var names []string
	for o := OpUnknown + 1; o < numOps; o++ {
		names = append(names, o.String())
	}
	return names
}

// MixEntry is one operation of a mix with its relative weight.
type MixEntry struct {
	Op     Operation
	Weight int
}

// Mix is a weighted set of operations; each operation appears once.
type Mix []MixEntry

// ParseMix parses "encrypt=70,decrypt=20,generate-data-key=10". A weight
// may be left out ("encrypt" is "encrypt=1"). Weights are positive
// integers; an operation may appear only once.
func ParseMix(s string) (Mix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty mix: name at least one operation, e.g. encrypt=70,decrypt=30")
	}
	var m Mix
	seen := map[Operation]bool{}
	for part := range strings.SplitSeq(s, ",") {
		name, weight, hasWeight := strings.Cut(strings.TrimSpace(part), "=")
		op, err := ParseOperation(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		w := 1
		if hasWeight {
			w, err = strconv.Atoi(strings.TrimSpace(weight))
			if err != nil || w <= 0 || w > 10_000 {
				return nil, fmt.Errorf("weight of %s: %q is not an integer between 1 and 10000", op, weight)
			}
		}
		if seen[op] {
			return nil, fmt.Errorf("%s appears twice in the mix", op)
		}
		seen[op] = true
		m = append(m, MixEntry{Op: op, Weight: w})
	}
	return m, nil
}

// String returns the mix in the form ParseMix reads.
func (m Mix) String() string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = e.Op.String() + "=" + strconv.Itoa(e.Weight)
	}
	return strings.Join(parts, ",")
}

// Has reports whether the mix includes any of ops.
func (m Mix) Has(ops ...Operation) bool {
	for _, e := range m {
		for _, o := range ops {
			if e.Op == o {
				return true
			}
		}
	}
	return false
}

// schedule returns a sequence in which every operation appears exactly
// weight/gcd times, shuffled with a fixed seed so runs are reproducible
// and operations interleave. Request i runs schedule[i % len(schedule)].
func (m Mix) schedule() []Operation {
	g := 0
	for _, e := range m {
		g = gcd(g, e.Weight)
	}
	var seq []Operation
	for _, e := range m {
		for range e.Weight / g {
			seq = append(seq, e.Op)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
	return seq
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
