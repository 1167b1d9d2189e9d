package steps

import (
	"cmp"
	"context"
	"fmt"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
)

// DeleteKey deletes service key keyID of t's instance, in Cloud Foundry or
// in the subaccount's Service Manager by t.Runtime, and waits until it is
// gone: from then on its client secret no longer yields tokens. A key that
// is already gone is not an error. For Cloud Foundry the flow must know the
// subaccount's environment (Check or Locate).
func (f *Flow) DeleteKey(ctx context.Context, t Target, keyID string) error {
	if keyID == "" {
		return fmt.Errorf("delete service key %s: its id is not known", t.Key)
	}
	f.report(Event{Step: StepKey, Kind: EventStarted, Message: "Deleting service key " + t.Key})
	var err error
	if t.Runtime == RuntimeOther {
		err = f.deleteKeySM(ctx, t, keyID)
	} else {
		err = f.deleteKeyCF(ctx, t, keyID)
	}
	if err != nil {
		return f.fail(StepKey, fmt.Errorf("delete service key %s: %w", t.Key, err))
	}
	f.report(Event{Step: StepKey, Kind: EventDone, Message: "Service key " + t.Key + " deleted"})
	return nil
}

func (f *Flow) deleteKeyCF(ctx context.Context, t Target, keyID string) error {
	c, err := f.cfFor(ctx, t)
	if err != nil {
		return err
	}
	jobURL, err := c.DeleteKey(ctx, keyID)
	switch {
	case cf.IsNotFound(err):
		return nil
	case cf.IsNotAuthorized(err):
		return notSpaceDeveloper(t, err)
	case err != nil:
		return err
	}
	if jobURL != "" {
		if err := f.cfWaitJob(ctx, c, StepKey, "Deleting service key "+t.Key, jobURL); err != nil {
			return err
		}
	}
	// A finished job means the key is gone; confirm, since a token of a key
	// that still exists would keep working.
	return f.poll(ctx, StepKey, "Deleting service key "+t.Key, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		k, err := c.GetKey(ctx, keyID)
		if cf.IsNotFound(err) {
			return pollResult{Done: true}, nil
		}
		if err != nil {
			return pollResult{}, err
		}
		return pollResult{State: k.LastOperation.State}, nil
	})
}

func (f *Flow) deleteKeySM(ctx context.Context, t Target, keyID string) error {
	err := f.btp(ctx, func(c *cliserver.Client) error { return c.DeleteBinding(ctx, t.Subaccount.ID, keyID) })
	if cliserver.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.poll(ctx, StepKey, "Deleting service key "+t.Key, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		var b *cliserver.Binding
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			b, err = c.GetBinding(ctx, t.Subaccount.ID, keyID)
			return err
		})
		switch {
		case cliserver.IsNotFound(err):
			return pollResult{Done: true}, nil
		case cliserver.IsRateLimited(err):
			return pollResult{State: cliserver.StateInProgress}, nil
		case err != nil:
			return pollResult{}, err
		case b.State() == cliserver.StateFailed:
			return pollResult{}, &BrokerError{What: "Deleting service key " + t.Key, Text: "failed"}
		}
		return pollResult{State: cmp.Or(b.State(), cliserver.StateInProgress)}, nil
	})
}
