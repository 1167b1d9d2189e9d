package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
)

// From an empty subaccount (no Integration Suite) to a verified key with
// the built binary, headless and in the wizard. The person at the browser
// is played by openWhenAsked: once cpikey hands the subscription URL to the
// (fake) browser, it opens that page, which activates Cloud Integration in
// the simulator.

// openWhenAsked opens url once the fake xdg-open was called with it.
func openWhenAsked(t *testing.T, w *world, url string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			argv, _ := os.ReadFile(w.argvLog)
			if bytes.Contains(argv, []byte("xdg-open ["+url+"]")) {
				resp, err := http.Get(url)
				if err != nil {
					t.Errorf("opening %s: %v", url, err)
					return
				}
				resp.Body.Close()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

func suiteSim() sim.Config {
	return sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1, SubscribeTime: 1}
}

func TestEmptySubaccount_Headless(t *testing.T) {
	w := newWorld(t, suiteSim())
	user := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}
	base := []string{"--yes", "--debug", "--global-account", sim.GASubdomain, "--subaccount", sim.SubEmpty}

	t.Run("refused before any write without --setup-integration-suite", func(t *testing.T) {
		w.sim.ResetRequests()
		home := w.home(t)
		r := w.runCPIKey(t, "suite refused", home, w.env(home, user...), base...)
		if r.code != 1 || !bytes.Contains(r.stderr, []byte("--setup-integration-suite")) || !bytes.Contains(r.stderr, []byte("looks not activated")) {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		for _, req := range w.sim.Requests() {
			if strings.HasSuffix(req, "?assign") || strings.HasSuffix(req, "?subscribe") || strings.HasPrefix(req, "cf:POST") {
				t.Errorf("a write before the refusal: %s", req)
			}
		}
		w.record("suite refused: stdout", r.stdout)
	})

	t.Run("set up, activated in the browser, key verified", func(t *testing.T) {
		url := w.sim.SuiteURL(sim.SubEmptySubdomain)
		openWhenAsked(t, w, url)
		home := w.home(t)
		r := w.runCPIKey(t, "suite setup", home, w.env(home, user...), append(base, "--setup-integration-suite", "--json")...)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		var out struct {
			Verified bool `json:"verified"`
		}
		if err := json.Unmarshal(r.stdout, &out); err != nil || !out.Verified {
			t.Fatalf("stdout %s (%v)", r.stdout, err)
		}
		for _, want := range []string{"Subscribing " + sim.SubEmpty + " to SAP Integration Suite", "Add Capabilities -> Build Integration Scenarios -> Activate",
			url, "Cloud Integration looks activated", "Integration_Provisioner"} {
			if !bytes.Contains(r.stderr, []byte(want)) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		st, _ := w.sim.SuiteOf(sim.SubEmptySubdomain)
		if st.Subscription != itrt.SubscriptionSubscribed || !st.Activated {
			t.Errorf("Integration Suite: %+v", st)
		}
		w.record("suite setup: stdout", r.stdout)
		w.recordHome(t, "suite setup", home)
	})
	w.scanAll(t)
}

func TestEmptySubaccount_Wizard(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it)")
	}
	w := newWorld(t, suiteSim())
	openWhenAsked(t, w, w.sim.SuiteURL(sim.SubEmptySubdomain))
	user := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}
	r := runWizard(t, w, user, 0, "--subaccount", sim.SubEmpty)
	for _, want := range []string{"SAP Integration Suite", "is missing here (it-rt needs it); cpikey can", "Build Integration Scenarios", "looks activated"} {
		if !bytes.Contains(r.pane, []byte(want)) {
			t.Errorf("the wizard never showed %q", want)
		}
	}
	st, _ := w.sim.SuiteOf(sim.SubEmptySubdomain)
	if st.EntitledPlan != "enterprise_agreement" || st.Subscription != itrt.SubscriptionSubscribed || !st.Activated {
		t.Errorf("Integration Suite: %+v", st)
	}
	w.scanAll(t)
}
