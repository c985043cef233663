package e2e_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLI runs scripts/cli-e2e.sh, which drives the real binary with the
// AWS CLI.
func TestCLI(t *testing.T) {
	requireTool(t, "aws")
	requireTool(t, "bash")
	requireTool(t, "python3") // the ML-DSA step computes mu with hashlib
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "cli-e2e.sh"))
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _ := startProcess(t, t.TempDir())

	runCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "bash", script, endpoint)
	cmd.Dir = t.TempDir()
	cmd.Env = awsCLIEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cli-e2e.sh: got %v, want success; output:\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "cli-e2e: ok") {
		t.Fatalf("cli-e2e.sh: got output without \"cli-e2e: ok\":\n%s", got)
	}
}
