package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cpikey/cpikey/adapters/btpsession"
	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
)

// Flow is one consultant's session: logged-in clients and what was learnt.
// Its methods may be called from several goroutines (the wizard runs them in
// tea.Cmds).
type Flow struct {
	cfg Config

	mu      sync.Mutex
	cli     *cliserver.Client
	account *Account
	// login keeps the user/password in memory only, for Cloud Foundry's UAA
	// and for logging in again when the BTP session expires.
	login    LoginInput
	existing *btpsession.Found
	ga       *cliserver.GlobalAccount
	cfs      map[string]*cf.Client // by API endpoint
	envs     map[string]*CFEnvironment
	ents     map[string][]PlanEntitlement // by subaccount ID
	// In-flight and finished reads shared between goroutines, so that a
	// read started early (while the user looks at the check screen, or
	// while entitlements are listed) is not repeated by the step that
	// needs it: Cloud Foundry logins by API endpoint, spaces by org GUID
	// and marketplace plans by plan and space.
	cfLogins map[string]*call[*cf.Client]
	spaces   map[string]*call[[]cf.Space]
	plans    map[string]*cf.Plan
}

// New returns a flow; nothing is contacted until a login.
func New(cfg Config) *Flow {
	return &Flow{cfg: cfg, cfs: map[string]*cf.Client{}, envs: map[string]*CFEnvironment{},
		ents:     map[string][]PlanEntitlement{},
		cfLogins: map[string]*call[*cf.Client]{}, spaces: map[string]*call[[]cf.Space]{}, plans: map[string]*cf.Plan{}}
}

// call is one read that several goroutines may wait for.
type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newCall[T any]() *call[T] { return &call[T]{done: make(chan struct{})} }

func (c *call[T]) finish(v T, err error) {
	c.val, c.err = v, err
	close(c.done)
}

// wait returns the call's result, or ctx's error if ctx ends first.
func (c *call[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// cancelled reports an error that says only that the caller gave up; a
// waiter whose own context is alive runs the read again itself.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (f *Flow) newCLI(serverURL string) (*cliserver.Client, error) {
	c, err := cliserver.New(serverURL, f.cfg.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("BTP CLI server URL: %w (set BTP_CLI_SERVER_URL to an https:// URL)", err)
	}
	c.Retry = f.cfg.Retry
	return c, nil
}

// Login logs in to the BTP CLI server with user/password.
func (f *Flow) Login(ctx context.Context, in LoginInput) (*Account, error) {
	f.report(Event{Step: StepLogin, Kind: EventStarted, Message: fmt.Sprintf("Logging in to global account %s as %s", in.GlobalAccount, in.User)})
	if in.GlobalAccount == "" {
		return nil, f.fail(StepLogin, usagef("the global account subdomain is required (%s)", cliserver.SubdomainWhere))
	}
	cli, err := f.newCLI(f.cfg.CLIServerURL)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	sess, err := cli.Login(ctx, cliserver.LoginRequest{Subdomain: in.GlobalAccount, User: in.User, Password: in.Password, CustomIdP: in.IdP})
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	f.mu.Lock()
	f.cli, f.login, f.existing = cli, in, nil
	f.mu.Unlock()
	return f.afterLogin(ctx, sess)
}

// FindExistingSession looks for a btp CLI session on this machine.
func (f *Flow) FindExistingSession() (*ExistingSession, bool) {
	if f.cfg.NoBTPSession {
		return nil, false
	}
	cs, err := btpsession.Find(f.cfg.BTPConfigPath)
	if err != nil || cs == nil {
		return nil, false
	}
	f.mu.Lock()
	f.existing = cs
	f.mu.Unlock()
	return &ExistingSession{GlobalAccount: cs.Subdomain, User: cmp.Or(cs.Mail, cs.User), ServerURL: cs.ServerURL}, true
}

// UseExistingSession logs in with the btp CLI session found by
// FindExistingSession.
func (f *Flow) UseExistingSession(ctx context.Context) (*Account, error) {
	f.mu.Lock()
	cs := f.existing
	f.mu.Unlock()
	if cs == nil {
		if _, ok := f.FindExistingSession(); !ok {
			return nil, f.fail(StepLogin, errors.New("no btp CLI session found on this machine: log in with user/password or SSO instead (or run `btp login` first)"))
		}
		f.mu.Lock()
		cs = f.existing
		f.mu.Unlock()
	}
	f.report(Event{Step: StepLogin, Kind: EventStarted, Message: "Using the btp CLI session of " + cmp.Or(cs.Mail, cs.User)})
	server := cs.ServerURL
	if server == "" {
		server = f.cfg.CLIServerURL
	}
	cli, err := f.newCLI(server)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	sess, err := cs.Use(cli, "")
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	f.mu.Lock()
	f.cli = cli
	f.login = LoginInput{GlobalAccount: sess.Subdomain, User: cmp.Or(sess.Mail, sess.User), IdP: sess.CustomIdP}
	f.mu.Unlock()
	acc, err := f.afterLogin(ctx, sess)
	if err != nil && cliserver.IsUnauthorized(err) {
		return nil, fmt.Errorf("the btp CLI session has expired: run `btp login` again, or log in here with user/password or SSO: %w", err)
	}
	return acc, err
}

// StartSSO starts a browser login; the caller opens (and always prints) URL.
func (f *Flow) StartSSO(ctx context.Context, globalAccount, idp string) (*SSOLogin, error) {
	if globalAccount == "" {
		return nil, f.fail(StepLogin, usagef("the global account subdomain is required (%s)", cliserver.SubdomainWhere))
	}
	cli, err := f.newCLI(f.cfg.CLIServerURL)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	bl, err := cli.StartBrowserLogin(ctx, idp)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	f.report(Event{Step: StepLogin, Kind: EventStarted, Message: "Waiting for the browser login"})
	return &SSOLogin{URL: bl.URL, cli: cli, bl: bl, globalAccount: globalAccount, idp: idp}, nil
}

// WaitSSO waits until the browser login completes.
func (f *Flow) WaitSSO(ctx context.Context, l *SSOLogin) (*Account, error) {
	sess, err := l.cli.WaitBrowserLogin(ctx, l.bl, l.globalAccount)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	f.mu.Lock()
	f.cli = l.cli
	f.login = LoginInput{GlobalAccount: l.globalAccount, User: cmp.Or(sess.Mail, sess.User), IdP: l.idp}
	f.existing = nil
	f.mu.Unlock()
	return f.afterLogin(ctx, sess)
}

// afterLogin reads the global account with its hierarchy (names, and the
// directory paths the subaccount picker shows).
func (f *Flow) afterLogin(ctx context.Context, sess *cliserver.Session) (*Account, error) {
	cli := f.client()
	ga, err := cli.GetGlobalAccount(ctx, "", true)
	if err != nil {
		return nil, f.fail(StepLogin, err)
	}
	acc := &Account{User: cmp.Or(sess.Mail, sess.User), GlobalAccountID: ga.GUID,
		GlobalAccountName: ga.DisplayName, GlobalAccountSubdomain: cmp.Or(ga.Subdomain, sess.Subdomain)}
	f.mu.Lock()
	f.ga, f.account = ga, acc
	f.mu.Unlock()
	f.report(Event{Step: StepLogin, Kind: EventDone, Message: fmt.Sprintf("Logged in as %s to %s", acc.User, acc.GlobalAccountName)})
	return acc, nil
}

func (f *Flow) client() *cliserver.Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cli
}

// btp runs op with the BTP CLI client. When the session expired and the
// password is known, it logs in again once and retries (sessions last hours,
// provisioning can outlast them).
func (f *Flow) btp(ctx context.Context, op func(*cliserver.Client) error) error {
	cli := f.client()
	if cli == nil {
		return errors.New("not logged in to SAP BTP: log in first")
	}
	err := op(cli)
	if err == nil || !cliserver.IsUnauthorized(err) {
		return err
	}
	f.mu.Lock()
	in := f.login
	f.mu.Unlock()
	if in.Password == "" {
		return fmt.Errorf("your BTP session expired: log in again (rerun cpikey; what was already created is reused): %w", err)
	}
	if _, lerr := cli.Login(ctx, cliserver.LoginRequest{Subdomain: in.GlobalAccount, User: in.User, Password: in.Password, CustomIdP: in.IdP}); lerr != nil {
		return fmt.Errorf("your BTP session expired and logging in again failed: %w", lerr)
	}
	return op(cli)
}

// cfClient returns a logged-in Cloud Foundry client for the API endpoint.
// Concurrent callers share one login.
func (f *Flow) cfClient(ctx context.Context, api string) (*cf.Client, error) {
	for {
		f.mu.Lock()
		if c := f.cfs[api]; c != nil && c.LoggedIn() {
			f.mu.Unlock()
			return c, nil
		}
		if l := f.cfLogins[api]; l != nil {
			f.mu.Unlock()
			c, err := l.wait(ctx)
			if err != nil && cancelled(err) && ctx.Err() == nil {
				continue // the goroutine that logged in gave up; we do not
			}
			return c, err
		}
		l := newCall[*cf.Client]()
		f.cfLogins[api] = l
		in := f.login
		f.mu.Unlock()
		c, err := f.cfLogin(ctx, api, in)
		f.mu.Lock()
		delete(f.cfLogins, api)
		if err == nil {
			f.cfs[api] = c
		}
		f.mu.Unlock()
		l.finish(c, err)
		return c, err
	}
}

// cfLogin logs in to Cloud Foundry with the BTP password, or with a
// one-time passcode when no password is known.
func (f *Flow) cfLogin(ctx context.Context, api string, in LoginInput) (*cf.Client, error) {
	c, err := cf.New(api, f.cfg.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("Cloud Foundry API endpoint from the subaccount's environment: %w", err)
	}
	c.Retry = f.cfg.Retry
	switch {
	case in.Password != "":
		err = c.LoginPassword(ctx, in.User, in.Password, in.IdP)
	case f.cfg.CFPasscode != nil:
		var p *cf.Prompts
		if p, err = c.Prompts(ctx); err == nil {
			var code string
			if code, err = f.cfg.CFPasscode(ctx, p.PasscodeURL); err == nil {
				err = c.LoginPasscode(ctx, strings.TrimSpace(code))
			}
		}
	default:
		err = errors.New("Cloud Foundry needs its own login and no password is known (SSO or btp CLI session): " +
			"set BTP_USERNAME/BTP_PASSWORD, or use --runtime other (Service Manager), which needs no Cloud Foundry login")
	}
	if err != nil {
		return nil, fmt.Errorf("log in to Cloud Foundry at %s: %w", api, err)
	}
	return c, nil
}

// canLoginToCFQuietly reports whether a Cloud Foundry login for api needs no
// prompt (already logged in, or the password is known), so it may start in
// the background before anyone asks for it.
func (f *Flow) canLoginToCFQuietly(api string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.cfs[api]; c != nil && c.LoggedIn() {
		return true
	}
	return f.login.Password != ""
}

// prefetchSpaces starts logging in to Cloud Foundry and listing the spaces
// of env's org in the background, when that needs no prompt. One listing
// serves the check's space lookup, the target's space and the wizard's space
// picker. A listing already under way is joined, a finished one replaced (a
// new check sees spaces created meanwhile).
func (f *Flow) prefetchSpaces(ctx context.Context, env *CFEnvironment) {
	if env == nil || env.OrgID == "" || !f.canLoginToCFQuietly(env.APIURL) {
		return
	}
	f.mu.Lock()
	if l := f.spaces[env.OrgID]; l != nil {
		select {
		case <-l.done:
		default:
			f.mu.Unlock()
			return // under way
		}
	}
	l := newCall[[]cf.Space]()
	f.spaces[env.OrgID] = l
	f.mu.Unlock()
	go f.listSpaces(ctx, l, env.APIURL, env.OrgID)
}

func (f *Flow) listSpaces(ctx context.Context, l *call[[]cf.Space], api, orgID string) {
	c, err := f.cfClient(ctx, api)
	var spaces []cf.Space
	if err == nil {
		spaces, err = c.ListSpaces(ctx, orgID)
	}
	if err != nil {
		f.mu.Lock()
		if f.spaces[orgID] == l {
			delete(f.spaces, orgID) // failures are not kept: the next caller reads again
		}
		f.mu.Unlock()
	}
	l.finish(spaces, err)
}

// orgSpaces returns the spaces of an org, from a listing started earlier
// (prefetchSpaces) or finished earlier in this session, or listed now.
func (f *Flow) orgSpaces(ctx context.Context, api, orgID string) ([]cf.Space, error) {
	for {
		f.mu.Lock()
		l := f.spaces[orgID]
		if l == nil {
			l = newCall[[]cf.Space]()
			f.spaces[orgID] = l
			f.mu.Unlock()
			f.listSpaces(ctx, l, api, orgID)
		} else {
			f.mu.Unlock()
		}
		spaces, err := l.wait(ctx)
		if err != nil && cancelled(err) && ctx.Err() == nil {
			continue // started by a caller that gave up: read again
		}
		return spaces, err
	}
}

// spaceByName finds a space of an org by name (Cloud Foundry matches space
// names case-insensitively) in the org's listing; ok is false when the
// listing has no such space.
func (f *Flow) spaceByName(ctx context.Context, api, orgID, name string) (space cf.Space, ok bool, err error) {
	spaces, err := f.orgSpaces(ctx, api, orgID)
	if err != nil {
		return cf.Space{}, false, err
	}
	for _, s := range spaces {
		if strings.EqualFold(s.Name, name) {
			return s, true, nil
		}
	}
	return cf.Space{}, false, nil
}

// fail reports a failed step and returns err unchanged.
func (f *Flow) fail(step Step, err error) error {
	f.report(Event{Step: step, Kind: EventFailed, Message: err.Error(), Err: err, Fatal: true})
	return err
}

// timeout returns the provisioning timeout.
func (f *Flow) timeout() time.Duration {
	if f.cfg.ProvisionTimeout > 0 {
		return f.cfg.ProvisionTimeout
	}
	return 15 * time.Minute
}
