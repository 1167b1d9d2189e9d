package ui

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

type taskResultMsg struct{ id uint64 }

// TestTask_DropsStaleResults: only the answer of the running request is
// taken; retries, Esc (stop) and a finished request make older answers
// stale, and a later stage keeps the request's id and context.
func TestTask_DropsStaleResults(t *testing.T) {
	e := newTestModel(t).e
	work := func(ctx context.Context, id uint64) tea.Msg { return taskResultMsg{id} }
	tk := newTask(e)

	tk.start("first", work)
	first := tk.id
	tk.start("retry", work)
	if tk.owns(first) {
		t.Fatal("the answer of a replaced request was taken")
	}
	if !tk.running() || tk.what != "retry" {
		t.Fatalf("running %v what %q", tk.running(), tk.what)
	}
	second, ctx := tk.id, tk.ctx
	if !tk.current(second) || tk.current(first) {
		t.Fatal("current does not tell the running request")
	}
	if tk.then("next stage", work) == nil || tk.id != second || tk.ctx != ctx || tk.what != "next stage" {
		t.Fatal("a later stage changed the request")
	}
	if !tk.owns(second) || tk.running() {
		t.Fatal("the running request's answer was not taken, or the task still runs")
	}
	if tk.owns(second) {
		t.Fatal("an answer was taken twice")
	}
	if ctx.Err() == nil {
		t.Fatal("a finished request's context was not released")
	}

	tk.start("abandoned", work)
	id, ctx := tk.id, tk.ctx
	tk.stop()
	if ctx.Err() == nil || tk.owns(id) || tk.then("late", work) != nil {
		t.Fatal("stop did not abandon the request")
	}
}
