package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// defaultCLIServerURL is SAP's global BTP CLI server.
const defaultCLIServerURL = "https://cli.btp.cloud.sap"

// factory is the one wiring point (in the manner of gh's cmdutil.Factory):
// every command takes the server URL, HTTP client, keyring, profile store,
// flow and directories from here, built once and only when asked for.
type factory struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	// Set from the global flags before a command runs.
	demo       bool
	trace      io.Writer // --debug: where the redacted HTTP trace goes (nil: none)
	noKeychain bool

	once       sync.Once
	dirs       configdir.Dirs
	dirsErr    error
	demoServer *sim.Server
	httpClient *http.Client
	kc         steps.Keyring
	reporter   *headless.TextReporter // the headless progress printer, once a flow has one
	signalled  atomic.Bool            // Ctrl+C or SIGTERM arrived
}

func newFactory(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *factory {
	return &factory{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

// Dirs are cpikey's directories: the demo namespace under --demo.
func (f *factory) Dirs() (configdir.Dirs, error) {
	f.once.Do(func() {
		f.dirs, f.dirsErr = configdir.Default()
		if f.dirsErr == nil && f.demo {
			f.dirs = f.dirs.Demo()
		}
	})
	return f.dirs, f.dirsErr
}

// ServerURL is the BTP CLI server: the demo simulator's under --demo
// (started on first use), else BTP_CLI_SERVER_URL or SAP's.
func (f *factory) ServerURL() (string, error) {
	if f.demo {
		s, err := f.DemoServer()
		if err != nil {
			return "", err
		}
		return s.CLIServerURL(), nil
	}
	if u := f.getenv("BTP_CLI_SERVER_URL"); u != "" {
		return u, nil
	}
	return defaultCLIServerURL, nil
}

// DemoServer starts the embedded simulator from the saved demo state.
func (f *factory) DemoServer() (*sim.Server, error) {
	if f.demoServer != nil {
		return f.demoServer, nil
	}
	dirs, err := f.Dirs()
	if err != nil {
		return nil, err
	}
	s, err := startDemo(dirs)
	if err != nil {
		return nil, fmt.Errorf("cannot start the demo simulator: %w", err)
	}
	f.demoServer = s
	return s, nil
}

// KeychainService is where secrets go: the demo keeps its own service, so
// a demo key can never replace (or be taken for) a real one.
func (f *factory) KeychainService() string {
	if f.demo {
		return demoKeychainService
	}
	return steps.KeychainService
}

// HTTPClient is the one HTTP client: https-only policy, proxy, limits, and
// the redacted trace under --debug.
func (f *factory) HTTPClient() *http.Client {
	if f.httpClient == nil {
		transport.UserAgent = "cpikey/" + version
		o := transport.Options{Trace: f.trace}
		if f.demo {
			// Only --demo trusts the simulator's CA (its certificate token
			// host speaks TLS); nothing else ever does.
			if s, err := f.DemoServer(); err == nil {
				o.RootCAs = s.CACertPool()
			}
		}
		f.httpClient = transport.NewHTTPClient(o)
	}
	return f.httpClient
}

// Keyring is the OS keychain, or nil with --no-keychain.
func (f *factory) Keyring() steps.Keyring {
	if f.noKeychain {
		return nil
	}
	if f.kc == nil {
		f.kc = newKeyring(f.getenv)
	}
	return f.kc
}

// newKeyring opens the OS keychain; tests wrap it to see every call.
var newKeyring = func(getenv func(string) string) steps.Keyring {
	return keychain.New(keychain.Options{Getenv: getenv})
}

// Store is the profile store of the current namespace.
func (f *factory) Store() (*profiles.Store, error) {
	dirs, err := f.Dirs()
	if err != nil {
		return nil, err
	}
	return profiles.Open(dirs.Config)
}

// Manager runs the profile commands; notes go to stderr. Under --demo it
// starts the simulator and points the demo profiles at it.
func (f *factory) Manager() (*profiles.Manager, error) {
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	if f.demo {
		s, err := f.DemoServer()
		if err != nil {
			return nil, err
		}
		if err := rebaseDemoProfiles(store, s); err != nil {
			return nil, fmt.Errorf("demo profiles: %w", err)
		}
	}
	kc := f.Keyring()
	return &profiles.Manager{Store: store, Keyring: kc, HTTPClient: f.HTTPClient(), Notes: f.stderr, Command: f.command()}, nil
}

// Flow builds the setup flow against the current server; the caller adds
// the front end's reporter and passcode prompt.
func (f *factory) Flow(cfg steps.Config) (*steps.Flow, error) {
	url, err := f.ServerURL()
	if err != nil {
		return nil, err
	}
	cfg.CLIServerURL, cfg.HTTPClient, cfg.Keyring = url, f.HTTPClient(), f.Keyring()
	cfg.KeychainService = f.KeychainService()
	if f.demo {
		cfg.NoBTPSession = true // the btp CLI's session is for real SAP BTP
	} else {
		// The btp CLI's own variable for where its config.json lives.
		cfg.BTPConfigPath = f.getenv("BTP_CLIENTCONFIG")
	}
	if cfg.Reporter == nil {
		f.reporter = headless.NewTextReporter(f.stderr)
		cfg.Reporter = f.reporter
	}
	if cfg.CFPasscode == nil {
		cfg.CFPasscode = passcodePrompt(f.stdin, f.stderr)
	}
	return steps.New(cfg), nil
}

// RememberLogin saves the global account a flow logged in to, so the next
// wizard pre-fills it (a convenience: failures are ignored).
func (f *factory) RememberLogin(flow *steps.Flow) {
	if flow == nil || flow.Account() == nil {
		return
	}
	if dirs, err := f.Dirs(); err == nil {
		dirs.RememberGlobalAccount(flow.Account().GlobalAccountSubdomain) //nolint:errcheck // convenience
	}
}

// command is how the user runs cpikey in this namespace, for hints.
func (f *factory) command() string {
	if f.demo {
		return "cpikey --demo"
	}
	return "cpikey"
}

// Close stops what the factory started.
func (f *factory) Close() {
	if f.demoServer != nil {
		f.demoServer.Close()
	}
}

// signalContext is the command's context, cancelled by Ctrl+C or SIGTERM
// (which interrupted then reports).
func (f *factory) signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			f.signalled.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}

// interrupted reports a command stopped by Ctrl+C or SIGTERM.
func (f *factory) interrupted() bool { return f.signalled.Load() }

// pending says what SAP is still working on after an interruption of a
// headless flow ("" when nothing is known to run).
func (f *factory) pending() string {
	if f.reporter == nil {
		return ""
	}
	return f.reporter.Pending()
}
