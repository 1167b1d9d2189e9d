package transport

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds retries in attempts and in total time.
type RetryPolicy struct {
	MaxAttempts int           // including the first; 0 means 6
	BaseDelay   time.Duration // first back-off; 0 means 500ms
	MaxDelay    time.Duration // cap for one wait; 0 means 20s
	MaxElapsed  time.Duration // total budget; 0 means 2 minutes
}

// DefaultRetry is what the CLI server and CF clients use.
var DefaultRetry = RetryPolicy{}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 6
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 20 * time.Second
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = 2 * time.Minute
	}
	return p
}

// Normalized returns the policy with defaults filled in.
func (p RetryPolicy) Normalized() RetryPolicy { return p.withDefaults() }

// Delay returns the wait before attempt n+1 (n counts from 1). A server's
// Retry-After wins; otherwise exponential back-off with full jitter.
func (p RetryPolicy) Delay(n int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	if retryAfter > 0 {
		if retryAfter > p.MaxDelay*3 {
			return p.MaxDelay * 3
		}
		return retryAfter
	}
	d := p.BaseDelay << (n - 1)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	// Half fixed, half random: spreads clients without ever waiting ~0.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Retrier tracks one logical call across attempts.
type Retrier struct {
	Policy  RetryPolicy
	start   time.Time
	attempt int
}

// NewRetrier starts the clock for one call.
func NewRetrier(p RetryPolicy) *Retrier {
	return &Retrier{Policy: p.withDefaults(), start: time.Now()}
}

// Attempt returns the number of attempts made so far.
func (r *Retrier) Attempt() int { return r.attempt }

// Begin marks the start of an attempt.
func (r *Retrier) Begin() { r.attempt++ }

// Wait sleeps before the next attempt and reports whether another attempt is
// allowed. It returns false (without sleeping) when the budget is spent, and
// ctx.Err() when cancelled.
func (r *Retrier) Wait(ctx context.Context, retryAfter time.Duration) (bool, error) {
	if r.attempt >= r.Policy.MaxAttempts {
		return false, nil
	}
	d := r.Policy.Delay(r.attempt, retryAfter)
	if time.Since(r.start)+d > r.Policy.MaxElapsed {
		return false, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return true, nil
	}
}

// RetryAfter parses a Retry-After header (seconds or HTTP date).
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// RetryableStatus reports HTTP statuses worth another attempt.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
