package ui

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/cpikey/cpikey/steps"
)

func TestScreenString(t *testing.T) {
	want := []string{"login", "subaccount", "check", "entitle", "where", "form", "review", "progress", "reveal"}
	for i, w := range want {
		if got := screen(i).String(); got != w {
			t.Errorf("screen(%d) = %q, want %q", i, got, w)
		}
	}
	if screen(99).String() != "unknown" {
		t.Error("out of range screen")
	}
}

func TestTooSmall(t *testing.T) {
	for _, s := range []struct{ w, h int }{{59, 24}, {80, 15}} {
		t.Run(sizeName(s.w, s.h), func(t *testing.T) {
			m := newTestModel(t)
			resize(m, s.w, s.h)
			golden := m.View()
			if !strings.Contains(golden, "Terminal too small") || !strings.Contains(golden, sizeName(s.w, s.h)[:2]) {
				t.Fatalf("view: %q", golden)
			}
			requireGoldenRaw(t, golden)
		})
	}
	m := newTestModel(t)
	resize(m, 60, 16)
	if strings.Contains(m.View(), "too small") {
		t.Fatal("60x16 is the minimum and must render the wizard")
	}
}

// requireGoldenRaw is requireGolden for frames that are not full screens.
func requireGoldenRaw(t *testing.T, v string) {
	t.Helper()
	if strings.Contains(v, testSecret) || strings.Contains(v, testPassword) {
		t.Fatal("secret in frame")
	}
	golden.RequireEqual(t, []byte(v))
}

func TestResizeReflowsEveryScreen(t *testing.T) {
	drive := map[screen]func(t *testing.T, m *model){
		screenLogin:      func(*testing.T, *model) {},
		screenSubaccount: func(t *testing.T, m *model) { atSubaccounts(t, m, manySubs(300)) },
		screenCheck:      func(t *testing.T, m *model) { atCheck(t, m, subDev, reportMissing()) },
		screenEntitle:    atEntitle,
		screenWhere:      func(t *testing.T, m *model) { atWhere(t, m, reportReady()) },
		screenForm:       atForm,
		screenReview: func(t *testing.T, m *model) {
			atReview(t, m)
			send(m, actionsMsg{id: rev(m).work.id, actions: testActions})
		},
		screenProgress: atProgress,
		screenReveal:   func(t *testing.T, m *model) { atReveal(t, m, testResult()) },
	}
	for s := screenLogin; s < numScreens; s++ {
		t.Run(s.String(), func(t *testing.T) {
			m := newTestModel(t)
			resize(m, 120, 40)
			drive[s](t, m)
			for _, size := range []struct{ w, h int }{{60, 16}, {200, 60}, {80, 24}, {61, 17}} {
				resize(m, size.w, size.h)
				lines := strings.Split(m.View(), "\n")
				if len(lines) != size.h {
					t.Errorf("%dx%d: %d lines", size.w, size.h, len(lines))
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size.w {
						t.Errorf("%dx%d: line %d has %d cells: %q", size.w, size.h, i+1, w, l)
					}
				}
				if !strings.Contains(lines[0], s.title()) {
					t.Errorf("%dx%d: header %q lacks %q", size.w, size.h, lines[0], s.title())
				}
			}
		})
	}
}

func TestHelpToggleAndQuestionMarkInTextFields(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	short := m.View()
	send(m, runes("?"))
	if !m.help.ShowAll || m.View() == short {
		t.Fatal("? on the method picker did not show the full help")
	}
	send(m, runes("?"))
	send(m, enter) // to the global account text field
	send(m, runes("?"))
	if m.help.ShowAll || login(m).ga.Value() != "?" {
		t.Fatal("? in a text field must be text")
	}
}

func TestCtrlCQuitsAtOnceAndSaysWhatSAPStillDoes(t *testing.T) {
	cb := &fakeClipboard{}
	m := newTestModel(t, func(o *Options) { o.Clipboard = cb })
	resize(m, 80, 24)
	atProgress(t, m)
	send(m, flowEventsMsg{events: []steps.Event{ev(steps.StepInstance, steps.EventWaiting, "Creating service instance CPI_SAMPLE_INSTANCE", "in progress", 0)}})
	cmd := send(m, ctrlC)
	if cmd == nil {
		t.Fatal("ctrl+c returned no Cmd")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c did not quit")
	}
	if m.e.ctx.Err() == nil {
		t.Fatal("quitting did not cancel running work")
	}
	err := finish(m.e.opts, m, nil)
	var ie *InterruptedError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want *InterruptedError", err)
	}
	if ie.Screen != "progress" || !strings.Contains(err.Error(), "SAP is still creating service instance CPI_SAMPLE_INSTANCE") ||
		!strings.Contains(err.Error(), "again") {
		t.Fatalf("exit message %q", err.Error())
	}
}

func TestCtrlCOnLoginIsInterruptWithNothingPending(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	send(m, ctrlC)
	err := finish(m.e.opts, m, nil)
	if !errors.Is(err, ErrInterrupted) || strings.Contains(err.Error(), "SAP is still") {
		t.Fatalf("err %v", err)
	}
}

func TestDoneAtRevealClearsClipboardAndPrintsSummary(t *testing.T) {
	cb := &fakeClipboard{}
	var out bytes.Buffer
	m := newTestModel(t, func(o *Options) { o.Clipboard = cb; o.Out = &out })
	resize(m, 80, 24)
	atReveal(t, m, testResult())
	send(m, send(m, runes("2"))())
	if _, ok := send(m, runes("q"))().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
	if err := finish(m.e.opts, m, nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if cb.cleared != 1 {
		t.Fatalf("ClearNow called %d times, want once", cb.cleared)
	}
	s := out.String()
	if !strings.Contains(s, testResult().Credentials.ClientID) || strings.Contains(s, testSecret) {
		t.Fatalf("summary %q", s)
	}
}

func TestRunRefusesWithoutTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notatty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = Run(Options{In: f, Out: f})
	if !errors.Is(err, ErrNoTerminal) || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("err %v, want ErrNoTerminal pointing to --yes", err)
	}
}

func TestEscGoesBackThroughTheStack(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	want := []screen{screenWhere, screenCheck, screenSubaccount, screenLogin, screenLogin}
	for _, w := range want {
		send(m, esc)
		if m.screen() == screenWhere {
			wh(m).focus = focusRuntime
		}
		if m.screen() != w {
			t.Fatalf("esc: screen %v, want %v", m.screen(), w)
		}
	}
}

func TestLoginGoldenASCII(t *testing.T) {
	eachSize(t, func(t *testing.T, w, h int) {
		m := newTestModel(t, func(o *Options) { o.ASCII = true; o.Demo = true; o.LastGlobalAccount = "acme-global" })
		resize(m, w, h)
		send(m, enter, enter)
		typeText(m, "admin@acme.example")
		send(m, enter)
		typeText(m, testPassword)
		requireGolden(t, m)
		if strings.ContainsAny(m.View(), "✓✗•›·…↑↓–") {
			t.Fatal("ASCII mode rendered a non-ASCII glyph")
		}
	})
}

// TestGoldensHoldNoSecret scans every golden file for fixture secrets.
func TestGoldensHoldNoSecret(t *testing.T) {
	n := 0
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".golden") {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range []string{testSecret, testPassword, "Adm1n-$ecret!pw"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a secret", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d golden files found", n)
	}
}

func TestSignalInterruptKeepsExitMessage(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atEntitle(t, m)
	send(m, enter) // assigning
	err := finish(m.e.opts, m, tea.ErrInterrupted)
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Screen != "entitle" || !strings.Contains(ie.Pending, "SAP is still assigning") {
		t.Fatalf("err %v", err)
	}
}
