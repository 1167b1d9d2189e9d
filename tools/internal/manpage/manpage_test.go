package manpage

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden man pages in testdata/")

func fixture(t *testing.T, layout, name string) Help {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", layout, strings.ReplaceAll(name, " ", "_")+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return Help{Path: strings.Fields(name), Text: string(b)}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		layout, name string
		want         []string
	}{
		// Go's flag package: "Commands (note):" with two-space entries
		{"flag", "cpikey", []string{"list", "show", "token", "export", "rotate", "forget"}},
		{"flag", "cpikey list", nil},
		// cobra: "Available Commands:", and its "help" command is left out
		{"cobra", "cpikey", []string{"completion", "list"}},
		{"cobra", "cpikey completion", []string{"bash", "zsh"}},
		{"cobra", "cpikey completion bash", nil},
	}
	for _, tt := range tests {
		t.Run(tt.layout+"/"+tt.name, func(t *testing.T) {
			got := Commands(fixture(t, tt.layout, tt.name).Text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Commands() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRender_Golden(t *testing.T) {
	tests := []struct {
		layout string
		cmds   []string
	}{
		{"flag", []string{"cpikey list", "cpikey export"}},
		{"cobra", []string{"cpikey completion", "cpikey completion bash", "cpikey completion zsh", "cpikey list"}},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			var cmds []Help
			for _, c := range tt.cmds {
				cmds = append(cmds, fixture(t, tt.layout, c))
			}
			got := Render(Meta{Name: "cpikey", Version: "1.2.3", Date: "2026-12-06"}, fixture(t, tt.layout, "cpikey"), cmds)
			golden := filepath.Join("testdata", tt.layout+".1")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("page differs from %s (go test ./internal/manpage -update, then read the diff):\n%s", golden, got)
			}
			lint(t, got)
		})
	}
}

// The facts a reader of the page relies on, independent of the golden file.
func TestRender_Content(t *testing.T) {
	root := fixture(t, "flag", "cpikey")
	page := string(Render(Meta{Name: "cpikey", Version: "1.2.3", Date: "2026-12-06"}, root,
		[]Help{fixture(t, "flag", "cpikey list"), fixture(t, "flag", "cpikey export")}))
	for _, want := range []string{
		`.TH "CPIKEY" "1" "2026\-12\-06" "cpikey 1.2.3" "User Commands"`,
		"\n.SH \"NAME\"\n\\fBcpikey\\fR \\- OAuth client credentials for SAP Cloud Integration (it\\-rt), without the cockpit\n",
		"\n.SH \"SYNOPSIS\"\n.nf\n\\fBcpikey\\fR [flags]\n\\fBcpikey list\\fR [\\-\\-json]\n",
		"\\fBcpikey export\\fR [PROFILE] \\-\\-format postman|env|curl|terraform [\\-o FILE] [\\-\\-force]\n",
		"\n.SH \"EXAMPLES\"\n", "\n.SH \"COMMANDS\"\n", "\n.SH \"OPTIONS\"\n",
		"\n.SH \"ENVIRONMENT\"\n", "\n.SH \"EXIT STATUS\"\n",
		// the note of "Commands (...):" becomes a sentence
		"After a run, each key is kept as a profile; cpikey COMMAND \\-\\-help for more.\n",
		"\n.SS \"cpikey list\"\n", "\n.SS \"cpikey export\"\n",
		"\\-format FORMAT\n", // flags stay literal, hyphens escaped
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "\t") {
		t.Error("page contains a tab: tabs must be expanded before the literal blocks are printed")
	}
}

func TestRender_Escapes(t *testing.T) {
	root := Help{Path: []string{"x"}, Text: "x: a tool.\n\n.env and 'quoted' lines, C:\\path, \x1b[1mbold\x1b[0m \u2026 done\n"}
	page := string(Render(Meta{Name: "x", Version: "1", Date: "2026-01-02"}, root, nil))
	for _, want := range []string{
		"\\&.env and 'quoted' lines, C:\\epath, [1mbold[0m \\[u2026] done\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.ContainsRune(page, 0x1b) {
		t.Error("an escape character reached the page")
	}
	lint(t, []byte(page))
}

// lint runs groff's own checks where groff is installed (every warning on).
func lint(t *testing.T, page []byte) {
	t.Helper()
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Log("groff not installed: page not linted")
		return
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = bytes.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, out)
	}
}

// fakeCLI writes a program that prints the cobra fixtures for its arguments
// (cpikey completion bash --help -> cpikey_completion_bash.txt), records the
// HOME it ran with, and fails for the arguments in fail.
func fakeCLI(t *testing.T, fail string) (bin, homes string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	fixtures, err := filepath.Abs(filepath.Join("testdata", "cobra"))
	if err != nil {
		t.Fatal(err)
	}
	homes = filepath.Join(dir, "homes")
	script := fmt.Sprintf(`#!/bin/sh
echo "$HOME" >>%q
name=cpikey
for a in "$@"; do [ "$a" = --help ] || name="${name}_$a"; done
if [ "$*" = %q ]; then echo "Error: unknown command" >&2; exit 3; fi
cat %q/"$name.txt"
`, homes, fail, fixtures)
	bin = filepath.Join(dir, "cpikey")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, homes
}

func TestCollect_FollowsNestedCommands(t *testing.T) {
	bin, homes := fakeCLI(t, "")
	root, cmds, err := Collect(context.Background(), bin, "cpikey")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(root.Text, "cpikey: OAuth client credentials") {
		t.Errorf("root help = %q", root.Text)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	want := []string{"cpikey completion", "cpikey completion bash", "cpikey completion zsh", "cpikey list"}
	if !slices.Equal(names, want) {
		t.Errorf("commands = %q, want %q", names, want)
	}
	b, err := os.ReadFile(homes)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := os.UserHomeDir()
	for _, h := range strings.Fields(string(b)) {
		if h == real || h == "" {
			t.Errorf("the program ran with HOME=%q, want a throwaway directory", h)
		}
	}
}

func TestCollect_FailingHelpNamesTheCommand(t *testing.T) {
	bin, _ := fakeCLI(t, "completion zsh --help")
	_, _, err := Collect(context.Background(), bin, "cpikey")
	if err == nil {
		t.Fatal("Collect succeeded although `cpikey completion zsh --help` exited 3")
	}
	for _, want := range []string{"cpikey completion zsh --help exited 3", "unknown command"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
