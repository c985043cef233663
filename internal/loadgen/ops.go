package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Wire types: the AWS KMS request and response fields this tool sends and
// checks, named as the AWS KMS API reference names them.

type keyMetadata struct {
	KeyID                string   `json:"KeyId"`
	KeySpec              string   `json:"KeySpec"`
	KeyUsage             string   `json:"KeyUsage"`
	EncryptionAlgorithms []string `json:"EncryptionAlgorithms"`
	SigningAlgorithms    []string `json:"SigningAlgorithms"`
	MacAlgorithms        []string `json:"MacAlgorithms"`
}

type keyMetadataOut struct {
	KeyMetadata keyMetadata `json:"KeyMetadata"`
}

type keyIDIn struct {
	KeyID string `json:"KeyId"`
}

type createKeyIn struct {
	Description string `json:"Description"`
	KeySpec     string `json:"KeySpec"`
	KeyUsage    string `json:"KeyUsage"`
	Policy      string `json:"Policy,omitempty"`
}

type scheduleKeyDeletionIn struct {
	KeyID               string `json:"KeyId"`
	PendingWindowInDays int    `json:"PendingWindowInDays"`
}

type encryptIn struct {
	KeyID               string `json:"KeyId"`
	Plaintext           []byte `json:"Plaintext"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm,omitempty"`
}

type decryptIn struct {
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	KeyID               string `json:"KeyId,omitempty"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm,omitempty"`
}

type reEncryptIn struct {
	CiphertextBlob                 []byte `json:"CiphertextBlob"`
	SourceKeyID                    string `json:"SourceKeyId,omitempty"`
	SourceEncryptionAlgorithm      string `json:"SourceEncryptionAlgorithm,omitempty"`
	DestinationKeyID               string `json:"DestinationKeyId"`
	DestinationEncryptionAlgorithm string `json:"DestinationEncryptionAlgorithm,omitempty"`
}

type numberOfBytesIn struct {
	KeyID         string `json:"KeyId,omitempty"`
	NumberOfBytes int    `json:"NumberOfBytes"`
}

type signIn struct {
	KeyID            string `json:"KeyId"`
	Message          []byte `json:"Message"`
	MessageType      string `json:"MessageType"`
	SigningAlgorithm string `json:"SigningAlgorithm"`
	Signature        []byte `json:"Signature,omitempty"`
}

type macIn struct {
	KeyID        string `json:"KeyId"`
	Message      []byte `json:"Message"`
	MacAlgorithm string `json:"MacAlgorithm"`
	Mac          []byte `json:"Mac,omitempty"`
}

// out is every response field the checks read; one type keeps the hot
// path to a single decode.
type out struct {
	CiphertextBlob []byte      `json:"CiphertextBlob"`
	Plaintext      []byte      `json:"Plaintext"`
	Signature      []byte      `json:"Signature"`
	SignatureValid bool        `json:"SignatureValid"`
	Mac            []byte      `json:"Mac"`
	MacValid       bool        `json:"MacValid"`
	KeyMetadata    keyMetadata `json:"KeyMetadata"`
}

// Key usage classes: which kind of key an operation needs.
type keyClass int

const (
	classNone    keyClass = iota
	classEncrypt          // ENCRYPT_DECRYPT, symmetric or asymmetric
	classDataKey          // ENCRYPT_DECRYPT, SYMMETRIC_DEFAULT
	classSign             // SIGN_VERIFY
	classMAC              // GENERATE_VERIFY_MAC
	classAny              // any key (DescribeKey)
	numClasses
)

func classOf(op Operation) keyClass {
	switch op {
	case OpEncrypt, OpDecrypt, OpReEncrypt:
		return classEncrypt
	case OpGenerateDataKey:
		return classDataKey
	case OpSign, OpVerify:
		return classSign
	case OpGenerateMac, OpVerifyMac:
		return classMAC
	case OpDescribeKey:
		return classAny
	}
	return classNone
}

func (c keyClass) String() string {
	return [...]string{"", "an ENCRYPT_DECRYPT key", "a SYMMETRIC_DEFAULT key", "a SIGN_VERIFY key", "a GENERATE_VERIFY_MAC key", "a key"}[c]
}

func (c keyClass) fits(m keyMetadata) bool {
	switch c {
	case classEncrypt:
		return m.KeyUsage == "ENCRYPT_DECRYPT"
	case classDataKey:
		return m.KeyUsage == "ENCRYPT_DECRYPT" && m.KeySpec == "SYMMETRIC_DEFAULT"
	case classSign:
		return m.KeyUsage == "SIGN_VERIFY"
	case classMAC:
		return m.KeyUsage == "GENERATE_VERIFY_MAC"
	case classAny:
		return true
	}
	return false
}

// specFor returns the key spec and usage to create for class c when the
// user asked for spec, and whether spec itself fits c.
func specFor(c keyClass, spec string) (keySpec, usage string, fits bool) {
	rsa, sm2 := strings.HasPrefix(spec, "RSA_"), spec == "SM2"
	switch c {
	case classEncrypt:
		if spec == "SYMMETRIC_DEFAULT" || rsa || sm2 {
			return spec, "ENCRYPT_DECRYPT", true
		}
		return "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", false
	case classDataKey:
		return "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", spec == "SYMMETRIC_DEFAULT"
	case classSign:
		if strings.HasPrefix(spec, "ECC_") || strings.HasPrefix(spec, "ML_DSA_") || rsa || sm2 {
			return spec, "SIGN_VERIFY", true
		}
		return "ECC_NIST_P256", "SIGN_VERIFY", false
	case classMAC:
		if strings.HasPrefix(spec, "HMAC_") {
			return spec, "GENERATE_VERIFY_MAC", true
		}
		return "HMAC_256", "GENERATE_VERIFY_MAC", false
	case classAny:
		return spec, defaultUsage(spec), true
	}
	return "", "", false
}

// defaultUsage is the key usage CreateKey is asked for with spec alone.
func defaultUsage(spec string) string {
	switch {
	case strings.HasPrefix(spec, "HMAC_"):
		return "GENERATE_VERIFY_MAC"
	case strings.HasPrefix(spec, "ECC_"), strings.HasPrefix(spec, "ML_DSA_"):
		return "SIGN_VERIFY"
	}
	return "ENCRYPT_DECRYPT"
}

// encryptionAlgorithm picks the algorithm for an encryption key: none
// (the default) for symmetric keys, RSAES_OAEP_SHA_256 or SM2PKE else.
func encryptionAlgorithm(m keyMetadata) string {
	if m.KeySpec == "SYMMETRIC_DEFAULT" {
		return ""
	}
	return prefer(m.EncryptionAlgorithms, "RSAES_OAEP_SHA_256", "SM2PKE")
}

func signingAlgorithm(m keyMetadata) string {
	return prefer(m.SigningAlgorithms, "ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512",
		"RSASSA_PSS_SHA_256", "ML_DSA_SHAKE_256", "ED25519_SHA_512", "SM2DSA")
}

// prefer returns the first of want that have contains, else have's first.
func prefer(have []string, want ...string) string {
	for _, w := range want {
		if slices.Contains(have, w) {
			return w
		}
	}
	if len(have) > 0 {
		return have[0]
	}
	return ""
}

// KeyReport names a key the run used.
type KeyReport struct {
	KeyID    string `json:"key_id"`
	KeySpec  string `json:"key_spec"`
	KeyUsage string `json:"key_usage"`
	Created  bool   `json:"created"`
}

// key is a key the run uses: the id to send and what DescribeKey or
// CreateKey said about it.
type key struct {
	id      string
	meta    keyMetadata
	created bool
}

// resolveKeys finds or creates the keys of every class the mix needs: the
// --key-id keys that fit it, or Config.Keys new keys.
func (r *runner) resolveKeys(ctx context.Context) error {
	var need [numClasses]bool
	for _, e := range r.cfg.Mix {
		need[classOf(e.Op)] = true
	}
	if len(r.cfg.KeyIDs) > 0 {
		var keys []*key
		for _, id := range r.cfg.KeyIDs {
			var o keyMetadataOut
			if err := r.c.call(ctx, OpDescribeKey.Target(), keyIDIn{KeyID: id}, &o); err != nil {
				return fmt.Errorf("describing --key-id %s: %w", id, err)
			}
			keys = append(keys, &key{id: id, meta: o.KeyMetadata})
		}
		for c := classEncrypt; c < numClasses; c++ {
			if !need[c] {
				continue
			}
			for _, k := range keys {
				if c.fits(k.meta) {
					r.keys[c] = append(r.keys[c], k)
				}
			}
			if len(r.keys[c]) == 0 {
				return fmt.Errorf("the mix needs %s and no --key-id is one", c)
			}
		}
		return nil
	}
	spec := r.cfg.KeySpec
	if spec == "" {
		spec = "SYMMETRIC_DEFAULT"
	}
	fitsSome := r.cfg.KeySpec == "" || r.cfg.Mix.Has(OpCreateKey)
	byKind := map[string][]*key{}
	for c := classEncrypt; c < numClasses; c++ {
		if !need[c] {
			continue
		}
		if c == classAny && len(r.created) > 0 { // any key will do: reuse those made
			r.keys[c] = r.created[:min(len(r.created), r.cfg.Keys)]
			continue
		}
		s, usage, fits := specFor(c, spec)
		fitsSome = fitsSome || fits
		if ks := byKind[s+"/"+usage]; ks != nil {
			r.keys[c] = ks
			continue
		}
		ks := make([]*key, r.cfg.Keys)
		err := r.parallel(ctx, len(ks), func(i int) error {
			var o keyMetadataOut
			if err := r.c.call(ctx, OpCreateKey.Target(), createKeyIn{Description: "openkms bench", KeySpec: s, KeyUsage: usage, Policy: r.cfg.KeyPolicy}, &o); err != nil {
				return fmt.Errorf("creating a %s key: %w", s, err)
			}
			if o.KeyMetadata.KeyID == "" {
				return fmt.Errorf("creating a %s key: %w", s, &ResponseError{Reason: "CreateKey returned no KeyId"})
			}
			ks[i] = &key{id: o.KeyMetadata.KeyID, meta: o.KeyMetadata, created: true}
			return nil
		})
		for _, k := range ks { // the made ones, even after a failure, so cleanup finds them
			if k != nil {
				r.created = append(r.created, k)
			}
		}
		if err != nil {
			return err
		}
		r.keys[c], byKind[s+"/"+usage] = ks, ks
	}
	if !fitsSome {
		return fmt.Errorf("--key-spec %s fits none of the operations in the mix (%s)", spec, r.cfg.Mix)
	}
	return nil
}

// plan is how one operation of the mix is sent: a pool of prepared
// requests used round robin, and the check of each response.
type plan struct {
	op     Operation
	target string // X-Amz-Target
	reqs   []request
	next   atomic.Uint64
	n      int // GenerateDataKey, GenerateRandom: the bytes asked for
}

func (p *plan) pick() *request {
	return &p.reqs[(p.next.Add(1)-1)%uint64(len(p.reqs))]
}

// prepare builds the plan of every operation in the mix, making the
// ciphertexts, signatures and MACs that Decrypt, ReEncrypt, Verify and
// VerifyMac send.
func (r *runner) prepare(ctx context.Context) error {
	rng := rand.New(rand.NewChaCha8([32]byte{'o', 'p', 'e', 'n', 'k', 'm', 's'}))
	message := func() []byte {
		b := make([]byte, r.cfg.Payload)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, e := range r.cfg.Mix {
		p := &plan{op: e.Op, target: "TrentService." + e.Op.Target(), n: r.cfg.Payload}
		keys := r.keys[classOf(e.Op)]
		pool := max(r.cfg.Pool, len(keys)) // every key appears in a pool
		keyOf := func(i int) *key { return keys[i%len(keys)] }
		var ins []any
		var wants [][]byte
		switch e.Op {
		case OpEncrypt:
			for _, k := range keys {
				ins = append(ins, encryptIn{KeyID: k.id, Plaintext: message(), EncryptionAlgorithm: encryptionAlgorithm(k.meta)})
			}
		case OpDecrypt, OpReEncrypt:
			msgs := make([][]byte, pool)
			for i := range msgs {
				msgs[i] = message()
			}
			blobs := make([][]byte, pool)
			err := r.parallel(ctx, pool, func(i int) error {
				var o out
				k := keyOf(i)
				if err := r.c.call(ctx, OpEncrypt.Target(), encryptIn{KeyID: k.id, Plaintext: msgs[i], EncryptionAlgorithm: encryptionAlgorithm(k.meta)}, &o); err != nil {
					return err
				}
				blobs[i] = o.CiphertextBlob
				return nil
			})
			if err != nil {
				return fmt.Errorf("preparing ciphertexts for %s: %w", e.Op, err)
			}
			for i := range blobs {
				k := keyOf(i)
				alg := encryptionAlgorithm(k.meta)
				if e.Op == OpDecrypt {
					in := decryptIn{CiphertextBlob: blobs[i]}
					if alg != "" { // asymmetric: AWS requires the key and algorithm
						in.KeyID, in.EncryptionAlgorithm = k.id, alg
					}
					ins, wants = append(ins, in), append(wants, msgs[i])
				} else {
					in := reEncryptIn{CiphertextBlob: blobs[i], DestinationKeyID: k.id}
					if alg != "" {
						in.SourceKeyID, in.SourceEncryptionAlgorithm, in.DestinationEncryptionAlgorithm = k.id, alg, alg
					}
					ins = append(ins, in)
				}
			}
		case OpGenerateDataKey:
			for _, k := range keys {
				ins = append(ins, numberOfBytesIn{KeyID: k.id, NumberOfBytes: r.cfg.Payload})
			}
		case OpGenerateRandom:
			ins = append(ins, numberOfBytesIn{NumberOfBytes: r.cfg.Payload})
		case OpSign, OpVerify:
			if e.Op == OpSign {
				for _, k := range keys {
					ins = append(ins, signIn{KeyID: k.id, Message: message(), MessageType: "RAW", SigningAlgorithm: signingAlgorithm(k.meta)})
				}
				break
			}
			reqs := make([]signIn, pool)
			for i := range reqs {
				k := keyOf(i)
				reqs[i] = signIn{KeyID: k.id, Message: message(), MessageType: "RAW", SigningAlgorithm: signingAlgorithm(k.meta)}
			}
			err := r.parallel(ctx, pool, func(i int) error {
				var o out
				if err := r.c.call(ctx, OpSign.Target(), reqs[i], &o); err != nil {
					return err
				}
				reqs[i].Signature = o.Signature
				return nil
			})
			if err != nil {
				return fmt.Errorf("preparing signatures for verify: %w", err)
			}
			for _, in := range reqs {
				ins = append(ins, in)
			}
		case OpGenerateMac, OpVerifyMac:
			if e.Op == OpGenerateMac {
				for _, k := range keys {
					ins = append(ins, macIn{KeyID: k.id, Message: message(), MacAlgorithm: prefer(k.meta.MacAlgorithms)})
				}
				break
			}
			reqs := make([]macIn, pool)
			for i := range reqs {
				k := keyOf(i)
				reqs[i] = macIn{KeyID: k.id, Message: message(), MacAlgorithm: prefer(k.meta.MacAlgorithms)}
			}
			err := r.parallel(ctx, pool, func(i int) error {
				var o out
				if err := r.c.call(ctx, OpGenerateMac.Target(), reqs[i], &o); err != nil {
					return err
				}
				reqs[i].Mac = o.Mac
				return nil
			})
			if err != nil {
				return fmt.Errorf("preparing MACs for verify-mac: %w", err)
			}
			for _, in := range reqs {
				ins = append(ins, in)
			}
		case OpDescribeKey:
			for _, k := range keys {
				ins = append(ins, keyIDIn{KeyID: k.id})
			}
		case OpCreateKey:
			spec := r.cfg.KeySpec
			if spec == "" {
				spec = "SYMMETRIC_DEFAULT"
			}
			usage := defaultUsage(spec)
			if strings.HasPrefix(spec, "RSA_") && r.cfg.Mix.Has(OpSign, OpVerify) {
				usage = "SIGN_VERIFY"
			}
			ins = append(ins, createKeyIn{Description: "openkms bench (create-key)", KeySpec: spec, KeyUsage: usage, Policy: r.cfg.KeyPolicy})
		default:
			return fmt.Errorf("operation %s is not supported", e.Op)
		}
		for i, in := range ins {
			req, err := newRequest(in)
			if err != nil {
				return err
			}
			if wants != nil {
				req.want = wants[i]
			}
			p.reqs = append(p.reqs, req)
		}
		r.plans[e.Op] = p
	}
	return nil
}

// check returns a *ResponseError unless body is a plausible successful
// response to the request.
func (p *plan) check(body []byte, req *request) error {
	var o out
	if err := json.Unmarshal(body, &o); err != nil {
		return &ResponseError{Reason: "undecodable JSON: " + err.Error()}
	}
	bad := ""
	switch p.op {
	case OpEncrypt, OpReEncrypt:
		if len(o.CiphertextBlob) == 0 {
			bad = "no CiphertextBlob"
		}
	case OpDecrypt:
		if !bytes.Equal(o.Plaintext, req.want) {
			bad = "Plaintext differs from what was encrypted"
		}
	case OpGenerateDataKey:
		if len(o.Plaintext) != p.n || len(o.CiphertextBlob) == 0 {
			bad = fmt.Sprintf("Plaintext of %d bytes (want %d) or no CiphertextBlob", len(o.Plaintext), p.n)
		}
	case OpGenerateRandom:
		if len(o.Plaintext) != p.n {
			bad = fmt.Sprintf("Plaintext of %d bytes, want %d", len(o.Plaintext), p.n)
		}
	case OpSign:
		if len(o.Signature) == 0 {
			bad = "no Signature"
		}
	case OpVerify:
		if !o.SignatureValid {
			bad = "SignatureValid is false for a valid signature"
		}
	case OpGenerateMac:
		if len(o.Mac) == 0 {
			bad = "no Mac"
		}
	case OpVerifyMac:
		if !o.MacValid {
			bad = "MacValid is false for a valid MAC"
		}
	case OpDescribeKey, OpCreateKey:
		if o.KeyMetadata.KeyID == "" {
			bad = "no KeyMetadata.KeyId"
		}
	}
	if bad != "" {
		return &ResponseError{Reason: p.op.Target() + ": " + bad}
	}
	return nil
}

// parallel runs f(0..n-1) on a few goroutines and returns the first error.
func (r *runner) parallel(ctx context.Context, n int, f func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range min(n, max(r.cfg.Concurrency, 1), 8) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// cleanup schedules the deletion (after 7 days, the shortest window) of
// the keys the run created for itself.
func (r *runner) cleanup(ctx context.Context) error {
	var errs []string
	for _, k := range r.created {
		var o struct{}
		if err := r.c.call(ctx, "ScheduleKeyDeletion", scheduleKeyDeletionIn{KeyID: k.id, PendingWindowInDays: 7}, &o); err != nil {
			errs = append(errs, k.id+": "+err.Error())
		}
	}
	if errs != nil {
		return fmt.Errorf("scheduling the deletion of the bench keys: %s", strings.Join(errs, "; "))
	}
	return nil
}
