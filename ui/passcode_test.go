package ui

import (
	"context"
	"errors"
	"testing"
	"time"
)

// askInBackground runs Passcode.Ask like the flow does and delivers the
// question to the wizard.
func askInBackground(t *testing.T, m *model, p *Passcode) chan passcodeReply {
	t.Helper()
	done := make(chan passcodeReply, 1)
	go func() {
		code, err := p.Ask(context.Background(), "https://login.cf.eu10.hana.ondemand.com/passcode")
		done <- passcodeReply{code: code, err: err}
	}()
	send(m, p.wait(m.e.ctx)())
	if m.prompt == nil {
		t.Fatal("no passcode prompt shown")
	}
	return done
}

func TestPasscodePrompt(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		p := NewPasscode()
		b := &fakeBrowser{}
		m := newTestModel(t, func(o *Options) { o.Passcode = p; o.Browser = b })
		resize(m, w, h)
		atWhere(t, m, reportReady())
		send(m, enter) // loading orgs: the flow now logs in to Cloud Foundry
		done := askInBackground(t, m, p)
		send(m, passcodeBrowserMsg{url: m.prompt.r.url, err: nil})
		typeText(m, testPassword) // a passcode is a secret too: masked
		requireGolden(t, m)
		send(m, enter)
		select {
		case r := <-done:
			if r.err != nil || r.code != testPassword {
				t.Fatalf("Ask returned %q, %v", r.code, r.err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Ask did not return after enter")
		}
		if m.prompt != nil || m.screen() != screenWhere {
			t.Fatal("the prompt stayed or the screen changed")
		}
	})
}

func TestPasscodePrompt_EscCancels(t *testing.T) {
	p := NewPasscode()
	m := newTestModel(t, func(o *Options) { o.Passcode = p })
	resize(m, 80, 24)
	done := askInBackground(t, m, p)
	send(m, esc)
	r := <-done
	if !errors.Is(r.err, ErrPasscodeCancelled) || m.prompt != nil {
		t.Fatalf("esc: err %v", r.err)
	}
}
