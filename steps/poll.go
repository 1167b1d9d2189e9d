package steps

import (
	"context"
	"fmt"
	"time"
)

// pollResult is one observation of an asynchronous operation.
type pollResult struct {
	State      string        // the server's words: "in progress", "POLLING", "PROCESSING"
	Done       bool          // finished successfully
	RetryAfter time.Duration // server asked to wait this long
}

// pollIntervals returns the polling bounds: the first minute at the minimum
// interval so completion is noticed within about a second (SAP finishes most
// it-rt operations in under a minute), then slower up to the maximum.
func (f *Flow) pollIntervals() (min, max time.Duration) {
	min, max = f.cfg.PollMin, f.cfg.PollMax
	if min <= 0 {
		min = time.Second
	}
	if max <= 0 {
		max = 5 * time.Second
	}
	if max < min {
		max = min
	}
	return min, max
}

// poll calls check until it reports Done, fails, ctx ends or timeout passes.
// It reports a waiting event after each observation; slow multiplies the
// intervals for expensive reads.
func (f *Flow) poll(ctx context.Context, step Step, what string, timeout time.Duration, slow int, check func(context.Context) (pollResult, error)) error {
	min, max := f.pollIntervals()
	if slow > 1 {
		min, max = min*time.Duration(slow), max*time.Duration(slow)
	}
	start := time.Now()
	deadline := start.Add(timeout)
	interval := min
	for {
		res, err := check(ctx)
		if err != nil {
			return err
		}
		if res.Done {
			return nil
		}
		elapsed := time.Since(start)
		f.report(Event{Step: step, Kind: EventWaiting, Message: what, State: res.State, Elapsed: elapsed})
		if time.Now().After(deadline) {
			return &TimeoutError{What: what, After: timeout, State: res.State}
		}
		wait := interval
		if res.RetryAfter > wait {
			wait = res.RetryAfter
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		// Slow down only after the first minute, and never poll faster than min.
		if elapsed > time.Minute && interval < max {
			interval = interval * 3 / 2
			if interval > max {
				interval = max
			}
		}
	}
}

// TimeoutError means SAP did not finish in time; the operation may still
// complete, and a rerun picks it up.
type TimeoutError struct {
	What  string
	After time.Duration
	State string
}

func (e *TimeoutError) Error() string {
	state := "running"
	if e.State != "" {
		state = fmt.Sprintf("%q", e.State)
	}
	after := e.After.Round(time.Second)
	if e.After < time.Second {
		after = e.After.Round(time.Millisecond)
	}
	return fmt.Sprintf("%s: still %s after %s; SAP keeps working on it: rerun cpikey later and it will pick up where this left off",
		e.What, state, after)
}
