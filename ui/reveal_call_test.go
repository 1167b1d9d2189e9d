package ui

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/tenant"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

type tryRecord struct {
	calls         int
	method, path  string
	res           *profiles.CallResult
	err           error
	sawSecretFrom string
}

// fakeTry answers every call with res (a plain 200 when nil), recording it.
func fakeTry(res *profiles.CallResult) TryCallFunc {
	return (&tryRecord{res: res}).call
}

func (f *tryRecord) call(_ context.Context, r *steps.Result, _ steps.Target, method, path string) (*profiles.CallResult, error) {
	f.calls++
	f.method, f.path, f.sawSecretFrom = method, path, r.Credentials.ClientSecret
	if f.res == nil {
		return tryOK(), f.err
	}
	return f.res, f.err
}

func tryOK() *profiles.CallResult {
	h := http.Header{}
	h.Set(itrt.MPLHeader, "AGmplIdOfTheEchoMessage0001")
	return &profiles.CallResult{Method: "GET", Auth: "bearer", Total: 42 * time.Millisecond,
		Response: &tenant.Response{Status: 200, StatusText: "OK", Header: h,
			Body: []byte("demo/echo received a GET without a body; send one with -d to see it echoed.\n")}}
}

func tryFailed() *profiles.CallResult {
	h := http.Header{}
	h.Set(itrt.MPLHeader, "AGmplIdOfTheFailedMessage01")
	return &profiles.CallResult{Method: "POST", Auth: "bearer", Total: 51 * time.Millisecond,
		Response: &tenant.Response{Status: 500, StatusText: "Internal Server Error", Header: h,
			Body: []byte("An internal server error occured: the mapping step failed.\nThe MPL ID for the failed message is : AGmplIdOfTheFailedMessage01\nFor more details please check tail log.\n\x1b[31mred\n5\n6\n7\n8\n9\n10\n")},
		Diagnosis: "500 Internal Server Error: the iFlow ran and failed; its message processing log is MPL AGmplIdOfTheFailedMessage01 (Monitor > Message Processing)",
		Notes:     []string{"the sender adapter of /http/demo/fail is CSRF protected: cpikey fetched a token and resent"}}
}

// tryRun opens the field, types path over the default and runs the call.
func tryRun(t *testing.T, m *model, path string) {
	t.Helper()
	send(m, runes("c"))
	rv := rvl(m)
	rv.try.input.SetValue("")
	typeText(m, path)
	cmd := send(m, enter)
	if cmd == nil {
		t.Fatal("enter did not start a call")
	}
	for _, msg := range drain(cmd) {
		send(m, msg)
	}
}

// drain runs cmd (and batches) and returns the messages other than ticks.
func drain(cmd tea.Cmd) []tea.Msg {
	var out []tea.Msg
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			if c != nil {
				out = append(out, drain(c)...)
			}
		}
		return out
	}
	if _, tick := msg.(spinner.TickMsg); tick {
		return out
	}
	return append(out, msg)
}

func TestReveal_TryCallRunsInACmdAndKeepsKeysForTheField(t *testing.T) {
	rec := &tryRecord{}
	m := newTestModel(t, func(o *Options) { o.TryCall = rec.call })
	resize(m, 100, 30)
	atReveal(t, m, testResult())
	send(m, runes("c"))
	if !rvl(m).try.open || !rvl(m).typing() {
		t.Fatal("c did not open the field")
	}
	rvl(m).try.input.SetValue("")
	typeText(m, "q?POST /http/demo/echo")
	if m.screen() != screenReveal || rvl(m).try.input.Value() != "q?POST /http/demo/echo" {
		t.Fatalf("keys did not reach the field: %q", rvl(m).try.input.Value())
	}
	rvl(m).try.input.SetValue("post /http/demo/echo")
	cmd := send(m, enter)
	if rec.calls != 0 {
		t.Fatal("called inside Update")
	}
	if !strings.Contains(m.View(), "POST /http/demo/echo") {
		t.Errorf("no progress shown:\n%s", m.View())
	}
	msgs := drain(cmd)
	if rec.calls != 1 || rec.method != "POST" || rec.path != "/http/demo/echo" || rec.sawSecretFrom != testSecret {
		t.Fatalf("call %+v", rec)
	}
	send(m, triedMsg{id: rvl(m).try.id - 1, res: tryFailed()}) // stale: dropped
	if strings.Contains(m.View(), "500") {
		t.Fatal("a stale result was shown")
	}
	for _, msg := range msgs {
		send(m, msg)
	}
	if !strings.Contains(m.View(), "200 OK in 42ms") {
		t.Fatalf("result not shown:\n%s", m.View())
	}
	send(m, esc)
	if rvl(m).try.open || strings.Contains(m.View(), "200 OK in 42ms") {
		t.Fatal("esc did not close the panel")
	}
}

func TestReveal_TryCallWithoutHookIsNotOffered(t *testing.T) {
	m := newTestModel(t)
	resize(m, 100, 30)
	atReveal(t, m, testResult())
	send(m, runes("c"))
	if rvl(m).try.open || strings.Contains(m.View(), "try a call") {
		t.Fatal("offered without a TryCall hook")
	}
}

// TestReveal_TryCallAgainstTheSimulator: a real key from a headless run,
// the inline call wired as main wires it (profiles.TryCall).
func TestReveal_TryCallAgainstTheSimulator(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond, EntitleTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hc := transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second})
	flow := steps.New(steps.Config{CLIServerURL: s.CLIServerURL(), HTTPClient: hc, PollMin: time.Millisecond, PollMax: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := steps.RunHeadless(ctx, flow, steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sim.SubReady,
		User: sim.AdminUser, Password: sim.AdminPassword, NoKeychain: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tenant == nil || res.Tenant.Outcome != steps.TenantAccepted {
		t.Fatalf("tenant check %+v", res.Tenant)
	}
	try := func(ctx context.Context, r *steps.Result, t steps.Target, method, path string) (*profiles.CallResult, error) {
		return profiles.TryCall(ctx, hc, r, t.Roles, method, path)
	}
	for _, tc := range []struct{ path, want string }{
		{"POST " + sim.FlowCSRF, "CSRF protected"},
		{sim.FlowFail, "the iFlow ran and failed"},
		{"/cxf/demo/echo", "try /http/demo/echo"},
		{"https://evil.example/http/x", "refusing to send the key's credentials"},
	} {
		m := newTestModel(t, func(o *Options) { o.TryCall = try })
		resize(m, 120, 40)
		atReveal(t, m, res)
		tryRun(t, m, tc.path)
		if v := m.View(); !strings.Contains(v, tc.want) || strings.Contains(v, res.Credentials.ClientSecret) {
			t.Errorf("%s: view lacks %q (or shows the secret):\n%s", tc.path, tc.want, v)
		}
	}
}
