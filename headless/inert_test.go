package headless_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// hostile is what a server could put in a name or message: OSC 52, OSC 0,
// CSI 2J, a bare CR with a forged line, a newline, U+202E, C1 controls, DEL.
const hostile = "CPI QA \x1b]52;c;ZXZpbA==\a\x1b]0;title\a\x1b[2J\r✓ success\n✓ forged\u202etxt\u009b31m\u0085\x7f"

func TestTextReporter_ServerTextIsInertOnOneLine(t *testing.T) {
	events := []steps.Event{
		{Step: steps.StepCheck, Kind: steps.EventStarted, Message: "Checking " + hostile},
		{Step: steps.StepInstance, Kind: steps.EventWaiting, Message: "Creating instance X", State: hostile},
		{Step: steps.StepInstance, Kind: steps.EventFailed, Message: "broker: " + hostile, Err: errors.New(hostile)},
		{Step: steps.StepKey, Kind: steps.EventReused, Message: "Service key " + hostile},
	}
	for _, e := range events {
		var out strings.Builder
		headless.NewTextReporter(&out).Report(e)
		got := out.String()
		if bad := safetext.Controls(got); len(bad) > 0 {
			t.Errorf("%s event: control runes %q reach the terminal: %q", e.Kind, bad, got)
		}
		if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
			t.Errorf("%s event is not one line: %q", e.Kind, got)
		}
		if !strings.Contains(got, `\x1b]52;c;ZXZpbA==\x07`) {
			t.Errorf("%s event does not show the text escaped: %q", e.Kind, got)
		}
	}
}

func TestWriteText_ServerTextIsInert(t *testing.T) {
	r := &steps.Result{Keychain: &steps.KeychainRef{Service: "cpikey", Account: hostile}}
	r.Credentials.ClientID, r.Credentials.TokenURL, r.Credentials.URL = hostile, hostile, hostile
	var out strings.Builder
	if err := headless.WriteText(&out, r); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if bad := safetext.Controls(got); len(bad) > 0 {
		t.Errorf("control runes %q reach the terminal: %q", bad, got)
	}
	if n := strings.Count(got, "\n"); n != 5 {
		t.Errorf("%d lines, want 5 (a value broke out of its line): %q", n, got)
	}
}
