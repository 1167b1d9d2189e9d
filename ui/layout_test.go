package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/steps"
)

// stubScreen is a screen with nothing on it, to look at the frame.
type stubScreen struct {
	screenBase
	s screen
}

func (s *stubScreen) id() screen                           { return s.s }
func (s *stubScreen) init() tea.Cmd                        { return nil }
func (s *stubScreen) update(tea.Msg) (tea.Cmd, transition) { return nil, nil }
func (s *stubScreen) view() string                         { return "" }

// TestHeader_StepCounterAlwaysShows: at 60 columns too, with the demo
// badge, every screen's header ends with its step counter.
func TestHeader_StepCounterAlwaysShows(t *testing.T) {
	for _, demo := range []bool{false, true} {
		for _, w := range []int{60, 69, 80, 120} {
			for s := screenLogin; s < numScreens; s++ {
				m := newTestModel(t, func(o *Options) { o.Demo = demo })
				m.stack = []screenModel{&stubScreen{s: s}}
				resize(m, w, 24)
				head := strings.Split(m.View(), "\n")[0]
				want := regexp.MustCompile(fmt.Sprintf(`(step %d of 9|%d/9)$`, int(s)+1, int(s)+1))
				if !want.MatchString(head) || ansi.StringWidth(head) > w {
					t.Errorf("demo %v, %d columns, %s: header %q", demo, w, s, head)
				}
				if demo && !strings.Contains(head, "DEMO") && w >= 60 && s != screenCheck && s != screenProgress {
					t.Errorf("demo %v, %d columns, %s: no DEMO badge in %q", demo, w, s, head)
				}
			}
		}
	}
}

// TestReveal_ScrollResetWhenTheWindowGrows: scrolled down in a small
// window, the reveal screen shows its first lines again when the window
// grows, instead of blank lines below.
func TestReveal_ScrollResetWhenTheWindowGrows(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.SaveProfile = keepProfile(nil) })
	resize(m, 60, 20)
	atReveal(t, m, testResult())
	for range 10 {
		send(m, down)
	}
	if strings.Contains(m.View(), "Your OAuth client is ready") {
		t.Fatal("the small window did not scroll")
	}
	resize(m, 120, 40)
	v := m.View()
	if !strings.Contains(v, "Your OAuth client is ready") {
		t.Fatalf("after growing, the first lines stay scrolled off:\n%s", v)
	}
	if strings.Contains(v, "\n\n\n\n\n\n\n\n") && !strings.Contains(v, "Next step") {
		t.Fatalf("blank lines instead of content:\n%s", v)
	}
}

// TestProgress_RolesDriftOffersUpdateOrKeep: a roles difference found
// during the run (the instance had no key to read them from before) is a
// choice, not a dead end.
func TestProgress_RolesDriftOffersUpdateOrKeep(t *testing.T) {
	for _, tc := range []struct {
		key            string
		update, accept bool
	}{{"u", true, false}, {"a", false, true}} {
		t.Run(tc.key, func(t *testing.T) {
			m := newTestModel(t)
			resize(m, 80, 24)
			atProgress(t, m)
			p := prog(m)
			first := p.work.id
			drift := &steps.RolesDriftError{Instance: "CPI_SAMPLE_INSTANCE", Want: []string{"ESBMessaging.send"},
				Have: []string{"Custom.role"}, Missing: []string{"ESBMessaging.send"}, Extra: []string{"Custom.role"}}
			send(m, provisionDoneMsg{id: first, err: drift})
			v := strings.Join(strings.Fields(m.View()), " ")
			for _, want := range []string{"has roles Custom.role", "missing ESBMessaging.send", "Press u", "up to an hour", "another instance name"} {
				if !strings.Contains(v, want) {
					t.Errorf("the progress screen does not say %q:\n%s", want, m.View())
				}
			}
			send(m, runes(tc.key))
			if !p.work.running() || p.work.id == first || p.target.UpdateRoles != tc.update || p.target.AcceptRoles != tc.accept {
				t.Fatalf("%s did not run again with the choice (update %v, accept %v)", tc.key, p.target.UpdateRoles, p.target.AcceptRoles)
			}
		})
	}
}

// TestWrap_BreaksAtSpacesAndSeparatorsOnly covers the one wrapper every
// screen uses for status lines and texts from SAP.
func TestWrap_BreaksAtSpacesAndSeparatorsOnly(t *testing.T) {
	cases := []struct {
		in         string
		width, ind int
		want       string
	}{
		{"org acme-cpi-dev-k3x9q2ab_dev, space dev", 28, 0, "org\nacme-cpi-dev-k3x9q2ab_dev,\nspace dev"},
		{"see a/very/long/path/that/does/not/fit", 20, 2, "see\n  a/very/long/path/\n  that/does/not/fit"},
		{`p {"roles":["A"],"grant-types":["client_credentials"]}`, 30, 0, "p\n" + `{"roles":["A"],` + "\n" + `"grant-types":["client_credent` + "\n" + `ials"]}`},
		{"short", 40, 4, "short"},
		{"  1. lead", 40, 0, "  1. lead"},
	}
	for _, tc := range cases {
		if got := wrap(tc.in, tc.width, tc.ind); got != tc.want {
			t.Errorf("wrap(%q, %d, %d) =\n%s\nwant\n%s", tc.in, tc.width, tc.ind, got, tc.want)
		}
		for _, l := range strings.Split(wrap(tc.in, tc.width, tc.ind), "\n") {
			if ansi.StringWidth(l) > tc.width {
				t.Errorf("wrap(%q): line %q is wider than %d", tc.in, l, tc.width)
			}
		}
	}
}
