package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

type sealedMessage struct {
	blob       []byte
	plaintext  string
	materialID string
}

func encryptNote(t *testing.T, c *kms.Client, keyID *string, note string) sealedMessage {
	t.Helper()
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: keyID, Plaintext: []byte(note), EncryptionContext: map[string]string{"note": note}})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: keyID})
	if err != nil {
		t.Fatal(err)
	}
	return sealedMessage{blob: enc.CiphertextBlob, plaintext: note, materialID: aws.ToString(d.KeyMetadata.CurrentKeyMaterialId)}
}

func checkDecrypts(t *testing.T, c *kms.Client, msgs []sealedMessage) {
	t.Helper()
	for i, m := range msgs {
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: m.blob, EncryptionContext: map[string]string{"note": m.plaintext}})
		if err != nil {
			t.Fatalf("message %d: Decrypt: %v", i, err)
		}
		if string(dec.Plaintext) != m.plaintext {
			t.Errorf("message %d: got %q, want %q", i, dec.Plaintext, m.plaintext)
		}
		if aws.ToString(dec.KeyMaterialId) != m.materialID {
			t.Errorf("message %d: KeyMaterialId got %s, want %s", i, aws.ToString(dec.KeyMaterialId), m.materialID)
		}
	}
}

func TestRotationStatus(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if err != nil || st.KeyRotationEnabled || st.NextRotationDate != nil || st.RotationPeriodInDays != nil {
		t.Fatalf("new key rotation status: got %+v, %v; want disabled", st, err)
	}
	for _, bad := range []int32{89, 2561} {
		_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(bad)})
		wantAPIError(t, err, "ValidationException", "")
	}
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	st, _ = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 || st.NextRotationDate == nil {
		t.Fatalf("after EnableKeyRotation: got %+v", st)
	}
	if d := time.Until(*st.NextRotationDate); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("NextRotationDate: got %v from now, want 365 days", d)
	}
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	st, _ = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if aws.ToInt32(st.RotationPeriodInDays) != 90 {
		t.Errorf("period: got %d, want 90", aws.ToInt32(st.RotationPeriodInDays))
	}
	if _, err := c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	st, _ = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id})
	if st.KeyRotationEnabled {
		t.Errorf("after DisableKeyRotation: still enabled")
	}
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String("alias/x")})
	wantAPIError(t, err, "NotFoundException", "Invalid keyId alias/x")
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id})
	wantAPIError(t, err, "DisabledException", "")
	if _, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id}); err != nil {
		t.Errorf("GetKeyRotationStatus on a disabled key: %v", err)
	}
}

func TestRotateOnDemandKeepsEveryGeneration(t *testing.T) {
	_, c := start(t)
	md := createKey(t, c)
	first := aws.ToString(md.CurrentKeyMaterialId)
	var msgs []sealedMessage
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		m := encryptNote(t, c, md.KeyId, fmt.Sprintf("generation %d", i))
		if seen[m.materialID] {
			t.Fatalf("generation %d reuses material %s", i, m.materialID)
		}
		seen[m.materialID] = true
		msgs = append(msgs, m)
		out, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: md.KeyId})
		if err != nil {
			t.Fatalf("RotateKeyOnDemand %d: %v", i, err)
		}
		if aws.ToString(out.KeyId) != *md.Arn {
			t.Errorf("RotateKeyOnDemand KeyId: got %s, want %s", aws.ToString(out.KeyId), *md.Arn)
		}
	}
	if msgs[0].materialID != first {
		t.Errorf("first generation: got %s, want CreateKey's %s", msgs[0].materialID, first)
	}
	checkDecrypts(t, c, msgs)

	// ReEncrypt moves an old ciphertext to the current material.
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: msgs[0].blob, SourceEncryptionContext: map[string]string{"note": msgs[0].plaintext},
		DestinationKeyId: md.KeyId, DestinationEncryptionContext: map[string]string{"note": msgs[0].plaintext}})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	if aws.ToString(re.SourceKeyMaterialId) != first || aws.ToString(re.DestinationKeyMaterialId) != aws.ToString(cur.KeyMetadata.CurrentKeyMaterialId) {
		t.Errorf("ReEncrypt material ids: got %s -> %s", aws.ToString(re.SourceKeyMaterialId), aws.ToString(re.DestinationKeyMaterialId))
	}

	// ListKeyRotations: ten on-demand rotations; with ALL_KEY_MATERIAL also
	// the original material, exactly one CURRENT.
	var rotations []types.RotationsListEntry
	var marker *string
	for {
		out, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: md.KeyId, Limit: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		rotations = append(rotations, out.Rotations...)
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if len(rotations) != 10 {
		t.Fatalf("ListKeyRotations: got %d entries, want 10", len(rotations))
	}
	for _, r := range rotations {
		if r.RotationType != types.RotationTypeOnDemand || r.RotationDate == nil || aws.ToString(r.KeyId) != *md.Arn {
			t.Errorf("rotation entry: got %+v", r)
		}
	}
	all, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: md.KeyId, IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil {
		t.Fatal(err)
	}
	current := 0
	for _, r := range all.Rotations {
		if r.KeyMaterialState == types.KeyMaterialStateCurrent {
			current++
		}
	}
	if len(all.Rotations) != 11 || current != 1 {
		t.Errorf("ALL_KEY_MATERIAL: got %d entries with %d current, want 11 with 1", len(all.Rotations), current)
	}
}

func TestOnDemandRotationLimit(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	for i := 0; i < 25; i++ {
		if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	_, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	wantAPIError(t, err, "LimitExceededException", "")
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	other := createKey(t, c).KeyId
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: other})
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: other})
	wantAPIError(t, err, "DisabledException", "")
}

func fastJobs(c *config.Server) { c.SchedulerInterval = config.Duration(20 * time.Millisecond) }

func TestAutomaticRotationBySchedule(t *testing.T) {
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock, Config: fastJobs})
	c := s.Client(servertest.Region)
	md := createKey(t, c)
	paused := createKey(t, c)
	for _, id := range []*string{md.KeyId, paused.KeyId} {
		if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id, RotationPeriodInDays: aws.Int32(90)}); err != nil {
			t.Fatal(err)
		}
	}
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: paused.KeyId})
	msgs := []sealedMessage{encryptNote(t, c, md.KeyId, "before")}
	for gen := 1; gen <= 3; gen++ {
		clock.Advance(91 * 24 * time.Hour)
		waitFor(t, func() bool {
			d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
			return aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != msgs[len(msgs)-1].materialID
		})
		msgs = append(msgs, encryptNote(t, c, md.KeyId, fmt.Sprintf("after rotation %d", gen)))
	}
	checkDecrypts(t, c, msgs)
	out, _ := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: md.KeyId})
	if len(out.Rotations) != 3 || out.Rotations[0].RotationType != types.RotationTypeAutomatic {
		t.Errorf("ListKeyRotations after 3 automatic rotations: got %+v", out.Rotations)
	}
	// The disabled key did not rotate; enabling it lets the overdue rotation run.
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: paused.KeyId})
	if aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(paused.CurrentKeyMaterialId) {
		t.Errorf("a disabled key was rotated")
	}
	c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: paused.KeyId})
	waitFor(t, func() bool {
		d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: paused.KeyId})
		return aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(paused.CurrentKeyMaterialId)
	})
}

func TestRotationScheduleSurvivesRestart(t *testing.T) {
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock, Config: fastJobs})
	c := s.Client(servertest.Region)
	md := createKey(t, c)
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: md.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	before := encryptNote(t, c, md.KeyId, "before restart")
	s.Stop(t)
	clock.Advance(100 * 24 * time.Hour)
	s2 := servertest.Start(t, servertest.Options{DataDir: s.DataDir, Clock: clock, Config: fastJobs})
	c2 := s2.Client(servertest.Region)
	waitFor(t, func() bool {
		d, _ := c2.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
		return aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != before.materialID
	})
	st, _ := c2.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if st.NextRotationDate == nil || !st.NextRotationDate.After(clock.Now().Add(89*24*time.Hour)) {
		t.Errorf("NextRotationDate after the rotation: got %v, want a period after now", st.NextRotationDate)
	}
	checkDecrypts(t, c2, []sealedMessage{before})
}
