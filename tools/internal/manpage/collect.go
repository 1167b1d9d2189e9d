package manpage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// maxDepth bounds how deep Collect follows commands that list commands
// ("cpikey completion" -> "cpikey completion bash").
const maxDepth = 3

// Collect runs `BIN --help`, then `BIN COMMAND --help` for every command that
// help lists (and, for commands that list commands of their own, theirs),
// and returns the texts. The program runs with a throwaway HOME, no colour
// and no terminal, so the help is plain text and nothing of the caller's is
// read.
func Collect(ctx context.Context, bin, name string) (Help, []Help, error) {
	home, err := os.MkdirTemp("", "manpage-home-")
	if err != nil {
		return Help{}, nil, err
	}
	defer os.RemoveAll(home)
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"PATH=" + os.Getenv("PATH"),
		"NO_COLOR=1",
		"TERM=dumb",
		"LANG=C.UTF-8",
		"COLUMNS=80",
	}

	root, err := help(ctx, bin, env, []string{name})
	if err != nil {
		return Help{}, nil, err
	}
	var cmds []Help
	var walk func(parent Help, depth int) error
	walk = func(parent Help, depth int) error {
		if depth > maxDepth {
			return nil
		}
		for _, c := range Commands(parent.Text) {
			h, err := help(ctx, bin, env, append(append([]string{}, parent.Path...), c))
			if err != nil {
				return err
			}
			cmds = append(cmds, h)
			if err := walk(h, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 1); err != nil {
		return Help{}, nil, err
	}
	return root, cmds, nil
}

// help runs `bin ARGS... --help` (path[0] is the program's name, not an
// argument). The flag package prints help on stderr, cobra on stdout: both
// are taken.
func help(ctx context.Context, bin string, env, path []string) (Help, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := append(append([]string{}, path[1:]...), "--help")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	text := stdout.String() + stderr.String()
	shown := strings.Join(path, " ") + " --help"
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return Help{}, fmt.Errorf("%s exited %d: %s", shown, exit.ExitCode(), firstLines(text, 5))
	case err != nil:
		return Help{}, fmt.Errorf("%s: %w", shown, err)
	case strings.TrimSpace(text) == "":
		return Help{}, fmt.Errorf("%s printed nothing", shown)
	}
	return Help{Path: path, Text: text}, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " / ")
}
