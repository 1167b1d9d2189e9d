package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/itrt"
)

// Subaccounts lists all subaccounts of the global account with their
// directory path, sorted by display name.
func (f *Flow) Subaccounts(ctx context.Context) ([]SubaccountInfo, error) {
	ga, err := f.globalAccount(ctx)
	if err != nil {
		return nil, err
	}
	paths := ga.SubaccountPaths()
	all := ga.AllSubaccounts()
	out := make([]SubaccountInfo, 0, len(all))
	for _, s := range all {
		out = append(out, SubaccountInfo{ID: s.GUID, Name: s.DisplayName, Subdomain: s.Subdomain, Region: s.Region, Path: paths[s.GUID]})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// globalAccount returns the hierarchy read at login (re-read if missing).
func (f *Flow) globalAccount(ctx context.Context) (*cliserver.GlobalAccount, error) {
	f.mu.Lock()
	ga := f.ga
	f.mu.Unlock()
	if ga != nil {
		return ga, nil
	}
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		ga, err = c.GetGlobalAccount(ctx, "", true)
		return err
	})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.ga = ga
	f.mu.Unlock()
	return ga, nil
}

// ResolveSubaccount finds a subaccount by display name, GUID or subdomain.
func (f *Flow) ResolveSubaccount(ctx context.Context, ref string) (SubaccountInfo, error) {
	subs, err := f.Subaccounts(ctx)
	if err != nil {
		return SubaccountInfo{}, err
	}
	var byName []SubaccountInfo
	for _, s := range subs {
		if s.ID == ref || strings.EqualFold(s.Subdomain, ref) {
			return s, nil
		}
		if strings.EqualFold(s.Name, ref) {
			byName = append(byName, s)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return SubaccountInfo{}, &UsageError{Msg: fmt.Sprintf("--subaccount %q: no subaccount with that display name, GUID or subdomain in this global account; %s",
			ref, candidates(subs))}
	}
	return SubaccountInfo{}, &UsageError{Msg: fmt.Sprintf("--subaccount %q matches %d subaccounts by display name; pass the subdomain or GUID instead; %s",
		ref, len(byName), candidates(byName))}
}

// maxCandidates bounds the subaccounts an error lists.
const maxCandidates = 20

// candidates lists subaccounts for an error: name, subdomain and GUID, one
// a line, so the right value can be copied into --subaccount.
func candidates(subs []SubaccountInfo) string {
	if len(subs) == 0 {
		return "the global account has no subaccounts you can see"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d candidates (name, subdomain, GUID):", len(subs))
	for i, s := range subs {
		if i == maxCandidates {
			fmt.Fprintf(&b, "\n  … and %d more (run cpikey without --yes to pick from a filterable list)", len(subs)-maxCandidates)
			break
		}
		fmt.Fprintf(&b, "\n  %s  %s  %s", s.Name, s.Subdomain, s.ID)
	}
	return b.String()
}

// Check reports entitlements of both it-rt plans, the Cloud Foundry
// environment and, when possible, whether the plan is visible where the
// instance will live. The reads run concurrently: the (large) entitlement
// listing alongside the environment instances and, as soon as those name
// the Cloud Foundry org, the Cloud Foundry login and the org's spaces, which
// the next steps need (prefetchSpaces).
func (f *Flow) Check(ctx context.Context, sub SubaccountInfo, plan string, rt Runtime) (*CheckReport, error) {
	f.report(Event{Step: StepCheck, Kind: EventStarted, Message: "Checking " + sub.Name})
	if plan == "" {
		plan = DefaultPlan
	}
	ga, err := f.globalAccount(ctx)
	if err != nil {
		return nil, f.fail(StepCheck, err)
	}
	dirID := ""
	if d := ga.ManagingDirectory(sub.ID, "ENTITLEMENTS"); d != nil {
		dirID = d.GUID
	}
	var (
		ents    *cliserver.Entitlements
		envs    []cliserver.EnvironmentInstance
		entErr  error
		envErr  error
		entDone = make(chan struct{})
	)
	suite := f.startSuiteReads(ctx, sub.ID)
	go func() {
		defer close(entDone)
		entErr = f.btp(ctx, func(c *cliserver.Client) (err error) {
			ents, err = c.ListEntitlements(ctx, "", sub.ID, dirID, append([]string{itrt.Service}, itrt.SuiteServices...)...)
			return err
		})
	}()
	envErr = f.btp(ctx, func(c *cliserver.Client) (err error) {
		envs, err = c.ListEnvironmentInstances(ctx, sub.ID)
		return err
	})
	if env := cliserver.CloudFoundry(envs); envErr == nil && env != nil && rt == RuntimeCF {
		f.prefetchSpaces(ctx, &CFEnvironment{APIURL: env.APIEndpoint, OrgID: env.OrgID, OrgName: env.OrgName})
	}
	<-entDone
	if entErr != nil {
		return nil, f.fail(StepCheck, fmt.Errorf("read the entitlements of %s: %w", sub.Name, entErr))
	}
	if envErr != nil {
		return nil, f.fail(StepCheck, fmt.Errorf("read the environments of %s: %w", sub.Name, envErr))
	}

	r := &CheckReport{Subaccount: sub, GlobalAccountHasService: ents.Owns(itrt.Service)}
	r.DirectoryID = dirID
	if r.Suite, err = f.suiteReport(ctx, sub, ents, suite); err != nil {
		return nil, f.fail(StepCheck, err)
	}
	if !r.GlobalAccountHasService {
		r.Items = append(r.Items, CheckItem{OK: false, Title: "it-rt in the global account",
			Detail: "the global account owns no SAP Process Integration Runtime (it-rt): SAP Integration Suite must be purchased or entitled at global-account level first"})
	} else {
		r.Items = append(r.Items, CheckItem{OK: true, Title: "it-rt in the global account", Detail: "SAP Process Integration Runtime is available to assign"})
	}
	for _, p := range itrt.Plans {
		ps := PlanStatus{Plan: p}
		if ep := ents.Plan(itrt.Service, p); ep != nil {
			ps.Category, ps.State, ps.Entitled = ep.Category, ep.State, ep.Assigned && ep.State == "OK"
			ps.Unlimited, ps.UniqueID = ep.Unlimited, ep.UniqueIdentifier
			if ep.Assigned {
				ps.AssignedAmount = ep.AssignedAmount
			}
			ps.Owned = ep.Owned
		}
		r.Plans = append(r.Plans, ps)
		item := CheckItem{OK: ps.Entitled, Title: "Entitlement it-rt/" + p}
		switch {
		case ps.Entitled:
			item.Detail = "assigned to the subaccount"
		case ps.State == "PROCESSING" || ps.State == "STARTED":
			item.Detail = "assignment in progress (" + ps.State + "); cpikey waits for it"
			r.MissingPlans = append(r.MissingPlans, p)
		case !r.GlobalAccountHasService || !ps.Owned:
			item.Detail = "cannot be assigned: the global account does not own this plan"
		default:
			item.Detail = "missing: cpikey can assign it (needs Global Account Administrator)"
			r.MissingPlans = append(r.MissingPlans, p)
		}
		r.Items = append(r.Items, item)
	}
	if env := cliserver.CloudFoundry(envs); env != nil {
		r.CF = &CFEnvironment{APIURL: env.APIEndpoint, OrgID: env.OrgID, OrgName: env.OrgName}
		f.mu.Lock()
		f.envs[sub.ID] = r.CF
		f.mu.Unlock()
		r.Items = append(r.Items, CheckItem{OK: true, Title: "Cloud Foundry environment", Detail: "org " + env.OrgName})
	} else {
		detail := "none: enable Cloud Foundry in the cockpit (subaccount > Overview > Enable Cloud Foundry)"
		if rt == RuntimeCF {
			detail += ", or choose runtime \"other\" (Service Manager)"
		}
		r.Items = append(r.Items, CheckItem{OK: rt == RuntimeOther, Title: "Cloud Foundry environment", Detail: detail})
	}
	f.recordEntitlements(r)
	f.visibilityItem(ctx, r, plan, rt)
	r.Items = append(r.Suite.items(), r.Items...) // Integration Suite comes first
	f.report(Event{Step: StepCheck, Kind: EventDone, Message: fmt.Sprintf("Checked %s: %s", sub.Name, r.summary())})
	if !r.GlobalAccountHasService && !r.Suite.NeedsSetup() { // with Integration Suite to set up, that comes first
		return r, f.fail(StepCheck, ErrNoServiceInGlobalAccount)
	}
	return r, nil
}

// ErrNoServiceInGlobalAccount: nothing cpikey can do until SAP Integration
// Suite is purchased or entitled at global-account level.
var ErrNoServiceInGlobalAccount = errors.New("the global account has no entitlement for SAP Process Integration Runtime (it-rt): " +
	"SAP Integration Suite must be purchased or entitled at global-account level first (ask your global account administrator or SAP account executive), then rerun cpikey")

// visibilityItem adds whether the plan can be used where the instance lives.
func (f *Flow) visibilityItem(ctx context.Context, r *CheckReport, plan string, rt Runtime) {
	title := "Plan " + plan + " visible"
	if !r.planStatus(plan).Entitled {
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "becomes visible once the plan is entitled"})
		return
	}
	if rt == RuntimeOther {
		var p *cliserver.Plan
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			p, err = c.GetPlanByName(ctx, r.Subaccount.ID, itrt.Service, plan)
			return err
		})
		switch {
		case err == nil && p != nil:
			r.PlanVisible = true
			r.Items = append(r.Items, CheckItem{OK: true, Title: title, Detail: "in the subaccount's Service Manager marketplace"})
		default:
			r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "not in the subaccount's Service Manager marketplace yet: " + errText(err)})
		}
		return
	}
	if r.CF == nil {
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "needs a Cloud Foundry environment"})
		return
	}
	c, err := f.cfClient(ctx, r.CF.APIURL)
	if err != nil {
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "could not check: " + err.Error()})
		return
	}
	space, ok, err := f.spaceByName(ctx, r.CF.APIURL, r.CF.OrgID, DefaultSpace)
	if err != nil || !ok {
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "space " + DefaultSpace + " not found in org " + r.CF.OrgName + "; pick a space on the next screen"})
		return
	}
	p, err := f.findPlan(ctx, c, plan, space.GUID)
	switch {
	case err != nil:
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "could not check: " + err.Error()})
	case p == nil:
		r.Items = append(r.Items, CheckItem{OK: false, Title: title, Detail: "entitled, but not in the marketplace of space " + DefaultSpace + " yet (can take a minute after entitling)"})
	default:
		r.PlanVisible = true
		r.Items = append(r.Items, CheckItem{OK: true, Title: title, Detail: "in the marketplace of space " + DefaultSpace})
	}
}

// findPlan looks up the it-rt plan in a space's marketplace. A plan found
// is remembered (plan GUIDs do not change), so the check and the provisioning
// ask once; "not visible" is not remembered, as entitling changes it.
func (f *Flow) findPlan(ctx context.Context, c *cf.Client, plan, spaceGUID string) (*cf.Plan, error) {
	key := c.APIURL() + " " + plan + " " + spaceGUID
	f.mu.Lock()
	p := f.plans[key]
	f.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := c.FindPlan(ctx, itrt.Service, plan, spaceGUID)
	if err == nil && p != nil {
		f.mu.Lock()
		f.plans[key] = p
		f.mu.Unlock()
	}
	return p, err
}

func errText(err error) string {
	if err == nil {
		return "not found"
	}
	return err.Error()
}

func (r *CheckReport) planStatus(plan string) PlanStatus {
	for _, p := range r.Plans {
		if p.Plan == plan {
			return p
		}
	}
	return PlanStatus{Plan: plan}
}

func (r *CheckReport) summary() string {
	if r.Suite.NeedsSetup() {
		return "SAP Integration Suite is not ready (" + r.Suite.missing() + "); it-rt plans missing: " + cmp.Or(strings.Join(r.MissingPlans, ", "), "none")
	}
	if len(r.MissingPlans) == 0 {
		return "both it-rt plans entitled"
	}
	return "missing " + strings.Join(r.MissingPlans, ", ")
}

// Entitle assigns report.MissingPlans (enable or amount 1, decided by the
// plan's category) and waits until each assignment is OK.
func (f *Flow) Entitle(ctx context.Context, report *CheckReport) error {
	if len(report.MissingPlans) == 0 {
		f.report(Event{Step: StepEntitle, Kind: EventSkipped, Message: "Entitlements already in place"})
		return nil
	}
	f.report(Event{Step: StepEntitle, Kind: EventStarted, Message: "Assigning it-rt plans " + strings.Join(report.MissingPlans, " and ") + " to " + report.Subaccount.Name})
	// The assignments are independent: send them together.
	errs := make([]error, len(report.MissingPlans))
	var wg sync.WaitGroup
	for i, plan := range report.MissingPlans {
		ps := report.planStatus(plan)
		if ps.State == "PROCESSING" || ps.State == "STARTED" {
			continue // an earlier run's assignment is still running: wait for it below
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.assign(ctx, report, ps)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return f.fail(StepEntitle, err)
		}
	}
	if err := f.waitEntitlements(ctx, report, report.MissingPlans); err != nil {
		return f.fail(StepEntitle, err)
	}
	report.MissingPlans = nil
	f.recordEntitlements(report)
	f.report(Event{Step: StepEntitle, Kind: EventDone, Message: "it-rt plans entitled to " + report.Subaccount.Name})
	return nil
}

// assign assigns one plan: enable or amount 1, decided by its category.
func (f *Flow) assign(ctx context.Context, report *CheckReport, ps PlanStatus) error {
	amount := 0 // enable-style (ELASTIC_SERVICE, ...): no quota to give
	if !cliserver.EnableStyle(ps.Category, 1) {
		amount = 1 // numeric quota (SERVICE, ...): one instance is all cpikey needs
	}
	err := f.btp(ctx, func(c *cliserver.Client) error {
		_, err := c.AssignEntitlement(ctx, cliserver.AssignRequest{SubaccountID: report.Subaccount.ID, Service: itrt.Service,
			Plan: ps.Plan, Category: ps.Category, Amount: amount, PlanUniqueID: ps.UniqueID})
		return err
	})
	if err != nil && cliserver.IsForbidden(err) {
		err = fmt.Errorf("assigning it-rt/%s to %s was refused: you need the Global Account Administrator role collection "+
			"(cockpit: global account > Security > Users). Ask an administrator to assign it to you, or to entitle "+
			"it-rt plans integration-flow and api to this subaccount, then rerun cpikey: %w", ps.Plan, report.Subaccount.Name, err)
	}
	return err
}

// recordEntitlements remembers how each entitled plan is assigned, for the
// Result: enabled, or the amount (1 when cpikey assigned it, as assign does).
func (f *Flow) recordEntitlements(r *CheckReport) {
	var out []PlanEntitlement
	for _, ps := range r.Plans {
		if !ps.Entitled {
			continue
		}
		e := PlanEntitlement{Plan: ps.Plan, Category: ps.Category}
		if !cliserver.EnableStyle(ps.Category, 1) {
			e.Amount = max(int(ps.AssignedAmount), 1)
		}
		out = append(out, e)
	}
	f.mu.Lock()
	f.ents[r.Subaccount.ID] = out
	f.mu.Unlock()
}

// Entitlements returns the entitled it-rt plans of a subaccount as the last
// check (and entitling) found them; nil when it was not checked.
func (f *Flow) Entitlements(subaccountID string) []PlanEntitlement {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ents[subaccountID])
}

// waitEntitlements polls the entitlement listing until every plan's
// assignment is OK. One listing shows all plans, so one poll serves them
// all; it runs at the same pace as job polls (about one a second for the
// first minute), so an assignment is noticed within about a second.
func (f *Flow) waitEntitlements(ctx context.Context, report *CheckReport, plans []string) error {
	what := "Entitlement it-rt/" + strings.Join(plans, " and it-rt/")
	return f.poll(ctx, StepEntitle, what, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		var ents *cliserver.Entitlements
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			ents, err = c.ListEntitlements(ctx, "", report.Subaccount.ID, report.DirectoryID, itrt.Service)
			return err
		})
		if err != nil {
			if cliserver.IsRateLimited(err) || cliserver.IsLocked(err) {
				return pollResult{State: "PROCESSING"}, nil
			}
			return pollResult{}, err
		}
		state := ""
		for _, plan := range plans {
			ep := ents.Plan(itrt.Service, plan)
			switch {
			case ep == nil || !ep.Assigned:
				state = "STARTED"
				continue
			case ep.State == "OK":
				for i := range report.Plans {
					if report.Plans[i].Plan == plan {
						report.Plans[i].Entitled, report.Plans[i].State = true, "OK"
					}
				}
				continue
			case ep.State == "PROCESSING_FAILED":
				return pollResult{}, fmt.Errorf("assigning it-rt/%s failed: %s (check the global account's quota in the cockpit: Entitlements, then rerun)", plan, ep.StateMessage)
			}
			state = ep.State
		}
		if state == "" {
			return pollResult{Done: true}, nil
		}
		return pollResult{State: state}, nil
	})
}
