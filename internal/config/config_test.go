package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "openkms.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileIsStrict(t *testing.T) {
	cfg := Defaults()
	err := LoadFile(writeFile(t, `{"listen":"0.0.0.0:9000","data_dri":"/x"}`), &cfg)
	if err == nil || !strings.Contains(err.Error(), `"data_dri"`) {
		t.Fatalf("unknown key: got %v, want an error naming data_dri", err)
	}
	err = LoadFile(writeFile(t, `{"regions":"us-east-1"}`), &cfg)
	if err == nil || !strings.Contains(err.Error(), "regions") {
		t.Fatalf("wrong type: got %v, want an error naming regions", err)
	}
	err = LoadFile(writeFile(t, `{"scheduler_interval":"soon"}`), &cfg)
	if err == nil {
		t.Fatal("bad duration: got nil error")
	}
	err = LoadFile(writeFile(t, `{} {}`), &cfg)
	if err == nil {
		t.Fatal("trailing data: got nil error")
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	cfg := Defaults()
	if err := LoadFile(writeFile(t, `{"listen":"127.0.0.1:9000","regions":["eu-west-1"],"scheduler_interval":"5s"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPENKMS_LISTEN": "127.0.0.1:9100", "OPENKMS_REGIONS": "us-east-1, us-west-2"}
	if err := LoadEnv(&cfg, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9100" || strings.Join(cfg.Regions, ",") != "us-east-1,us-west-2" || time.Duration(cfg.SchedulerInterval) != 5*time.Second {
		t.Errorf("got %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	bad := map[string]string{"OPENKMS_MAX_CLOCK_SKEW": "forever"}
	if err := LoadEnv(&cfg, func(k string) (string, bool) { v, ok := bad[k]; return v, ok }); err == nil || !strings.Contains(err.Error(), "OPENKMS_MAX_CLOCK_SKEW") {
		t.Errorf("bad env value: got %v, want an error naming the variable", err)
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]func(*Server){
		"tls cert without key":    func(c *Server) { c.TLSCert = "c.pem" },
		"short account":           func(c *Server) { c.AccountID = "123" },
		"half bootstrap":          func(c *Server) { c.BootstrapAccessKeyID = "AKIA" },
		"log level":               func(c *Server) { c.LogLevel = "loud" },
		"log format":              func(c *Server) { c.LogFormat = "xml" },
		"empty data dir":          func(c *Server) { c.DataDir = "" },
		"zero scheduler interval": func(c *Server) { c.SchedulerInterval = 0 },
	}
	for name, mutate := range cases {
		c := Defaults()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
	if d := Defaults(); d.Validate() != nil {
		t.Errorf("defaults do not validate: %v", d.Validate())
	}
}

func TestStringRedactsSecret(t *testing.T) {
	c := Defaults()
	c.BootstrapSecretAccessKey = "very-secret-value-1234"
	if strings.Contains(c.String(), "very-secret") {
		t.Errorf("String() leaks the bootstrap secret: %s", c)
	}
}
