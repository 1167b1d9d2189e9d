package clipboard

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCommandNative_PicksTheToolLikeAtotto(t *testing.T) {
	on := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			if slices.Contains(names, n) {
				return "/bin/" + n, nil
			}
			return "", errors.New("not found")
		}
	}
	for _, tc := range []struct {
		name      string
		goos      string
		env       []string
		path      []string
		copy, pst string
	}{
		{"macOS", "darwin", nil, []string{"pbcopy", "pbpaste"}, "/bin/pbcopy", "/bin/pbpaste"},
		{"Wayland", "linux", []string{"WAYLAND_DISPLAY", "wayland-0"}, []string{"wl-copy", "wl-paste", "xclip"}, "/bin/wl-copy", "/bin/wl-paste --no-newline"},
		{"Wayland without wl-paste", "linux", []string{"WAYLAND_DISPLAY", "wayland-0"}, []string{"wl-copy", "xclip"}, "/bin/xclip -in -selection clipboard", "/bin/xclip -out -selection clipboard"},
		{"X11 without Wayland", "linux", nil, []string{"wl-copy", "wl-paste", "xclip", "xsel"}, "/bin/xclip -in -selection clipboard", "/bin/xclip -out -selection clipboard"},
		{"xsel", "freebsd", nil, []string{"xsel"}, "/bin/xsel --input --clipboard", "/bin/xsel --output --clipboard"},
		{"WSL", "linux", nil, []string{"clip.exe", "powershell.exe"}, "/bin/clip.exe", "/bin/powershell.exe -NoProfile -Command Get-Clipboard"},
		{"nothing", "linux", nil, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := commandNative{goos: tc.goos, getenv: envOf(tc.env...), lookPath: on(tc.path...)}
			c, p, err := n.tools()
			if tc.copy == "" {
				if !errors.Is(err, errNoTool) {
					t.Fatalf("tools = %q, %q, %v; want errNoTool", c, p, err)
				}
				if n.WriteAll("x") == nil {
					t.Fatal("WriteAll without a tool succeeded")
				}
				return
			}
			if err != nil || strings.Join(c, " ") != tc.copy || strings.Join(p, " ") != tc.pst {
				t.Fatalf("tools = %q, %q, %v; want %q, %q", c, p, err, tc.copy, tc.pst)
			}
		})
	}
}
