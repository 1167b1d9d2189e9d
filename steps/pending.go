package steps

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// Pending follows a flow's events and tells what SAP is still doing on its
// side when the caller stops waiting (Ctrl+C): SAP finishes an accepted
// request whether or not anyone polls it, and a rerun picks it up.
type Pending struct {
	mu   sync.Mutex
	open map[Step]Event // the last started or waiting event of unfinished steps
}

// pendingSteps are the steps whose work runs at SAP, in flow order.
var pendingSteps = []Step{StepEntitle, StepInstance, StepKey}

// Report implements Reporter.
func (p *Pending) Report(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[Step]Event{}
	}
	switch {
	case e.Kind == EventStarted, e.Kind == EventWaiting:
		p.open[e.Step] = e
	case e.Kind == EventFailed && errors.Is(e.Err, context.Canceled):
		// We stopped watching; SAP did not stop working.
	default:
		delete(p.open, e.Step)
	}
}

// String says what SAP is (or may still be) working on, "" when nothing:
// a waiting step was accepted by SAP; a started one may have been.
func (p *Pending) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sure, maybe []string
	for _, s := range pendingSteps {
		e, ok := p.open[s]
		if !ok {
			continue
		}
		what := e.Message
		if e.State != "" {
			what += " (" + e.State + ")"
		}
		if e.Kind == EventWaiting {
			sure = append(sure, what)
		} else {
			maybe = append(maybe, what)
		}
	}
	switch {
	case len(sure) > 0:
		return "SAP is still working on: " + strings.Join(sure, "; ")
	case len(maybe) > 0:
		return "SAP may still be working on: " + strings.Join(maybe, "; ")
	}
	return ""
}
