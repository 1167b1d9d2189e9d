package clipboard

import (
	"errors"
	"strings"

	"github.com/cpikey/cpikey/adapters/childenv"
)

// commandNative is the system clipboard through the platform's tools, the
// ones github.com/atotto/clipboard uses and in the same order, but started
// here: atotto starts them with cpikey's whole environment (BTP_PASSWORD
// included), and xclip stays running as the owner of the selection.
// The text goes through standard input, never an argument.
type commandNative struct {
	goos     string
	getenv   func(string) string
	lookPath func(string) (string, error)
}

var errNoTool = errors.New("no clipboard tool found (install xclip, xsel or wl-clipboard)")

// tools returns the copy and paste commands, each with its resolved path.
func (n commandNative) tools() (copyCmd, pasteCmd []string, err error) {
	type pair struct{ copyCmd, pasteCmd []string }
	var cands []pair
	if n.goos == "darwin" {
		cands = []pair{{[]string{"pbcopy"}, []string{"pbpaste"}}}
	} else {
		if n.getenv("WAYLAND_DISPLAY") != "" {
			cands = append(cands, pair{[]string{"wl-copy"}, []string{"wl-paste", "--no-newline"}})
		}
		cands = append(cands,
			pair{[]string{"xclip", "-in", "-selection", "clipboard"}, []string{"xclip", "-out", "-selection", "clipboard"}},
			pair{[]string{"xsel", "--input", "--clipboard"}, []string{"xsel", "--output", "--clipboard"}},
			pair{[]string{"termux-clipboard-set"}, []string{"termux-clipboard-get"}},
			pair{[]string{"clip.exe"}, []string{"powershell.exe", "-NoProfile", "-Command", "Get-Clipboard"}}, // WSL
		)
	}
	for _, p := range cands {
		cp, err1 := n.lookPath(p.copyCmd[0])
		pp, err2 := n.lookPath(p.pasteCmd[0])
		if err1 == nil && err2 == nil {
			return append([]string{cp}, p.copyCmd[1:]...), append([]string{pp}, p.pasteCmd[1:]...), nil
		}
	}
	return nil, nil, errNoTool
}

func (n commandNative) WriteAll(text string) error {
	c, _, err := n.tools()
	if err != nil {
		return err
	}
	cmd := childenv.Command(c[0], c[1:]...)
	cmd.Stdin = strings.NewReader(text)
	return cmd.Run()
}

func (n commandNative) ReadAll() (string, error) {
	_, p, err := n.tools()
	if err != nil {
		return "", err
	}
	out, err := childenv.Command(p[0], p[1:]...).Output()
	return string(out), err
}
