package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// The reveal screen's inline call: c opens a path field, enter calls the
// tenant with the new key (in a Cmd, through Options.TryCall), and the
// panel shows status, time, the diagnosis and the first lines of the body.

// TryCallFunc calls the tenant with the key of r; method is "" for GET.
type TryCallFunc func(ctx context.Context, r *steps.Result, t steps.Target, method, path string) (*profiles.CallResult, error)

type tryCall struct {
	open    bool
	input   textinput.Model
	running bool
	id      uint64
	what    string // "GET /http/..." of the last call
	res     *profiles.CallResult
	err     error
}

type triedMsg struct {
	id  uint64
	res *profiles.CallResult
	err error
}

// previewLines is how much of a body the panel shows.
const previewLines = 8

func (m *revealModel) openTry() tea.Cmd {
	t := &m.try
	if !t.open && t.input.Value() == "" {
		t.input = newInput("/http/your/endpoint", 2048)
		t.input.SetValue(m.tryDefault())
		t.input.CursorEnd()
	}
	t.open, m.status = true, ""
	m.sizeTry()
	return t.input.Focus()
}

// tryDefault is the path the field starts with: the first suggestion
// (the demo's iFlows), else the plan's prefix.
func (m *revealModel) tryDefault() string {
	if s := m.e.opts.TryPaths; len(s) > 0 {
		return s[0]
	}
	if m.result.Plan == itrt.PlanAPI {
		return itrt.APIRoot + "/MessageProcessingLogs?$top=3&$format=json"
	}
	return itrt.PrefixHTTP
}

func (m *revealModel) sizeTry() {
	m.try.input.Width = max(10, m.w-8)
}

func (m *revealModel) tryKey(msg tea.KeyMsg) tea.Cmd {
	t := &m.try
	k := m.e.keys
	switch {
	case key.Matches(msg, k.Back):
		t.open = false
		t.input.Blur()
		m.refresh()
		return nil
	case t.running:
		return nil
	case msg.Type == tea.KeyEnter:
		return m.runTry()
	}
	var cmd tea.Cmd
	t.input, cmd = t.input.Update(msg)
	return cmd
}

// runTry reads "[METHOD] PATH" from the field and calls in a Cmd.
func (m *revealModel) runTry() tea.Cmd {
	t := &m.try
	fields := strings.Fields(t.input.Value())
	if len(fields) == 0 {
		return nil
	}
	method, path := "", fields[len(fields)-1]
	if len(fields) > 1 {
		method = strings.ToUpper(fields[0])
	}
	t.running, t.res, t.err = true, nil, nil
	t.id = m.e.newID()
	t.what = strings.TrimSpace(cmp.Or(method, "GET") + " " + path)
	id, call, ctx, r, target := t.id, m.e.opts.TryCall, m.e.ctx, m.current(), m.target
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		res, err := call(ctx, &r, target, method, path)
		return triedMsg{id: id, res: res, err: err}
	})
}

func (m *revealModel) tried(msg triedMsg) {
	if msg.id != m.try.id {
		return
	}
	m.try.running, m.try.res, m.try.err = false, msg.res, msg.err
}

func (m *revealModel) tryView() string {
	st := m.e.st
	t := m.try
	var b strings.Builder
	b.WriteString(wrap(st.Label.Render("Try a call")+" with this key: a path on the tenant, optionally after a method (POST /http/...). Enter calls, esc goes back.", m.w, 0) + "\n\n")
	b.WriteString("  " + t.input.View() + "\n")
	hint := "iFlows: /http/<address> (HTTPS sender) or /cxf/<address> (SOAP sender)"
	if m.result.Plan == itrt.PlanAPI {
		hint = "The API: /api/v1/<EntitySet>, e.g. /api/v1/MessageProcessingLogs?$top=3&$format=json"
	}
	if s := m.e.opts.TryPaths; len(s) > 1 {
		hint += "; try " + strings.Join(s, ", ")
	}
	b.WriteString(indent(wrap(st.Subtle.Render(hint), m.w-2, 0), 2) + "\n\n")
	switch {
	case t.running:
		b.WriteString(m.spin.View() + " " + t.what + st.g.Ellipsis + "\n")
	case t.err != nil:
		b.WriteString(wrap(st.fail(t.what+": "+t.err.Error()), m.w, 2) + "\n")
	case t.res != nil:
		// The body gets what the window has left (the help bar and the
		// status line take two).
		used := strings.Count(b.String(), "\n")
		b.WriteString(m.tryResult(t.res, m.h-2-used))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *revealModel) tryResult(r *profiles.CallResult, room int) string {
	st := m.e.st
	resp := r.Response
	var b strings.Builder
	head := fmt.Sprintf("%s: %d %s in %s, %d bytes", m.try.what, resp.Status, resp.StatusText, r.Total.Round(time.Millisecond), len(resp.Body))
	if id := resp.MPLID(); id != "" {
		head += ", MPL " + id
	}
	if r.OK() {
		b.WriteString(wrap(st.ok(head), m.w, 2) + "\n")
	} else {
		b.WriteString(wrap(st.fail(head), m.w, 2) + "\n")
	}
	for _, n := range r.Notes {
		b.WriteString(wrap(st.warn(n), m.w, 2) + "\n")
	}
	if r.Diagnosis != "" {
		d := strings.TrimPrefix(r.Diagnosis, fmt.Sprintf("%d %s", resp.Status, resp.StatusText)+": ")
		b.WriteString(indent(wrap(inert(d), m.w-2, 0), 2) + "\n")
	}
	// One line for the gap, one for "more" when cut.
	n := min(previewLines, room-strings.Count(b.String(), "\n")-2)
	if n < 1 {
		return b.String() // no room left: cpikey call shows the body
	}
	lines, more := profiles.BodyPreview(resp.Body, n)
	if len(lines) > 0 {
		b.WriteString("\n")
	}
	for _, l := range lines {
		b.WriteString("  " + st.Code.Render(ansi.Truncate(l, max(10, m.w-2), st.g.Ellipsis)) + "\n")
	}
	if more {
		b.WriteString("  " + st.Subtle.Render(st.g.Ellipsis+" (cpikey call prints it all)") + "\n")
	}
	return b.String()
}

// tenantLine is the flow's request to the tenant, in its own words.
func (m *revealModel) tenantLine() string {
	st := m.e.st
	c := m.result.Tenant
	switch c.Outcome {
	case steps.TenantAccepted:
		return wrap(st.ok(c.Message), m.w, 10)
	case steps.TenantRejected, steps.TenantRoleMissing:
		return wrap(st.fail(c.Message), m.w, 10)
	}
	return wrap(st.warn(c.Message), m.w, 10)
}

// callStep shows the ready `cpikey call` for this key (it needs the
// profile and the secret in the keychain) and the inline call; it reports
// whether it showed the command.
func (m *revealModel) callStep(b *strings.Builder) bool {
	st := m.e.st
	shown := false
	if m.e.opts.SaveProfile != nil && m.keychain != nil && m.keychain.Account != "" {
		shown = true
		cmd := "cpikey call /http/<your-endpoint> -d @message.xml"
		what := "Test your iFlow with this key (cpikey keeps the token in the OS keychain):"
		if m.result.Plan == itrt.PlanAPI {
			cmd = "cpikey call '/api/v1/MessageProcessingLogs?$top=5&$format=json'"
			what = "Read the API with this key (cpikey keeps the token in the OS keychain):"
		}
		b.WriteString(wrap(what, m.w, 0) + "\n")
		b.WriteString(indent(st.Code.Render(ansi.Hardwrap(cmd, max(10, m.w-2), false)), 2) + "\n")
	}
	if m.e.opts.TryCall != nil {
		b.WriteString(wrap("Press c to try a call right here.", m.w, 0) + "\n")
	}
	return shown
}
