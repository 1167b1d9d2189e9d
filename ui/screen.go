package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

// screen is the wizard's state: which child model is in front.
type screen int

const (
	screenLogin screen = iota
	screenSubaccount
	screenCheck
	screenEntitle
	screenWhere
	screenForm
	screenReview
	screenProgress
	screenReveal
	numScreens
	// screenSuite (suite.go) is a detour after the check, only when SAP
	// Integration Suite is missing; the header counts it as the check step.
	screenSuite
)

var screenNames = [...]string{"login", "subaccount", "check", "entitle", "where", "form", "review", "progress", "reveal"}

var screenTitles = [...]string{
	"Log in to SAP BTP",
	"Choose the subaccount",
	"What exists, what is missing",
	"Assign entitlements",
	"Where the instance goes",
	"Instance and key",
	"Review",
	"Creating",
	"Your OAuth client",
}

// String names the screen (logs, tests, the exit message).
func (s screen) String() string {
	if s == screenSuite {
		return "integration-suite"
	}
	if s < 0 || s >= numScreens {
		return "unknown"
	}
	return screenNames[s]
}

func (s screen) title() string {
	if s == screenSuite {
		return "SAP Integration Suite"
	}
	if s < 0 || s >= numScreens {
		return ""
	}
	return screenTitles[s]
}

// screenModel is one child of the root. update returns a transition when
// the screen is finished (or wants to go back); the root acts on it.
type screenModel interface {
	id() screen
	// init starts the screen's first work when it is opened.
	init() tea.Cmd
	update(msg tea.Msg) (tea.Cmd, transition)
	view() string
	setSize(width, height int)
	help() ([]key.Binding, [][]key.Binding)
	// busy: something is running, so Esc does not go back.
	busy() bool
	// typing: a text field has the keys, so '?' is text, not help.
	typing() bool
	// pending says what SAP is still doing on its side ("" = nothing); the
	// exit message repeats it when the user quits.
	pending() string
	// resume is called when the user comes back to this screen with Esc.
	resume() tea.Cmd
}

// transition is what a finished screen asks the root to do next.
type transition interface{ isTransition() }

type (
	goBack           struct{}
	loggedIn         struct{ acct *steps.Account }
	subaccountChosen struct{ sub steps.SubaccountInfo }
	checked          struct{ report *steps.CheckReport }
	entitled         struct{ plans []string }
	whereChosen      struct {
		runtime steps.Runtime
		org     steps.Org
		space   steps.Space
	}
	formDone struct {
		plan, instance, key      string
		roles                    []string
		recreateFailed           bool
		updateRoles, acceptRoles bool // the instance's roles differ: the user's choice
		keySpec                  steps.KeySpec
	}
	runRequested struct{}
	provisioned  struct{ result *steps.Result }
	finished     struct{}
	suiteDone    struct{} // Integration Suite is ready: check again
)

func (goBack) isTransition()           {}
func (loggedIn) isTransition()         {}
func (subaccountChosen) isTransition() {}
func (checked) isTransition()          {}
func (entitled) isTransition()         {}
func (whereChosen) isTransition()      {}
func (formDone) isTransition()         {}
func (runRequested) isTransition()     {}
func (provisioned) isTransition()      {}
func (finished) isTransition()         {}
func (suiteDone) isTransition()        {}

// autoTransitionMsg lets init (which returns only a Cmd) finish a screen
// whose questions flags answered completely. from guards against a screen
// the user already left.
type autoTransitionMsg struct {
	from screenModel
	t    transition
}

func autoTransition(from screenModel, t transition) tea.Cmd {
	return func() tea.Msg { return autoTransitionMsg{from: from, t: t} }
}
