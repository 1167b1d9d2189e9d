package ui

import "github.com/charmbracelet/bubbles/key"

// keyMap is the one key map of the wizard. Screens pick the bindings they
// use for the help bar; the root handles Quit and Help for all of them.
type keyMap struct {
	Quit  key.Binding
	Help  key.Binding
	Back  key.Binding
	Enter key.Binding
	Up    key.Binding
	Down  key.Binding
	Next  key.Binding // next field
	Prev  key.Binding // previous field
	Page  key.Binding // page up/down (help only; PgUp/PgDn below)
	PgUp  key.Binding
	PgDn  key.Binding
	Home  key.Binding
	End   key.Binding

	Toggle key.Binding // space: tick a role
	Filter key.Binding
	Retry  key.Binding

	// Progress screen, when the instance's roles differ.
	UpdateRoles key.Binding
	AcceptRoles key.Binding

	// Reveal screen.
	CopyID       key.Binding
	CopySecret   key.Binding
	CopyTokenURL key.Binding
	CopyURL      key.Binding
	CopyJSON     key.Binding
	ShowSecret   key.Binding
	SaveKeychain key.Binding
	Export       key.Binding // opens the export chooser
	TryCall      key.Binding // opens the inline call
	ExportFormat []key.Binding
	Done         key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Quit:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:  key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Back:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Enter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Up:    key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		Down:  key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),
		Next:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		Page:  key.NewBinding(key.WithKeys("pgup", "pgdown"), key.WithHelp("pgup/pgdn", "page")),
		PgUp:  key.NewBinding(key.WithKeys("pgup")),
		PgDn:  key.NewBinding(key.WithKeys("pgdown")),
		Home:  key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first")),
		End:   key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last")),

		Toggle: key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "tick/untick")),
		Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Retry:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),

		UpdateRoles: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "update the roles")),
		AcceptRoles: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "keep the roles")),

		CopyID:       key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "copy clientid")),
		CopySecret:   key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "copy secret")),
		CopyTokenURL: key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "copy tokenurl")),
		CopyURL:      key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "copy url")),
		CopyJSON:     key.NewBinding(key.WithKeys("j"), key.WithHelp("j", "copy key as JSON")),
		ShowSecret:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "show/hide secret")),
		SaveKeychain: key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "retry keychain")),
		Export:       key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export to a file")),
		TryCall:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "try a call")),
		// In the export chooser, in the order of profile.Formats.
		ExportFormat: []key.Binding{
			key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "Postman")),
			key.NewBinding(key.WithKeys("e"), key.WithHelp("e", ".env")),
			key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "curl")),
			key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "Terraform")),
		},
		Done: key.NewBinding(key.WithKeys("q", "enter"), key.WithHelp("q", "done")),
	}
}

// asciiHelp replaces arrows in the help text for the ASCII glyph set.
func (k *keyMap) asciiHelp() {
	k.Up.SetHelp("up", "up")
	k.Down.SetHelp("down", "down")
}

// helpKeys adapts a screen's bindings to help.KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
