package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDeployUnit keeps deploy/hookflow.service true: it runs the binary
// with DynamicUser and StateDirectory, as README says, every HOOKFLOW_
// setting it makes is one Hookflow reads (a flag's environment fallback)
// or one the README documents, and systemd waits longer than Hookflow's
// own shutdown takes at most.
func TestDeployUnit(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "hookflow.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("not a setting: %q", line)
			continue
		}
		unit[k] = append(unit[k], v)
	}
	for k, want := range map[string]string{
		"ExecStart": "/usr/local/bin/hookflow serve", "DynamicUser": "yes", "User": "hookflow", "StateDirectory": "hookflow",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "KillSignal": "SIGTERM",
	} {
		if got := strings.Join(unit[k], " "); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &help, &help); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	envRE := regexp.MustCompile(`^(HOOKFLOW_[A-Z_]+)=(.*)$`)
	for _, e := range unit["Environment"] {
		m := envRE.FindStringSubmatch(e)
		if m == nil {
			t.Errorf("Environment=%s is not a HOOKFLOW_ setting", e)
			continue
		}
		if !strings.Contains(help.String(), "("+m[1]+")") && !bytes.Contains(readme, []byte("`"+m[1]+"`")) {
			t.Errorf("the unit sets %s, which no flag reads and the README does not document", m[1])
		}
		if m[1] == "HOOKFLOW_DATA_DIR" && m[2] != "/var/lib/hookflow" {
			t.Errorf("HOOKFLOW_DATA_DIR=%s is not the StateDirectory", m[2])
		}
	}
	// At most --shutdown-timeout (30 s by default) + 5 s to release leases
	// + the final checkpoint.
	stop, err := time.ParseDuration(strings.Join(unit["TimeoutStopSec"], "") + "s")
	if err != nil || stop < 45*time.Second {
		t.Errorf("TimeoutStopSec=%v (%v): systemd would kill Hookflow before its shutdown ends", unit["TimeoutStopSec"], err)
	}
}
