package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/itrt"
)

// InstanceChoice is an it-rt instance that already exists where the new
// one would go, with its keys: the wizard offers it for reuse.
type InstanceChoice struct {
	Name, ID string
	Plan     string // integration-flow or api; "" when not known
	State    string // succeeded, in progress, failed
	Keys     []string
}

// Instances lists the it-rt instances of t's space (Cloud Foundry) or of
// the subaccount's Service Manager, each with its keys, sorted by name.
func (f *Flow) Instances(ctx context.Context, t Target) ([]InstanceChoice, error) {
	if t.Runtime == RuntimeOther {
		return f.smInstances(ctx, t)
	}
	return f.cfInstances(ctx, t)
}

func (f *Flow) cfInstances(ctx context.Context, t Target) ([]InstanceChoice, error) {
	c, err := f.cfFor(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := f.cfSpace(ctx, c, &t); err != nil {
		return nil, err
	}
	planNames := map[string]string{}
	var guids []string
	for _, p := range itrt.Plans {
		plan, err := f.findPlan(ctx, c, p, t.SpaceID)
		if err != nil {
			return nil, err
		}
		if plan != nil {
			planNames[plan.GUID] = p
			guids = append(guids, plan.GUID)
		}
	}
	if len(guids) == 0 {
		return nil, nil // no it-rt plan here, so no it-rt instance either
	}
	insts, err := c.ListInstances(ctx, t.SpaceID, guids...)
	if err != nil {
		return nil, fmt.Errorf("list the it-rt instances of space %s: %w", t.Space, err)
	}
	out := make([]InstanceChoice, len(insts))
	errs := make([]error, len(insts))
	done := make(chan int, len(insts))
	for i, in := range insts {
		out[i] = InstanceChoice{Name: in.Name, ID: in.GUID, Plan: planNames[in.PlanGUID], State: in.LastOperation.State}
		go func() {
			defer func() { done <- i }()
			keys, err := c.ListKeys(ctx, in.GUID)
			errs[i] = err
			for _, k := range keys {
				if k.LastOperation.Type != "delete" {
					out[i].Keys = append(out[i].Keys, k.Name)
				}
			}
		}()
	}
	for range insts {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("list the keys of the it-rt instances: %w", err)
	}
	return sortChoices(out), nil
}

func (f *Flow) smInstances(ctx context.Context, t Target) ([]InstanceChoice, error) {
	planNames := map[string]string{}
	for _, p := range itrt.Plans {
		var plan *cliserver.Plan
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			plan, err = c.GetPlanByName(ctx, t.Subaccount.ID, itrt.Service, p)
			return err
		})
		if err == nil {
			planNames[plan.ID] = p
		} else if !cliserver.IsNotFound(err) {
			return nil, err
		}
	}
	if len(planNames) == 0 {
		return nil, nil
	}
	var (
		insts    []cliserver.Instance
		bindings []cliserver.Binding
	)
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		if insts, err = c.ListInstances(ctx, t.Subaccount.ID); err != nil {
			return err
		}
		// The listing carries credentials too; only the names are kept.
		bindings, err = c.ListBindings(ctx, t.Subaccount.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the Service Manager instances of %s: %w", t.Subaccount.Name, err)
	}
	var out []InstanceChoice
	for _, in := range insts {
		plan, ok := planNames[in.PlanID]
		if !ok {
			continue
		}
		ch := InstanceChoice{Name: in.Name, ID: in.ID, Plan: plan, State: in.State()}
		if ch.State == "" && in.Ready {
			ch.State = cliserver.StateSucceeded // listings carry no last operation
		}
		for _, b := range bindings {
			if b.InstanceID == in.ID {
				ch.Keys = append(ch.Keys, b.Name)
			}
		}
		out = append(out, ch)
	}
	return sortChoices(out), nil
}

func sortChoices(out []InstanceChoice) []InstanceChoice {
	for i := range out {
		slices.Sort(out[i].Keys)
	}
	slices.SortFunc(out, func(a, b InstanceChoice) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out
}

// ErrNoKeychain: the flow has no keychain (--no-keychain).
var ErrNoKeychain = errors.New("no keychain: --no-keychain")

// ProbeKeychain tells, before anything is created, whether the client
// secret can be saved: nil when the OS keychain answers, else why not. It
// reads an entry that does not exist; nothing is written.
func (f *Flow) ProbeKeychain(ctx context.Context) error {
	if f.cfg.Keyring == nil {
		return ErrNoKeychain
	}
	_, err := f.cfg.Keyring.Get(ctx, f.KeychainService(), "cpikey-probe")
	if err == nil || errors.Is(err, keychain.ErrNotFound) {
		return nil
	}
	return err
}
