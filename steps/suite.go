package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/itrt"
)

// SAP Integration Suite before it-rt (docs/protocol/integration-suite.md
// §4.4, §6): the subaccount must be entitled to an APPLICATION plan of
// Integration Suite and subscribed to it, and Cloud Integration must be
// activated in the Integration Suite UI (which needs the
// Integration_Provisioner role collection) before the it-rt broker
// provisions anything. Check reads what is there; SetupSuite does what the
// APIs allow; the activation is the user's, in a browser, and cpikey only
// guides and waits for it. Whether Cloud Integration is activated is
// inferred: no API says so, but the activation creates the PI_* role
// collections, and the messages say that this is what was checked.

// StepSuite is the Integration Suite prerequisite in progress events.
const StepSuite Step = "integration-suite"

// SuiteReport is what Check learnt about Integration Suite in a subaccount.
// Its methods accept a nil report (nothing known: nothing to do).
type SuiteReport struct {
	// Service is the Integration Suite service the global account owns:
	// integrationsuite, integrationsuite-trial, or "" for neither.
	Service string
	// Plans are the APPLICATION plans the global account owns, in the
	// order cpikey prefers them (the first is the default).
	Plans []SuitePlan
	// Entitled is the plan assigned to the subaccount ("" when none) and
	// EntitleState its assignment's state (OK, PROCESSING, ...).
	Entitled, EntitleState string

	// From accounts/subscription?list; SubscriptionsErr says why it could
	// not be read.
	AppName          string // technical application name, read at run time
	SubscribedPlan   string
	State            string // NOT_SUBSCRIBED, IN_PROCESS, SUBSCRIBED, SUBSCRIBE_FAILED; "" when not listed
	Error            string // subscriptionError.errorMessage of a failed subscription
	URL              string // subscriptionUrl: the Integration Suite home page
	SubscriptionsErr error

	// From security/role-collection?list; RolesErr says why it could not
	// be read.
	ProvisionerExists bool
	PI                []string // PI_* role collections that exist
	RolesErr          error
	// The user's Integration_Provisioner assignment is read only while
	// Cloud Integration does not look activated (afterwards the key does
	// not need it): ProvisionerRead says whether it was.
	ProvisionerRead    bool
	UserHasProvisioner bool
	ProvisionerErr     error

	// User and Origin are who cpikey assigns role collections to.
	User, Origin string
}

// SuitePlan is an Integration Suite plan the global account can assign.
type SuitePlan struct {
	Name, Category, UniqueID string
}

// Known reports whether the subscription and the role collections could
// be read, i.e. whether the other facts mean anything.
func (s *SuiteReport) Known() bool {
	return s != nil && s.SubscriptionsErr == nil && s.RolesErr == nil
}

// IsEntitled: an Integration Suite plan is assigned (a listed application
// entry says so too: only entitled applications are listed).
func (s *SuiteReport) IsEntitled() bool {
	return s != nil && ((s.Entitled != "" && s.EntitleState == "OK") || s.State != "")
}

// Subscribed reports a finished subscription.
func (s *SuiteReport) Subscribed() bool {
	return s != nil && s.State == itrt.SubscriptionSubscribed
}

// Activated is the inference that Cloud Integration is active: its PI_*
// role collections exist (integration-suite.md §4.4 D).
func (s *SuiteReport) Activated() bool { return s != nil && len(s.PI) > 0 }

// NeedsSetup reports that something is known to be missing before it-rt
// can be used. Facts that could not be read never block on their own: the
// it-rt broker has the last word.
func (s *SuiteReport) NeedsSetup() bool {
	if s == nil {
		return false
	}
	return (s.SubscriptionsErr == nil && !(s.IsEntitled() && s.Subscribed())) || (s.RolesErr == nil && !s.Activated())
}

// Blocker says why cpikey cannot set Integration Suite up at all ("" when
// it can, or when nothing is missing).
func (s *SuiteReport) Blocker() string {
	if !s.NeedsSetup() || s.IsEntitled() || len(s.Plans) > 0 || s.EntitleState != "" {
		return ""
	}
	return "the global account owns no SAP Integration Suite plan to subscribe with (service " + itrt.SuiteService + " or " +
		itrt.SuiteTrialService + ", category APPLICATION): Integration Suite must be purchased first; ask your global account " +
		"administrator or SAP account executive, then rerun cpikey"
}

// plan is the plan cpikey entitles and subscribes with: the one asked for,
// else the one already assigned, else the preferred one.
func (s *SuiteReport) plan(asked string) string {
	for _, p := range s.Plans {
		if p.Name == asked {
			return asked
		}
	}
	if s.Entitled != "" {
		return s.Entitled
	}
	if s.SubscribedPlan != "" {
		return s.SubscribedPlan
	}
	if len(s.Plans) > 0 {
		return s.Plans[0].Name
	}
	return ""
}

// PlanChoices are the plans the user may pick before entitling (empty
// when there is nothing to choose).
func (s *SuiteReport) PlanChoices() []string {
	if s == nil || s.IsEntitled() || s.Entitled != "" {
		return nil
	}
	var out []string
	for _, p := range s.Plans {
		out = append(out, p.Name)
	}
	return out
}

// SuiteAction is one thing SetupSuite will do, with who may do it.
type SuiteAction struct {
	What string // "Assign the entitlement integrationsuite/enterprise_agreement to CPI New"
	Role string // the role collection it needs
}

// Actions lists what SetupSuite would do in the subaccount with plan (see
// PlanChoices; "" picks the default), in order. The browser step is not
// among them.
func (s *SuiteReport) Actions(plan string) []SuiteAction {
	if !s.NeedsSetup() || s.Blocker() != "" {
		return nil
	}
	plan = s.plan(plan)
	var out []SuiteAction
	switch {
	case s.IsEntitled():
	case s.EntitleState == "STARTED" || s.EntitleState == "PROCESSING":
		out = append(out, SuiteAction{What: fmt.Sprintf("Wait for the entitlement %s/%s (assignment in progress)", s.Service, plan)})
	default:
		out = append(out, SuiteAction{What: fmt.Sprintf("Assign the entitlement %s/%s", s.Service, plan), Role: "Global Account Administrator"})
	}
	switch s.State {
	case itrt.SubscriptionSubscribed:
	case itrt.SubscriptionInProcess:
		out = append(out, SuiteAction{What: "Wait for the subscription to SAP Integration Suite (in progress)"})
	default:
		what := "Subscribe to SAP Integration Suite with plan " + plan
		if s.State == itrt.SubscriptionFailed {
			what += " (again: the last attempt failed)"
		}
		out = append(out, SuiteAction{What: what, Role: "Subaccount Administrator"})
	}
	if !s.Activated() && !s.UserHasProvisioner {
		out = append(out, SuiteAction{What: fmt.Sprintf("Assign %s to %s (origin %s)", itrt.RoleProvisioner, s.User, s.Origin),
			Role: "Subaccount Administrator"})
	}
	return out
}

// ActivationSteps is the browser step in words: where to go and what to
// click, and that a fresh login may be needed.
func (s *SuiteReport) ActivationSteps() []string {
	url := "the Integration Suite home page (subaccount > Instances and Subscriptions > SAP Integration Suite)"
	if s != nil && s.URL != "" {
		url = s.URL
	}
	return []string{
		"Open " + url,
		"Click " + strings.Join(itrt.Activation, " -> "),
		"If Integration Suite says you are not authorized, log out and in again: role collections take effect with a fresh login",
		"Wait until the capability shows Active; cpikey notices by itself",
	}
}

// ActivationHow says what cpikey checks to see the activation.
func ActivationHow() string {
	return "cpikey infers the activation from the role collections " + strings.Join(itrt.PIRoleCollections, ", ") +
		", which activating Cloud Integration creates (no API reports the activation itself)"
}

// items renders the report as check lines, each saying what is missing
// and who can fix it.
func (s *SuiteReport) items() []CheckItem {
	if s == nil {
		return nil
	}
	var out []CheckItem
	ent := CheckItem{OK: s.IsEntitled(), Title: "Integration Suite entitlement"}
	switch {
	case s.IsEntitled():
		ent.Detail = "assigned to the subaccount"
		if p := cmp.Or(s.Entitled, s.SubscribedPlan); p != "" {
			ent.Detail = cmp.Or(s.Service, itrt.SuiteService) + "/" + p + " assigned to the subaccount"
		}
	case s.EntitleState == "STARTED" || s.EntitleState == "PROCESSING":
		ent.Detail = "assignment of " + s.Service + "/" + s.Entitled + " in progress (" + s.EntitleState + "); cpikey waits for it"
	case len(s.Plans) == 0:
		ent.Detail = "the global account owns no Integration Suite plan to subscribe with (category APPLICATION): it must be purchased first (global account administrator, SAP account executive)"
	default:
		var names []string
		for _, p := range s.Plans {
			names = append(names, p.Name)
		}
		ent.Detail = "missing: cpikey can assign " + s.Service + "/" + s.plan("") + " (needs Global Account Administrator)"
		if len(names) > 1 {
			ent.Detail += "; the global account has plans " + strings.Join(names, ", ")
		}
	}
	out = append(out, ent)

	sub := CheckItem{OK: s.Subscribed(), Title: "Integration Suite subscription"}
	switch {
	case s.SubscriptionsErr != nil:
		sub.Detail = "could not check: " + s.SubscriptionsErr.Error()
	case s.State == itrt.SubscriptionSubscribed:
		sub.Detail = "subscribed (plan " + s.SubscribedPlan + ")"
	case s.State == itrt.SubscriptionInProcess:
		sub.Detail = "subscription in progress; cpikey waits for it"
	case strings.HasSuffix(s.State, "_FAILED"):
		sub.Detail = "the last subscription failed (" + s.State + "): " + cmp.Or(s.Error, "SAP gave no reason") +
			"; cpikey can subscribe again (needs Subaccount Administrator)"
	case !s.IsEntitled():
		sub.Detail = "not subscribed: possible once the entitlement is assigned (needs Subaccount Administrator)"
	default:
		sub.Detail = "not subscribed: cpikey can subscribe (needs Subaccount Administrator)"
	}
	out = append(out, sub)

	prov := CheckItem{Title: "Role collection " + itrt.RoleProvisioner + " for " + s.User}
	switch {
	case s.RolesErr != nil:
		prov.Detail = "could not check: " + s.RolesErr.Error()
	case s.Activated():
		prov.OK = true
		prov.Detail = "not checked: Cloud Integration already looks activated, and the key needs no user role collection"
	case !s.ProvisionerExists:
		prov.Detail = "does not exist yet: the subscription creates it; then cpikey can assign it to you (needs Subaccount Administrator)"
	case s.ProvisionerErr != nil:
		prov.Detail = "could not read its users: " + s.ProvisionerErr.Error()
	case s.UserHasProvisioner:
		prov.OK = true
		prov.Detail = "assigned to you (origin " + s.Origin + ")"
	default:
		prov.Detail = "not assigned to you (origin " + s.Origin + "): you need it to activate Cloud Integration; cpikey can assign it (needs Subaccount Administrator)"
	}
	out = append(out, prov)

	act := CheckItem{OK: s.Activated(), Title: "Cloud Integration activated (inferred)"}
	switch {
	case s.RolesErr != nil:
		act.Detail = "could not check: the role collections could not be read"
	case s.Activated():
		act.Detail = "looks activated: the role collections " + strings.Join(s.PI, ", ") + " exist, and activating Cloud Integration creates them"
	default:
		act.Detail = "looks not activated: none of the role collections " + strings.Join(itrt.PIRoleCollections, ", ") +
			" exists, and activating Cloud Integration creates them. Only a person can activate it, in the browser " +
			"(Add Capabilities -> Build Integration Scenarios -> Activate, needs Integration_Provisioner); cpikey shows the way and waits"
	}
	out = append(out, act)
	return out
}

// NotReadyError is the headless refusal without --setup-integration-suite:
// before any write, it says what is missing and what to do.
func (s *SuiteReport) NotReadyError(sub SubaccountInfo) error {
	var missing []string
	for _, it := range s.items() {
		if !it.OK {
			missing = append(missing, it.Title+": "+it.Detail)
		}
	}
	return fmt.Errorf("SAP Integration Suite is not ready in subaccount %s, so no it-rt instance can be created yet:\n  - %s\n"+
		"Rerun with --setup-integration-suite to let cpikey do what the APIs allow (entitle, subscribe, assign %s) and guide you "+
		"through the activation in the browser, or run the wizard (cpikey without --yes)", sub.Name, strings.Join(missing, "\n  - "), itrt.RoleProvisioner)
}

// --- Check's reads -------------------------------------------------------

// suiteReads are Check's two Integration Suite reads, run beside its
// others: a subaccount that is ready costs exactly these.
type suiteReads struct {
	wg       sync.WaitGroup
	subs     []cliserver.Subscription
	subsErr  error
	roles    []cliserver.RoleCollection
	rolesErr error
}

func (f *Flow) startSuiteReads(ctx context.Context, subID string) *suiteReads {
	r := &suiteReads{}
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.subsErr = f.btp(ctx, func(c *cliserver.Client) (err error) {
			r.subs, err = c.ListSubscriptions(ctx, subID)
			return err
		})
	}()
	go func() {
		defer r.wg.Done()
		r.rolesErr = f.btp(ctx, func(c *cliserver.Client) (err error) {
			r.roles, err = c.ListRoleCollections(ctx, subID)
			return err
		})
	}()
	return r
}

// suiteReport waits for the reads and builds the report; while Cloud
// Integration does not look activated it also reads who holds
// Integration_Provisioner (a third read, never on a ready subaccount).
func (f *Flow) suiteReport(ctx context.Context, sub SubaccountInfo, ents *cliserver.Entitlements, r *suiteReads) (*SuiteReport, error) {
	r.wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &SuiteReport{}
	s.User, s.Origin = f.roleUser()
	s.entitlement(ents)
	if r.subsErr != nil {
		s.SubscriptionsErr = suiteReadError("read the subscriptions", r.subsErr, "Subaccount Viewer, or a global account role")
	} else {
		s.subscription(r.subs)
	}
	if r.rolesErr != nil {
		s.RolesErr = suiteReadError("read the role collections", r.rolesErr, "Subaccount Viewer or Subaccount Administrator in this subaccount")
	} else {
		s.collections(r.roles)
	}
	if s.RolesErr == nil && !s.Activated() && s.ProvisionerExists {
		s.ProvisionerRead = true
		s.UserHasProvisioner, s.ProvisionerErr = f.holds(ctx, sub.ID, itrt.RoleProvisioner, s.User, s.Origin)
	}
	return s, nil
}

func suiteReadError(what string, err error, role string) error {
	if cliserver.IsForbidden(err) {
		return fmt.Errorf("%s was refused: it needs %s: %w", what, role, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// roleUser is who role collections are assigned to: the logged-in user
// with the origin of their identity provider ("sap.default" is how a
// subaccount knows SAP ID service users, integration-suite.md §3.2).
func (f *Flow) roleUser() (user, origin string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.account != nil {
		user = f.account.User
	}
	origin = f.login.IdP
	if origin == "" {
		origin = "sap.default"
	}
	return cmp.Or(user, f.login.User), origin
}

// entitlement takes the plans from the entitlement listing Check reads
// anyway (it keeps the Integration Suite services too).
func (s *SuiteReport) entitlement(ents *cliserver.Entitlements) {
	for _, name := range itrt.SuiteServices {
		svc := ents.Service(name)
		if svc == nil {
			continue
		}
		for _, p := range svc.Plans {
			if p.Assigned && s.Entitled == "" && p.Category == itrt.SuitePlanCategory {
				s.Service, s.Entitled, s.EntitleState = name, p.Name, p.State
			}
			if p.Owned && p.Category == itrt.SuitePlanCategory {
				if s.Service == "" {
					s.Service = name
				}
				if s.Service == name {
					s.Plans = append(s.Plans, SuitePlan{Name: p.Name, Category: p.Category, UniqueID: p.UniqueIdentifier})
				}
			}
		}
	}
	rank := func(name string) int {
		if i := slices.Index(itrt.SuitePlanPreference, name); i >= 0 {
			return i
		}
		return len(itrt.SuitePlanPreference)
	}
	slices.SortStableFunc(s.Plans, func(a, b SuitePlan) int {
		if d := rank(a.Name) - rank(b.Name); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// subscription picks the Integration Suite entry by commercialAppName
// (never by category, which other applications share, §1.2).
func (s *SuiteReport) subscription(subs []cliserver.Subscription) {
	var best *cliserver.Subscription
	for i := range subs {
		e := &subs[i]
		if !slices.Contains(itrt.SuiteServices, e.CommercialAppName) {
			continue
		}
		switch {
		case best == nil,
			best.State == itrt.SubscriptionNotSubscribed && e.State != itrt.SubscriptionNotSubscribed,
			best.State == itrt.SubscriptionNotSubscribed && e.PlanName == s.Entitled:
			best = e
		}
	}
	if best == nil {
		return
	}
	if s.Service == "" {
		s.Service = best.CommercialAppName
	}
	s.AppName, s.State, s.URL = best.AppName, best.State, best.SubscriptionURL
	if best.State != itrt.SubscriptionNotSubscribed {
		s.SubscribedPlan = best.PlanName
	}
	if s.Entitled == "" {
		s.Entitled, s.EntitleState = best.PlanName, "OK"
	}
	if best.Error != nil {
		s.Error = best.Error.Message
	}
}

func (s *SuiteReport) collections(list []cliserver.RoleCollection) {
	s.PI, s.ProvisionerExists = nil, false
	for _, rc := range list {
		switch {
		case rc.Name == itrt.RoleProvisioner:
			s.ProvisionerExists = true
		case itrt.IsPIRoleCollection(rc.Name):
			s.PI = append(s.PI, rc.Name)
		}
	}
	slices.Sort(s.PI)
}

// holds reads whether user (of origin) is assigned to a role collection.
func (f *Flow) holds(ctx context.Context, subID, collection, user, origin string) (bool, error) {
	var users []cliserver.RoleUser
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		users, err = c.RoleCollectionUsers(ctx, subID, collection)
		return err
	})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(users, func(u cliserver.RoleUser) bool {
		return (strings.EqualFold(u.Email, user) || strings.EqualFold(u.Username, user)) && sameOrigin(u.Origin, origin)
	}), nil
}

// sameOrigin compares identity provider keys; the SAP ID service has
// several names ("ldap" as sent, "sap.default" as stored).
func sameOrigin(a, b string) bool {
	norm := func(o string) string {
		switch o {
		case "", "ldap", "sap.ids", "sap.default":
			return "sap.default"
		}
		return strings.ToLower(o)
	}
	return norm(a) == norm(b)
}

// --- doing what the APIs allow --------------------------------------------

// SetupSuite does what Actions listed, in order: assigns the entitlement
// (plan: see PlanChoices, "" for the default) and waits for it, subscribes
// and waits for the subscription (SUBSCRIBE_FAILED stops with SAP's reason),
// and assigns Integration_Provisioner to the user unless they hold it. Each
// step looks first, so nothing is done twice and a rerun resumes. It works
// on a copy of s and returns it updated, also with an error: as far as it
// got, so that trying again resumes after the last step done.
func (f *Flow) SetupSuite(ctx context.Context, sub SubaccountInfo, s *SuiteReport, plan string) (*SuiteReport, error) {
	if s == nil {
		return nil, errors.New("no Integration Suite check to set up from: run the check first")
	}
	if b := s.Blocker(); b != "" {
		return nil, f.fail(StepSuite, errors.New(b))
	}
	c := *s
	c.Plans = slices.Clone(s.Plans)
	c.PI = slices.Clone(s.PI)
	s = &c
	plan = s.plan(plan)
	f.report(Event{Step: StepSuite, Kind: EventStarted, Message: "Setting up SAP Integration Suite in " + sub.Name})
	if !s.IsEntitled() {
		if err := f.entitleSuite(ctx, sub, s, plan); err != nil {
			return s, f.fail(StepSuite, err)
		}
	}
	if !s.Subscribed() {
		if err := f.subscribeSuite(ctx, sub, s); err != nil {
			return s, f.fail(StepSuite, err)
		}
	}
	if !s.Activated() && !s.UserHasProvisioner {
		if err := f.assignProvisioner(ctx, sub, s); err != nil {
			return s, f.fail(StepSuite, err)
		}
	}
	msg := "SAP Integration Suite set up in " + sub.Name
	if !s.Activated() {
		msg += "; Cloud Integration is still to be activated"
	}
	f.report(Event{Step: StepSuite, Kind: EventDone, Message: msg})
	return s, nil
}

// missing names what is known to be missing, for one-line summaries.
func (s *SuiteReport) missing() string {
	var out []string
	switch {
	case !s.IsEntitled():
		out = append(out, "not entitled")
	case s.SubscriptionsErr == nil && !s.Subscribed():
		out = append(out, "not subscribed")
	}
	if s.RolesErr == nil && !s.Activated() {
		out = append(out, "Cloud Integration looks not activated")
	}
	return strings.Join(out, ", ")
}

func (f *Flow) entitleSuite(ctx context.Context, sub SubaccountInfo, s *SuiteReport, plan string) error {
	svc := s.Service
	if s.EntitleState != "STARTED" && s.EntitleState != "PROCESSING" {
		var p SuitePlan
		for _, x := range s.Plans {
			if x.Name == plan {
				p = x
			}
		}
		f.report(Event{Step: StepSuite, Kind: EventStarted, Message: fmt.Sprintf("Assigning the entitlement %s/%s to %s", svc, plan, sub.Name)})
		err := f.btp(ctx, func(c *cliserver.Client) error {
			// APPLICATION plans are enabled, not given an amount.
			_, err := c.AssignEntitlement(ctx, cliserver.AssignRequest{SubaccountID: sub.ID, Service: svc, Plan: plan,
				Category: itrt.SuitePlanCategory, PlanUniqueID: p.UniqueID})
			return err
		})
		if err != nil && cliserver.IsForbidden(err) {
			return fmt.Errorf("assigning %s/%s to %s was refused: you need the Global Account Administrator role collection. "+
				"Ask an administrator to assign it to you, or to entitle %s/%s to this subaccount, then rerun cpikey: %w", svc, plan, sub.Name, svc, plan, err)
		}
		if err != nil {
			return err
		}
	}
	what := "Entitlement " + svc + "/" + plan
	err := f.poll(ctx, StepSuite, what, f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		var ents *cliserver.Entitlements
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			ents, err = c.ListEntitlements(ctx, "", sub.ID, f.managingDirectory(ctx, sub.ID), svc)
			return err
		})
		if err != nil {
			if cliserver.IsRateLimited(err) || cliserver.IsLocked(err) {
				return pollResult{State: "PROCESSING"}, nil
			}
			return pollResult{}, err
		}
		ep := ents.Plan(svc, plan)
		switch {
		case ep == nil || !ep.Assigned:
			return pollResult{State: "STARTED"}, nil
		case ep.State == "OK":
			return pollResult{Done: true}, nil
		case ep.State == "PROCESSING_FAILED":
			return pollResult{}, fmt.Errorf("assigning %s/%s failed: %s (check the global account's entitlements in the cockpit, then rerun)", svc, plan, ep.StateMessage)
		}
		return pollResult{State: ep.State}, nil
	})
	if err != nil {
		return err
	}
	s.Entitled, s.EntitleState = plan, "OK"
	return nil
}

// managingDirectory is the directory whose view lists the subaccount's
// entitlements ("" for the global account's).
func (f *Flow) managingDirectory(ctx context.Context, subID string) string {
	ga, err := f.globalAccount(ctx)
	if err != nil {
		return ""
	}
	if d := ga.ManagingDirectory(subID, "ENTITLEMENTS"); d != nil {
		return d.GUID
	}
	return ""
}

func (f *Flow) subscribeSuite(ctx context.Context, sub SubaccountInfo, s *SuiteReport) error {
	if s.AppName == "" {
		// Entitled just now: the application entry (and with it the
		// technical name) is listed once the entitlement is through.
		err := f.poll(ctx, StepSuite, "SAP Integration Suite in the subaccount's applications", f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
			var subs []cliserver.Subscription
			err := f.btp(ctx, func(c *cliserver.Client) (err error) {
				subs, err = c.ListSubscriptions(ctx, sub.ID)
				return err
			})
			if err != nil {
				return pollResult{}, suiteReadError("read the subscriptions", err, "Subaccount Viewer, or a global account role")
			}
			s.subscription(subs)
			if s.AppName == "" {
				return pollResult{State: "not listed yet"}, nil
			}
			return pollResult{Done: true}, nil
		})
		if err != nil {
			return err
		}
	}
	plan := s.plan("")
	if s.State != itrt.SubscriptionInProcess && s.State != itrt.SubscriptionSubscribed {
		f.report(Event{Step: StepSuite, Kind: EventStarted, Message: fmt.Sprintf("Subscribing %s to SAP Integration Suite (application %s, plan %s)", sub.Name, s.AppName, plan)})
		err := f.btp(ctx, func(c *cliserver.Client) error {
			_, err := c.Subscribe(ctx, sub.ID, s.AppName, plan)
			return err
		})
		switch {
		case err != nil && cliserver.IsForbidden(err):
			return fmt.Errorf("subscribing %s to SAP Integration Suite was refused: you need the Subaccount Administrator role collection "+
				"in this subaccount (or Global Account Administrator). Ask an administrator to assign it, or to subscribe, then rerun cpikey: %w", sub.Name, err)
		case err != nil && cliserver.BackendStatus(err) == 409:
			// Subscribed meanwhile (another run, a colleague): follow it.
		case err != nil:
			return err
		}
	}
	what := "Subscription to SAP Integration Suite"
	err := f.poll(ctx, StepSuite, what, f.timeout(), 3, func(ctx context.Context) (pollResult, error) {
		var got *cliserver.Subscription
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			got, err = c.GetSubscription(ctx, sub.ID, s.AppName, plan)
			return err
		})
		if err != nil {
			if cliserver.IsRateLimited(err) {
				return pollResult{State: itrt.SubscriptionInProcess}, nil
			}
			return pollResult{}, err
		}
		s.State, s.URL = got.State, got.SubscriptionURL
		switch {
		case got.State == itrt.SubscriptionSubscribed:
			s.SubscribedPlan = got.PlanName
			f.report(Event{Step: StepSuite, Kind: EventDone, Message: fmt.Sprintf("Subscribed %s to SAP Integration Suite (plan %s)", sub.Name, got.PlanName)})
			return pollResult{Done: true}, nil
		case strings.HasSuffix(got.State, "_FAILED"):
			reason := "SAP gave no reason"
			if got.Error != nil {
				reason = cmp.Or(got.Error.Message, got.Error.AppError)
				s.Error = reason
			}
			return pollResult{}, fmt.Errorf("subscribing %s to SAP Integration Suite failed (%s): %s. Rerun cpikey to subscribe again; "+
				"if it fails again, open an SAP support case with the component the message names (Integration Suite: LOD-HCI-PI)", sub.Name, got.State, reason)
		}
		return pollResult{State: got.State}, nil
	})
	return err
}

func (f *Flow) assignProvisioner(ctx context.Context, sub SubaccountInfo, s *SuiteReport) error {
	// The subscription creates the role collection; look at its users
	// before assigning (SAP sometimes assigns it by itself).
	var has bool
	err := f.poll(ctx, StepSuite, "Role collection "+itrt.RoleProvisioner+" (created by the subscription)", f.timeout(), 1, func(ctx context.Context) (pollResult, error) {
		var err error
		has, err = f.holds(ctx, sub.ID, itrt.RoleProvisioner, s.User, s.Origin)
		switch {
		case err != nil && cliserver.IsNotFound(err):
			return pollResult{State: "not there yet"}, nil
		case err != nil:
			return pollResult{}, suiteRoleError("read who holds "+itrt.RoleProvisioner, sub, err)
		}
		return pollResult{Done: true}, nil
	})
	if err != nil {
		return err
	}
	s.ProvisionerExists, s.ProvisionerRead = true, true
	if has {
		s.UserHasProvisioner = true
		f.report(Event{Step: StepSuite, Kind: EventReused, Message: fmt.Sprintf("%s is assigned to %s", itrt.RoleProvisioner, s.User)})
		return nil
	}
	if err := f.AssignRoles(ctx, sub, s, []string{itrt.RoleProvisioner}); err != nil {
		return err
	}
	s.UserHasProvisioner = true
	return nil
}

func suiteRoleError(what string, sub SubaccountInfo, err error) error {
	if cliserver.IsForbidden(err) {
		return fmt.Errorf("%s in %s was refused: you need the Subaccount Administrator role collection in this subaccount "+
			"(cockpit: subaccount > Security > Users). Ask a subaccount administrator to assign it to you, or to do this step, then rerun cpikey: %w", what, sub.Name, err)
	}
	return fmt.Errorf("%s in %s: %w", what, sub.Name, err)
}

// AssignRoles assigns role collections to the user of s (with their
// origin), one after the other.
func (f *Flow) AssignRoles(ctx context.Context, sub SubaccountInfo, s *SuiteReport, names []string) error {
	for _, n := range names {
		f.report(Event{Step: StepSuite, Kind: EventStarted, Message: fmt.Sprintf("Assigning the role collection %s to %s (origin %s)", n, s.User, s.Origin)})
		err := f.btp(ctx, func(c *cliserver.Client) error {
			return c.AssignRoleCollection(ctx, sub.ID, n, s.User, s.Origin)
		})
		if err != nil {
			return suiteRoleError("assigning "+n+" to "+s.User, sub, err)
		}
		f.report(Event{Step: StepSuite, Kind: EventDone, Message: fmt.Sprintf("%s assigned to %s; it takes effect with the next login to Integration Suite", n, s.User)})
	}
	return nil
}

// --- the browser step ---------------------------------------------------------

// CheckActivation reads the role collections once and returns the PI_*
// ones (none: Cloud Integration does not look activated yet).
func (f *Flow) CheckActivation(ctx context.Context, sub SubaccountInfo) ([]string, error) {
	var list []cliserver.RoleCollection
	err := f.btp(ctx, func(c *cliserver.Client) (err error) {
		list, err = c.ListRoleCollections(ctx, sub.ID)
		return err
	})
	if err != nil {
		return nil, suiteRoleError("read the role collections", sub, err)
	}
	var s SuiteReport
	s.collections(list)
	return s.PI, nil
}

// WaitActivation polls until Cloud Integration looks activated, every few
// seconds (a person is clicking), and records the PI_* collections in s.
func (f *Flow) WaitActivation(ctx context.Context, sub SubaccountInfo, s *SuiteReport) error {
	what := "Waiting for Cloud Integration to be activated (" + ActivationHow() + ")"
	return f.poll(ctx, StepSuite, what, f.timeout(), 5, func(ctx context.Context) (pollResult, error) {
		pi, err := f.CheckActivation(ctx, sub)
		if err != nil {
			return pollResult{}, err
		}
		if len(pi) == 0 {
			return pollResult{State: "not activated yet"}, nil
		}
		s.PI = pi
		f.report(Event{Step: StepSuite, Kind: EventDone, Message: "Cloud Integration looks activated: the role collections " + strings.Join(pi, ", ") + " exist"})
		return pollResult{Done: true}, nil
	})
}

// MissingConsultantRoles returns the PI_* role collections a consultant
// needs in the Integration Suite UI (itrt.ConsultantRoleCollections) that
// the user does not hold; only those that exist are considered.
func (f *Flow) MissingConsultantRoles(ctx context.Context, sub SubaccountInfo, s *SuiteReport) ([]string, error) {
	want := slices.DeleteFunc(slices.Clone(itrt.ConsultantRoleCollections), func(n string) bool { return !slices.Contains(s.PI, n) })
	held := make([]bool, len(want))
	errs := make([]error, len(want))
	var wg sync.WaitGroup
	for i, n := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held[i], errs[i] = f.holds(ctx, sub.ID, n, s.User, s.Origin)
		}()
	}
	wg.Wait()
	var missing []string
	for i, n := range want {
		if errs[i] != nil {
			return nil, suiteRoleError("read who holds "+n, sub, errs[i])
		}
		if !held[i] {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// guideActivation is the headless browser step: print (and open) the
// subscription URL with the clicks, then wait until the activation shows.
func (f *Flow) guideActivation(ctx context.Context, sub SubaccountInfo, s *SuiteReport) error {
	steps := s.ActivationSteps()
	f.report(Event{Step: StepSuite, Kind: EventStarted, Message: "Activate Cloud Integration in your browser (only a person can): " + strings.Join(steps[:3], ". ")})
	if f.cfg.OpenURL != nil && s.URL != "" {
		if err := f.cfg.OpenURL(s.URL); err != nil {
			f.report(Event{Step: StepSuite, Kind: EventStarted, Message: "Could not open a browser (" + err.Error() + "); open the URL above yourself"})
		}
	}
	f.report(Event{Step: StepSuite, Kind: EventStarted, Message: "Waiting for the activation, looking every few seconds: " + ActivationHow()})
	return f.WaitActivation(ctx, sub, s)
}

// setupSuiteHeadless is --setup-integration-suite: the API steps, the
// browser step, then the consultant's PI_* role collections (not needed
// for the key: a failure there is reported, not fatal).
func (f *Flow) setupSuiteHeadless(ctx context.Context, r *CheckReport) error {
	s, err := f.SetupSuite(ctx, r.Subaccount, r.Suite, "")
	if err != nil {
		return err
	}
	r.Suite = s
	if !s.Activated() {
		if err := f.guideActivation(ctx, r.Subaccount, s); err != nil {
			return f.fail(StepSuite, err)
		}
	}
	f.consultantRoles(ctx, r.Subaccount, s)
	return nil
}

// consultantRoles assigns the PI_* role collections the user lacks. The
// key does not need them, so a failure is reported, not fatal.
func (f *Flow) consultantRoles(ctx context.Context, sub SubaccountInfo, s *SuiteReport) {
	missing, err := f.MissingConsultantRoles(ctx, sub, s)
	if err == nil && len(missing) == 0 {
		f.report(Event{Step: StepSuite, Kind: EventReused, Message: "You hold " + strings.Join(itrt.ConsultantRoleCollections, " and ")})
		return
	}
	if err == nil {
		err = f.AssignRoles(ctx, sub, s, missing)
	}
	if err != nil {
		f.report(Event{Step: StepSuite, Kind: EventSkipped, Message: "The Cloud Integration role collections for you were not assigned (the key does not need them; " +
			"assign " + strings.Join(itrt.ConsultantRoleCollections, " and ") + " in the cockpit for the Integration Suite UI): " + err.Error()})
	}
}

// suiteConsent refuses, before any write, what cannot or may not be set
// up: a global account without Integration Suite, or a setup nobody asked
// for with --setup-integration-suite.
func (f *Flow) suiteConsent(in HeadlessInput, r *CheckReport) error {
	if b := r.Suite.Blocker(); b != "" {
		return f.fail(StepSuite, errors.New(b))
	}
	if !in.SetupSuite {
		return f.fail(StepSuite, r.Suite.NotReadyError(r.Subaccount))
	}
	return nil
}
