package steps

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/itrt"
)

func (f *Flow) existingCF(ctx context.Context, t Target) (*Existing, error) {
	c, err := f.cfFor(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := f.cfSpace(ctx, c, &t); err != nil {
		return nil, err
	}
	ex := &Existing{}
	inst, err := c.FindInstance(ctx, t.Instance, t.SpaceID)
	if err != nil || inst == nil {
		return ex, err
	}
	ex.InstanceExists, ex.InstanceState = true, inst.LastOperation.State
	ex.InstancePlan = t.Plan
	if plan, err := c.FindPlan(ctx, itrt.Service, t.Plan, t.SpaceID); err == nil && (plan == nil || plan.GUID != inst.PlanGUID) {
		ex.InstancePlan = "another plan"
	}
	k, err := c.FindKey(ctx, t.Key, inst.GUID)
	if err != nil {
		return ex, err
	}
	ex.KeyExists = k != nil
	if inst.Ready() {
		if ex.InstanceRoles, ex.RolesKnown, err = f.cfInstanceRoles(ctx, c, inst.GUID, t.Key); err != nil {
			return ex, err
		}
	}
	return ex, nil
}

func (f *Flow) cfSpace(ctx context.Context, c *cf.Client, t *Target) error {
	if t.SpaceID != "" {
		return nil
	}
	s, err := c.GetSpaceByName(ctx, t.OrgID, t.Space)
	if err != nil {
		return fmt.Errorf("space %q in org %s: %w", t.Space, t.OrgName, err)
	}
	t.SpaceID = s.GUID
	return nil
}

func (f *Flow) cfPoll() cf.PollInterval {
	min, max := f.pollIntervals()
	return cf.PollInterval{Min: min, Max: max}
}

// notSpaceDeveloper explains a 403 from Cloud Foundry.
func notSpaceDeveloper(t Target, err error) error {
	return fmt.Errorf("you are not a Space Developer in space %s of org %s, which creating it-rt instances and keys requires: "+
		"ask an Org Manager to add you (cockpit: Cloud Foundry > Spaces > %s > Members, or `cf set-space-role <user> %s %s SpaceDeveloper`), then rerun cpikey: %w",
		t.Space, t.OrgName, t.Space, t.OrgName, t.Space, err)
}

func (f *Flow) provisionCF(ctx context.Context, t Target, res *Result) (json.RawMessage, error) {
	c, err := f.cfFor(ctx, t)
	if err != nil {
		return nil, f.fail(StepInstance, err)
	}
	if err := f.cfSpace(ctx, c, &t); err != nil {
		return nil, f.fail(StepInstance, err)
	}
	inst, err := f.cfInstance(ctx, c, t, res)
	if err != nil {
		return nil, f.fail(StepInstance, err)
	}
	res.Instance.ID = inst.GUID
	var k *cf.Key
	if res.Instance.Reused {
		// Only an instance that existed can have the key (a new one has
		// none; should one appear meanwhile, creating it fails as name taken
		// and is handled in cfKey).
		if k, err = c.FindKey(ctx, t.Key, inst.GUID); err != nil {
			return nil, f.fail(StepKey, err)
		}
		if k == nil {
			// Before creating a key on an instance whose roles may differ,
			// read them from one of its other keys, if any.
			roles, ok, err := f.cfInstanceRoles(ctx, c, inst.GUID, "")
			if err != nil {
				return nil, f.fail(StepInstance, err)
			}
			if ok {
				if err := f.settleRoles(ctx, t, inst.GUID, roles, res); err != nil {
					return nil, f.fail(StepInstance, err)
				}
			}
		}
	}
	raw, err := f.cfKey(ctx, c, t, inst, k, res)
	if err != nil {
		return nil, f.fail(StepKey, err)
	}
	return raw, nil
}

func (f *Flow) cfInstance(ctx context.Context, c *cf.Client, t Target, res *Result) (*cf.Instance, error) {
	res.Instance.Name = t.Instance
	f.report(Event{Step: StepInstance, Kind: EventStarted, Message: fmt.Sprintf("Instance %s in space %s", t.Instance, t.Space)})
	// The plan and the instance name are independent reads.
	var (
		inst    *cf.Instance
		instErr error
		found   = make(chan struct{})
	)
	go func() {
		defer close(found)
		inst, instErr = c.FindInstance(ctx, t.Instance, t.SpaceID)
	}()
	plan, err := f.findPlan(ctx, c, t.Plan, t.SpaceID)
	<-found
	if err != nil {
		return nil, err
	}
	if plan == nil {
		return nil, fmt.Errorf("plan it-rt/%s is not in the marketplace of space %s (org %s) although the entitlement check passed: "+
			"it can take a minute after entitling; if it persists, check in the cockpit that the plan is entitled to subaccount %s and that the org's quota allows paid plans, then rerun",
			t.Plan, t.Space, t.OrgName, t.Subaccount.Name)
	}
	if instErr != nil {
		return nil, instErr
	}
	if inst != nil {
		if inst.PlanGUID != plan.GUID {
			return nil, fmt.Errorf("an instance named %q already exists in space %s with another plan than it-rt/%s; choose another instance name (--instance) or delete it in the cockpit", t.Instance, t.Space, t.Plan)
		}
		switch inst.LastOperation.State {
		case cf.StateSucceeded:
			res.Instance.Reused = true
			f.report(Event{Step: StepInstance, Kind: EventReused, Message: "Instance " + t.Instance + " already exists"})
			return inst, nil
		case cf.StateFailed:
			if !t.RecreateFailed {
				return nil, &FailedInstanceError{Name: t.Instance, Reason: inst.LastOperation.Description}
			}
			// Cloud Foundry replaces a failed instance of the same name.
		default:
			res.Instance.Reused = true
			return f.cfWaitInstance(ctx, c, t, inst.GUID)
		}
	}
	jobURL, err := c.CreateInstance(ctx, t.Instance, t.SpaceID, plan.GUID, InstanceParameters(t.Roles))
	if err != nil {
		var apiErr *cf.Error
		switch {
		case cf.IsNotAuthorized(err):
			return nil, notSpaceDeveloper(t, err)
		case cf.IsNameTaken(err), !errors.As(err, &apiErr):
			// Someone (or our own lost request) created it meanwhile.
			if again, lerr := c.FindInstance(ctx, t.Instance, t.SpaceID); lerr == nil && again != nil {
				res.Instance.Reused = true
				return f.cfWaitInstance(ctx, c, t, again.GUID)
			}
		}
		return nil, fmt.Errorf("create instance %s: %w%s", t.Instance, err, rerunHint(err))
	}
	job, err := f.cfJob(ctx, c, StepInstance, "Creating instance "+t.Instance, jobURL)
	if err != nil {
		return nil, err
	}
	if job.ResourceGUID != "" {
		// A COMPLETE create job is a succeeded instance: no need to read it back.
		inst = &cf.Instance{GUID: job.ResourceGUID, Name: t.Instance, Type: "managed", SpaceGUID: t.SpaceID, PlanGUID: plan.GUID,
			LastOperation: cf.LastOperation{Type: "create", State: cf.StateSucceeded, UpdatedAt: job.UpdatedAt}}
	} else if inst, err = c.FindInstance(ctx, t.Instance, t.SpaceID); err != nil || inst == nil {
		return nil, fmt.Errorf("instance %s was created but cannot be read back: %v", t.Instance, err)
	}
	f.report(Event{Step: StepInstance, Kind: EventDone, Message: "Instance " + t.Instance + " created"})
	return inst, nil
}

// cfWaitJob waits for a job, reporting its state; a FAILED job becomes a
// BrokerError with the broker's words.
func (f *Flow) cfWaitJob(ctx context.Context, c *cf.Client, step Step, what, jobURL string) error {
	_, err := f.cfJob(ctx, c, step, what, jobURL)
	return err
}

// cfJob is cfWaitJob returning the finished job. Like poll, it polls at
// the minimum interval for the first minute (completion is noticed within
// about a second) and backs off only after that; Retry-After is honoured
// throughout.
func (f *Flow) cfJob(ctx context.Context, c *cf.Client, step Step, what, jobURL string) (*cf.Job, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	start := time.Now()
	var lastState string // WaitJob returns no job when the deadline hits mid-request
	onPoll := func(j cf.Job) {
		lastState = j.State
		f.report(Event{Step: step, Kind: EventWaiting, Message: what, State: j.State, Elapsed: time.Since(start)})
	}
	every := f.cfPoll()
	steadyCtx, steadyCancel := context.WithTimeout(ctx, time.Minute)
	job, err := c.WaitJob(steadyCtx, jobURL, cf.PollInterval{Min: every.Min, Max: every.Min}, onPoll)
	steadyCancel()
	if err != nil && steadyCtx.Err() != nil && ctx.Err() == nil {
		job, err = c.WaitJob(ctx, jobURL, every, onPoll)
	}
	if err != nil {
		var failed *cf.JobFailedError
		if errors.As(err, &failed) {
			return nil, &BrokerError{What: what, Text: cmp.Or(failed.Detail(), err.Error()), Err: err}
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return nil, &TimeoutError{What: what, After: f.timeout(), State: lastState}
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		// The request was accepted; only watching it failed.
		return nil, fmt.Errorf("%s: %w; SAP keeps working on it: rerun cpikey later and it will pick up where this left off", what, err)
	}
	return job, nil
}

// rerunHint is the advice for a failure that is most likely temporary (a
// 5xx or 429 answer, a broken connection): nothing is lost by running
// again. It is "" for refusals that a rerun would only repeat.
func rerunHint(err error) string {
	if errors.Is(err, context.Canceled) {
		return ""
	}
	var apiErr *cf.Error
	if errors.As(err, &apiErr) && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests {
		return ""
	}
	return "; this looks temporary: rerun cpikey in a minute, it reuses what was already created"
}

// cfWaitInstance waits for an instance whose creation is in progress.
func (f *Flow) cfWaitInstance(ctx context.Context, c *cf.Client, t Target, guid string) (*cf.Instance, error) {
	var inst *cf.Instance
	err := f.cfWaitLastOp(ctx, StepInstance, "Waiting for instance "+t.Instance, "Creating instance "+t.Instance,
		func(ctx context.Context) (op cf.LastOperation, err error) {
			if inst, err = c.GetInstance(ctx, guid); err != nil {
				return op, err
			}
			return inst.LastOperation, nil
		})
	if err != nil {
		return nil, err
	}
	f.report(Event{Step: StepInstance, Kind: EventReused, Message: "Instance " + t.Instance + " finished provisioning"})
	return inst, nil
}

// cfWaitLastOp polls read until the last operation succeeded; a failed one
// becomes a BrokerError with the broker's text.
func (f *Flow) cfWaitLastOp(ctx context.Context, step Step, what, failing string, read func(context.Context) (cf.LastOperation, error)) error {
	return f.poll(ctx, step, what, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		op, err := read(ctx)
		if err != nil {
			return pollResult{}, err
		}
		switch op.State {
		case cf.StateSucceeded:
			return pollResult{Done: true}, nil
		case cf.StateFailed:
			return pollResult{}, &BrokerError{What: failing, Text: cmp.Or(op.Description, "failed")}
		}
		return pollResult{State: op.State}, nil
	})
}

// cfKey reuses k (the key of that name the instance has, or nil) or
// creates the key, and reads its credentials.
func (f *Flow) cfKey(ctx context.Context, c *cf.Client, t Target, inst *cf.Instance, k *cf.Key, res *Result) (json.RawMessage, error) {
	res.Key.Name = t.Key
	f.report(Event{Step: StepKey, Kind: EventStarted, Message: "Service key " + t.Key})
	var err error
	switch {
	case k != nil && k.LastOperation.State == cf.StateSucceeded:
		res.Key.Reused = true
		f.report(Event{Step: StepKey, Kind: EventReused, Message: "Service key " + t.Key + " already exists"})
	case k != nil && k.LastOperation.State != cf.StateFailed:
		res.Key.Reused = true
		if k, err = f.cfWaitKey(ctx, c, t, k.GUID); err != nil {
			return nil, err
		}
	default:
		// Absent, or failed (Cloud Foundry replaces a failed key of the same name).
		jobURL, err := c.CreateKey(ctx, t.Key, inst.GUID, t.KeySpec.Parameters(t.Plan))
		if err != nil {
			var apiErr *cf.Error
			switch {
			case cf.IsNotAuthorized(err):
				return nil, notSpaceDeveloper(t, err)
			case cf.IsNameTaken(err), !errors.As(err, &apiErr):
				if again, lerr := c.FindKey(ctx, t.Key, inst.GUID); lerr == nil && again != nil {
					res.Key.Reused = true
					if k, err = f.cfWaitKey(ctx, c, t, again.GUID); err != nil {
						return nil, err
					}
					break
				}
				return nil, fmt.Errorf("create service key %s: %w%s", t.Key, err, rerunHint(err))
			default:
				return nil, fmt.Errorf("create service key %s: %w%s", t.Key, err, rerunHint(err))
			}
		} else {
			job, err := f.cfJob(ctx, c, StepKey, "Creating service key "+t.Key, jobURL)
			if err != nil {
				return nil, err
			}
			if job.ResourceGUID != "" {
				// COMPLETE means the key exists and succeeded: no read-back.
				k = &cf.Key{GUID: job.ResourceGUID, Name: t.Key, InstanceGUID: inst.GUID,
					LastOperation: cf.LastOperation{Type: "create", State: cf.StateSucceeded, UpdatedAt: job.UpdatedAt}}
			} else if k, err = c.FindKey(ctx, t.Key, inst.GUID); err != nil || k == nil {
				return nil, fmt.Errorf("service key %s was created but cannot be read back: %v", t.Key, err)
			}
			f.report(Event{Step: StepKey, Kind: EventDone, Message: "Service key " + t.Key + " created"})
		}
	}
	res.Key.ID = k.GUID
	raw, err := c.KeyDetails(ctx, k.GUID)
	if err != nil {
		if cf.IsNotAuthorized(err) {
			return nil, notSpaceDeveloper(t, err)
		}
		return nil, fmt.Errorf("read the credentials of key %s: %w%s", t.Key, err, rerunHint(err))
	}
	return raw, nil
}

func (f *Flow) cfWaitKey(ctx context.Context, c *cf.Client, t Target, guid string) (*cf.Key, error) {
	var k *cf.Key
	err := f.cfWaitLastOp(ctx, StepKey, "Waiting for service key "+t.Key, "Creating service key "+t.Key,
		func(ctx context.Context) (op cf.LastOperation, err error) {
			if k, err = c.GetKey(ctx, guid); err != nil {
				return op, err
			}
			return k.LastOperation, nil
		})
	return k, err
}
