package mldsa

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// acvpSubset is testdata/acvp_subset.json; its source field says where the
// vectors come from and how they were selected.
type acvpSubset struct {
	Source string `json:"source"`
	SigGen []struct {
		TcID            int    `json:"tcId"`
		ParameterSet    string `json:"parameterSet"`
		Deterministic   bool   `json:"deterministic"`
		Sk              string `json:"sk"`
		Message         string `json:"message"`
		Rnd             string `json:"rnd"`
		SignatureSHA256 string `json:"signatureSHA256"`
	} `json:"sigGen"`
	SigVer []struct {
		ParameterSet string `json:"parameterSet"`
		Pk           string `json:"pk"`
		Tests        []struct {
			TcID          int    `json:"tcId"`
			Message       string `json:"message"`
			Signature     string `json:"signature"`
			TestPassed    bool   `json:"testPassed"`
			HintMalformed bool   `json:"hintMalformed"`
		} `json:"tests"`
	} `json:"sigVer"`
}

var acvpParams = map[string]*Params{"ML-DSA-44": MLDSA44, "ML-DSA-65": MLDSA65, "ML-DSA-87": MLDSA87}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// internalMu is μ of ML-DSA.Sign_internal / Verify_internal given M′
// (FIPS 204 Algorithm 7 step 6, Algorithm 8 step 7): H(tr || M′, 64).
func internalMu(tr, message []byte) (mu [MuSize]byte) {
	h := sha3.NewSHAKE256()
	h.Write(tr)
	h.Write(message)
	h.Read(mu[:])
	return mu
}

// TestACVP runs the NIST ACVP subset: sigGen (deterministic and hedged)
// must reproduce the expected signature, and sigVer must give the expected
// verdict, failing in HintBitUnpack exactly for the malformed hints.
func TestACVP(t *testing.T) {
	raw, err := os.ReadFile("testdata/acvp_subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var v acvpSubset
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Source == "" || len(v.SigGen) != 6 || len(v.SigVer) != 3 {
		t.Fatal("unexpected vector file shape")
	}
	hedged := 0
	for _, c := range v.SigGen {
		p := acvpParams[c.ParameterSet]
		sk := unhex(t, c.Sk)
		var rnd [RandomSize]byte
		if !c.Deterministic {
			copy(rnd[:], unhex(t, c.Rnd))
			hedged++
		}
		mu := internalMu(sk[64:128], unhex(t, c.Message))
		sig, err := SignMu(p, sk, mu, rnd)
		if err != nil {
			t.Fatalf("sigGen tcId %d: %v", c.TcID, err)
		}
		if sum := sha256.Sum256(sig); hex.EncodeToString(sum[:]) != c.SignatureSHA256 {
			t.Errorf("sigGen tcId %d (%s): SHA-256(signature) = %x, want %s", c.TcID, p, sum, c.SignatureSHA256)
		}
	}
	if hedged != 3 {
		t.Errorf("%d hedged sigGen tests, want 3", hedged)
	}
	passed, failed := 0, 0
	for _, g := range v.SigVer {
		p := acvpParams[g.ParameterSet]
		pk := unhex(t, g.Pk)
		tr := sha3.SumSHAKE256(pk, 64)
		for _, c := range g.Tests {
			sig := unhex(t, c.Signature)
			mu := internalMu(tr, unhex(t, c.Message))
			if got := VerifyMu(p, pk, mu, sig); got != c.TestPassed {
				t.Errorf("sigVer tcId %d (%s): VerifyMu = %v, want %v", c.TcID, p, got, c.TestPassed)
			}
			if _, _, _, ok := sigDecode(p, sig); ok == c.HintMalformed {
				t.Errorf("sigVer tcId %d: hint decodes = %v, want %v", c.TcID, ok, !c.HintMalformed)
			}
			if c.TestPassed {
				passed++
			} else {
				failed++
			}
		}
	}
	if passed != 3 || failed != 6 {
		t.Errorf("sigVer: %d passing and %d failing tests, want 3 and 6", passed, failed)
	}
}
