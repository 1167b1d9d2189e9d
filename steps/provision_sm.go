package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/itrt"
)

// The "other" runtime: the instance lives in the subaccount's Service
// Manager, reached through the BTP CLI server (services/instance, binding).

func (f *Flow) existingSM(ctx context.Context, t Target) (*Existing, error) {
	ex := &Existing{}
	var inst *cliserver.Instance
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		inst, err = c.GetInstanceByName(ctx, t.Subaccount.ID, t.Instance)
		return err
	})
	if cliserver.IsNotFound(err) {
		return ex, nil
	}
	if err != nil {
		return nil, err
	}
	ex.InstanceExists, ex.InstanceState, ex.InstancePlan = true, inst.State(), t.Plan
	if plan, err := f.smPlan(ctx, t); err == nil && plan.ID != inst.PlanID {
		ex.InstancePlan = "another plan"
	}
	err = f.btp(ctx, func(c *cliserver.Client) error {
		_, err := c.GetBindingByName(ctx, t.Subaccount.ID, t.Key)
		return err
	})
	if err != nil && !cliserver.IsNotFound(err) {
		return nil, err
	}
	ex.KeyExists = err == nil
	if inst.State() == cliserver.StateSucceeded {
		if ex.InstanceRoles, ex.RolesKnown, err = f.smInstanceRoles(ctx, t, inst.ID, t.Key, false); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

func (f *Flow) smPlan(ctx context.Context, t Target) (*cliserver.Plan, error) {
	var p *cliserver.Plan
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		p, err = c.GetPlanByName(ctx, t.Subaccount.ID, itrt.Service, t.Plan)
		return err
	})
	if cliserver.IsNotFound(err) {
		return nil, fmt.Errorf("plan it-rt/%s is not in the Service Manager marketplace of subaccount %s: entitle it first (cpikey does so when you have Global Account Administrator), then rerun: %w",
			t.Plan, t.Subaccount.Name, err)
	}
	return p, err
}

func (f *Flow) provisionSM(ctx context.Context, t Target, res *Result) (json.RawMessage, error) {
	res.Instance.Name, res.Key.Name = t.Instance, t.Key
	f.report(Event{Step: StepInstance, Kind: EventStarted, Message: "Instance " + t.Instance + " in the Service Manager of " + t.Subaccount.Name})
	plan, err := f.smPlan(ctx, t)
	if err != nil {
		return nil, f.fail(StepInstance, err)
	}
	inst, err := f.smInstance(ctx, t, plan, res)
	if err != nil {
		return nil, f.fail(StepInstance, err)
	}
	res.Instance.ID = inst.ID
	if res.Instance.Reused {
		// Before a key is created on an instance whose roles may differ,
		// read them from one of its keys (if the key to reuse exists, its
		// own token tells after the reveal).
		roles, ok, err := f.smInstanceRoles(ctx, t, inst.ID, t.Key, true)
		if err != nil {
			return nil, f.fail(StepInstance, err)
		}
		if ok {
			if err := f.settleRoles(ctx, t, inst.ID, roles, res); err != nil {
				return nil, f.fail(StepInstance, err)
			}
		}
	}
	b, err := f.smBinding(ctx, t, inst, res)
	if err != nil {
		return nil, f.fail(StepKey, err)
	}
	res.Key.ID = b.ID
	return b.Credentials, nil
}

func (f *Flow) smGetInstanceByName(ctx context.Context, t Target) (*cliserver.Instance, error) {
	var inst *cliserver.Instance
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		inst, err = c.GetInstanceByName(ctx, t.Subaccount.ID, t.Instance)
		return err
	})
	if cliserver.IsNotFound(err) {
		return nil, nil
	}
	return inst, err
}

func (f *Flow) smInstance(ctx context.Context, t Target, plan *cliserver.Plan, res *Result) (*cliserver.Instance, error) {
	inst, err := f.smGetInstanceByName(ctx, t)
	if err != nil {
		return nil, err
	}
	if inst != nil {
		if inst.PlanID != plan.ID {
			return nil, fmt.Errorf("an instance named %q already exists in subaccount %s with another plan than it-rt/%s; choose another instance name (--instance) or delete it in the cockpit", t.Instance, t.Subaccount.Name, t.Plan)
		}
		switch inst.State() {
		case cliserver.StateSucceeded:
			res.Instance.Reused = true
			f.report(Event{Step: StepInstance, Kind: EventReused, Message: "Instance " + t.Instance + " already exists"})
			return inst, nil
		case cliserver.StateFailed:
			reason := ""
			if inst.LastOperation != nil {
				reason = inst.LastOperation.Description
			}
			if !t.RecreateFailed {
				return nil, &FailedInstanceError{Name: t.Instance, Reason: reason}
			}
			if err := f.smDeleteInstance(ctx, t, inst.ID); err != nil {
				return nil, err
			}
		default:
			res.Instance.Reused = true
			return f.smWaitInstance(ctx, t, inst.ID)
		}
	}
	var created *cliserver.CreateInstanceResult
	err = f.btp(ctx, func(c *cliserver.Client) (err error) {
		created, err = c.CreateInstance(ctx, cliserver.CreateInstanceRequest{SubaccountID: t.Subaccount.ID, Name: t.Instance,
			PlanID: plan.ID, Parameters: InstanceParameters(t.Roles)})
		return err
	})
	if err != nil {
		if cliserver.IsBrokerError(err) {
			return nil, &BrokerError{What: "Creating instance " + t.Instance, Text: brokerText(err), Err: err}
		}
		var apiErr *cliserver.Error
		if !errors.As(err, &apiErr) || apiErr.BackendStatus == 409 {
			// The request may have run (lost answer) or raced another run.
			if again, lerr := f.smGetInstanceByName(ctx, t); lerr == nil && again != nil {
				res.Instance.Reused = true
				return f.smWaitInstance(ctx, t, again.ID)
			}
		}
		return nil, fmt.Errorf("create instance %s: %w", t.Instance, err)
	}
	if created.Instance != nil && !created.Async && created.Instance.State() == cliserver.StateSucceeded {
		f.report(Event{Step: StepInstance, Kind: EventDone, Message: "Instance " + t.Instance + " created"})
		return created.Instance, nil
	}
	inst, err = f.smWaitInstance(ctx, t, created.ID)
	if err != nil {
		return nil, err
	}
	f.report(Event{Step: StepInstance, Kind: EventDone, Message: "Instance " + t.Instance + " created"})
	return inst, nil
}

func (f *Flow) smWaitInstance(ctx context.Context, t Target, id string) (*cliserver.Instance, error) {
	return f.smWait(ctx, t, id, "Creating instance "+t.Instance)
}

// smWait polls an instance until its last operation (what) is final.
func (f *Flow) smWait(ctx context.Context, t Target, id, what string) (*cliserver.Instance, error) {
	var inst *cliserver.Instance
	err := f.poll(ctx, StepInstance, what, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			inst, err = c.GetInstance(ctx, t.Subaccount.ID, id)
			return err
		})
		if err != nil {
			if cliserver.IsRateLimited(err) {
				return pollResult{State: cliserver.StateInProgress}, nil
			}
			return pollResult{}, err
		}
		switch inst.State() {
		case cliserver.StateSucceeded:
			return pollResult{Done: true}, nil
		case cliserver.StateFailed:
			text := "failed"
			if inst.LastOperation != nil && inst.LastOperation.Description != "" {
				text = inst.LastOperation.Description
			}
			return pollResult{}, &BrokerError{What: what, Text: text}
		}
		return pollResult{State: inst.State()}, nil
	})
	return inst, err
}

func (f *Flow) smDeleteInstance(ctx context.Context, t Target, id string) error {
	f.report(Event{Step: StepInstance, Kind: EventStarted, Message: "Deleting failed instance " + t.Instance})
	err := f.btp(ctx, func(c *cliserver.Client) error { return c.DeleteInstance(ctx, t.Subaccount.ID, id) })
	if err != nil {
		return fmt.Errorf("delete failed instance %s: %w", t.Instance, err)
	}
	return f.poll(ctx, StepInstance, "Deleting failed instance "+t.Instance, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		err := f.btp(ctx, func(c *cliserver.Client) error {
			_, err := c.GetInstance(ctx, t.Subaccount.ID, id)
			return err
		})
		if cliserver.IsNotFound(err) {
			return pollResult{Done: true}, nil
		}
		return pollResult{State: cliserver.StateInProgress}, err
	})
}

func (f *Flow) smBinding(ctx context.Context, t Target, inst *cliserver.Instance, res *Result) (*cliserver.Binding, error) {
	f.report(Event{Step: StepKey, Kind: EventStarted, Message: "Service key " + t.Key})
	get := func(ctx context.Context) (*cliserver.Binding, error) {
		var b *cliserver.Binding
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			b, err = c.GetBindingByName(ctx, t.Subaccount.ID, t.Key)
			return err
		})
		if cliserver.IsNotFound(err) {
			return nil, nil
		}
		return b, err
	}
	b, err := get(ctx)
	if err != nil {
		return nil, err
	}
	if b != nil && b.InstanceID != inst.ID {
		return nil, fmt.Errorf("a service key named %q already exists in subaccount %s for another instance; choose another key name (--key)", t.Key, t.Subaccount.Name)
	}
	if b != nil && b.State() == cliserver.StateSucceeded {
		res.Key.Reused = true
		f.report(Event{Step: StepKey, Kind: EventReused, Message: "Service key " + t.Key + " already exists"})
		return b, nil
	}
	if b == nil {
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			b, err = c.CreateBinding(ctx, cliserver.CreateBindingRequest{SubaccountID: t.Subaccount.ID, InstanceID: inst.ID,
				Name: t.Key, Parameters: t.KeySpec.Parameters(t.Plan)})
			return err
		})
		if err != nil {
			if cliserver.IsBrokerError(err) {
				return nil, &BrokerError{What: "Creating service key " + t.Key, Text: brokerText(err), Err: err}
			}
			var apiErr *cliserver.Error
			if errors.As(err, &apiErr) {
				return nil, fmt.Errorf("create service key %s: %w", t.Key, err)
			}
			// Lost answer: the key may exist; look it up before giving up.
			again, lerr := get(ctx)
			if lerr != nil || again == nil {
				return nil, fmt.Errorf("create service key %s: %w", t.Key, err)
			}
			b = again
		}
	} else {
		res.Key.Reused = true
	}
	id := b.ID
	err = f.poll(ctx, StepKey, "Creating service key "+t.Key, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			b, err = c.GetBinding(ctx, t.Subaccount.ID, id)
			return err
		})
		if err != nil {
			return pollResult{}, err
		}
		switch b.State() {
		case cliserver.StateSucceeded, "":
			return pollResult{Done: len(b.Credentials) > 0}, nil
		case cliserver.StateFailed:
			return pollResult{}, &BrokerError{What: "Creating service key " + t.Key, Text: "failed"}
		}
		return pollResult{State: b.State()}, nil
	})
	if err != nil {
		return nil, err
	}
	if !res.Key.Reused {
		f.report(Event{Step: StepKey, Kind: EventDone, Message: "Service key " + t.Key + " created"})
	}
	return b, nil
}

// brokerText is the broker's own description from a CLI server error.
func brokerText(err error) string {
	var e *cliserver.Error
	if errors.As(err, &e) && e.BrokerDescription != "" {
		return e.BrokerDescription
	}
	return err.Error()
}
