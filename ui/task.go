package ui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/cpikey/cpikey/steps"
)

// task is a screen's asynchronous work: at most one request in flight, run
// in a tea.Cmd with its own context, and tagged with an id. The stale-result
// rule lives here: an answer whose id is not the running request's (the
// user went back, retried or cancelled) is dropped.
type task struct {
	e      *env
	spin   spinner.Model
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	what   string // what runs, for the spinner line
}

func newTask(e *env) task { return task{e: e, spin: e.newSpinner()} }

// start stops what runs and runs work in a Cmd; work builds the screen's
// result message and must carry id in it, for owns.
func (t *task) start(what string, work func(ctx context.Context, id uint64) tea.Msg) tea.Cmd {
	t.stop()
	t.id, t.what = t.e.newID(), what
	ctx, cancel := context.WithCancel(t.e.ctx)
	t.ctx, t.cancel = ctx, cancel
	id := t.id
	return tea.Batch(t.spin.Tick, func() tea.Msg { return work(ctx, id) })
}

// then runs the next stage of the running request (same id, same context,
// so stop still abandons it), e.g. waiting for a browser login that the
// first stage started. It does nothing when no request runs.
func (t *task) then(what string, work func(ctx context.Context, id uint64) tea.Msg) tea.Cmd {
	if !t.running() {
		return nil
	}
	t.what = what
	ctx, id := t.ctx, t.id
	return func() tea.Msg { return work(ctx, id) }
}

// current reports whether id is the running request's, without finishing it
// (for the messages of a stage that is not the last).
func (t *task) current(id uint64) bool { return id != 0 && id == t.id }

// owns reports whether a result with this id answers the running request;
// if it does, the task is finished.
func (t *task) owns(id uint64) bool {
	if id == 0 || id != t.id {
		return false
	}
	t.finish()
	return true
}

// finish marks the task done (its context released), keeping no request.
func (t *task) finish() {
	if t.cancel != nil {
		t.cancel()
	}
	t.id, t.ctx, t.cancel, t.what = 0, nil, nil, ""
}

// stop abandons the running request: its context is cancelled and its
// answer, if one still comes, is dropped.
func (t *task) stop() { t.finish() }

// running reports whether a request is in flight.
func (t *task) running() bool { return t.id != 0 }

// tick advances the spinner while work runs; once it is done the tick is
// dropped, which stops the animation.
func (t *task) tick(msg spinner.TickMsg) tea.Cmd { return tickSpinner(&t.spin, t.running(), msg) }

// line is the spinner and what runs ("" when nothing does).
func (t *task) line(st *styles) string {
	if !t.running() {
		return ""
	}
	return t.spin.View() + " " + inert(t.what) + st.g.Ellipsis
}

// screenBase holds the defaults of the screen contract, so a screen writes
// only the methods whose behaviour differs: it stores its size, has no help
// of its own, is not busy, not typing, leaves nothing pending at SAP and has
// nothing to redo when the user comes back.
type screenBase struct{ w, h int }

func (b *screenBase) setSize(w, h int)                       { b.w, b.h = w, h }
func (b *screenBase) help() ([]key.Binding, [][]key.Binding) { return nil, nil }
func (b *screenBase) busy() bool                             { return false }
func (b *screenBase) typing() bool                           { return false }
func (b *screenBase) pending() string                        { return "" }
func (b *screenBase) resume() tea.Cmd                        { return nil }

// lastEvent is the latest progress event of step among events (nil: none),
// for screens that show how far a step got.
func lastEvent(events []steps.Event, step steps.Step) *steps.Event {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Step == step {
			ev := events[i]
			return &ev
		}
	}
	return nil
}
