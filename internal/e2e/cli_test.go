package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/server/servertest"
)

// TestCLI runs scripts/cli-e2e.sh, which drives the real binary with the
// AWS CLI.
func TestCLI(t *testing.T) {
	requireTool(t, "aws")
	requireTool(t, "bash")
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "cli-e2e.sh"))
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _ := startProcess(t, t.TempDir())

	runCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "bash", script, endpoint)
	cmd.Dir = t.TempDir()
	// The caller's AWS settings must not leak in: no profiles, config or
	// credentials files, only the test identity.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID="+servertest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+servertest.Secret,
		"AWS_DEFAULT_REGION="+servertest.Region,
		"AWS_PAGER=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cli-e2e.sh: got %v, want success; output:\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "cli-e2e: ok") {
		t.Fatalf("cli-e2e.sh: got output without \"cli-e2e: ok\":\n%s", got)
	}
}
