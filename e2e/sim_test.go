package e2e

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSimCommand_ServesUntilInterrupted: `cpikey sim` prints the URLs and
// users, serves the Cloud Foundry API there, and stops cleanly on Ctrl+C.
func TestSimCommand_ServesUntilInterrupted(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(binary(t), "sim")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_CACHE_HOME=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck
	lines := bufio.NewScanner(out)
	var cfURL, summary string
	deadline := time.Now().Add(20 * time.Second)
	for cfURL == "" && time.Now().Before(deadline) && lines.Scan() {
		summary += lines.Text() + "\n"
		if m := regexp.MustCompile(`^Cloud Foundry API\s+(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(lines.Text()); m != nil {
			cfURL = m[1]
		}
	}
	if cfURL == "" {
		t.Fatalf("no Cloud Foundry URL printed:\n%s", summary)
	}
	resp, err := http.Get(cfURL + "/") // the root needs no token
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v3 on the served simulator: %v %v", resp, err)
	}
	resp.Body.Close()
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "user") {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt) //nolint:errcheck
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cpikey sim after Ctrl+C: %v", err)
	}
}
