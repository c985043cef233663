package principal

import "testing"

func TestTags(t *testing.T) {
	tags := NewTags(map[string]string{"Team": "kms", "env": "", "b": "x=y"})
	if got, want := tags.String(), "b=x=y,env=,Team=kms"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if v, ok := tags.Get("TEAM"); !ok || v != "kms" {
		t.Fatalf("got %q, %v, want kms, true (keys match ignoring case)", v, ok)
	}
	if v, ok := tags.Get("env"); !ok || v != "" {
		t.Fatalf("got %q, %v, want an empty value that is present", v, ok)
	}
	if _, ok := tags.Get("missing"); ok {
		t.Fatal("got a missing key, want absent")
	}
	if tags.Len() != 3 || len(tags.Map()) != 3 {
		t.Fatalf("got Len %d, Map %v, want 3", tags.Len(), tags.Map())
	}
	if NewTags(map[string]string{"env": "", "b": "x=y", "Team": "kms"}) != tags {
		t.Fatal("got different sets for equal maps, want == to hold")
	}
	if (Tags{}).Len() != 0 || NewTags(nil) != (Tags{}) {
		t.Fatal("got a non-empty zero value, want empty")
	}
	if got := NewTags(map[string]string{"a": "1", "A": "2", "bad\x00": "v"}); got.Len() != 1 {
		t.Fatalf("got %q, want one tag (case duplicates and NUL dropped)", got)
	}
	// Principals with tags stay comparable.
	p := Principal{Tags: tags}
	if p != (Principal{Tags: NewTags(map[string]string{"Team": "kms", "env": "", "b": "x=y"})}) {
		t.Fatal("got unequal principals, want equal")
	}
}
