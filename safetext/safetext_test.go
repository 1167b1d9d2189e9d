package safetext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name, in, text, line string
	}{
		{"plain", "CPI Dev (eu10)", "CPI Dev (eu10)", "CPI Dev (eu10)"},
		{"printable non-ASCII", "Zürich · 東京 🚀", "Zürich · 東京 🚀", "Zürich · 東京 🚀"},
		{"emoji with zero-width joiner", "👩\u200d💻 team", "👩\u200d💻 team", "👩\u200d💻 team"},
		{"backslash stays", `C:\path \x1b`, `C:\path \x1b`, `C:\path \x1b`},
		{"newline and tab", "a\tb\nc", "a\tb\nc", `a\tb\nc`},
		{"CRLF", "one\r\ntwo", "one\ntwo", `one\r\ntwo`},
		{"bare CR fakes a line", "failed\r✓ success", `failed\r✓ success`, `failed\r✓ success`},
		{"OSC 52 sets the clipboard", "x\x1b]52;c;ZXZpbA==\x07y", `x\x1b]52;c;ZXZpbA==\x07y`, `x\x1b]52;c;ZXZpbA==\x07y`},
		{"OSC 0 retitles the window", "\x1b]0;pwned\x1b\\", `\x1b]0;pwned\x1b\`, `\x1b]0;pwned\x1b\`},
		{"CSI clears the screen", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`, `\x1b[2J\x1b[H`},
		{"NUL, BEL, BS, DEL", "a\x00b\x07c\x08d\x7f", `a\x00b\x07c\x08d\x7f`, `a\x00b\x07c\x08d\x7f`},
		{"C1 CSI as a rune", "a\u009b2Jb", `a\u009b2Jb`, `a\u009b2Jb`},
		{"C1 next line", "a\u0085b", `a\u0085b`, `a\u0085b`},
		{"lone 8-bit CSI byte", "a\x9b2J", `a\x9b2J`, `a\x9b2J`},
		{"invalid UTF-8", "ok\xff\xfe", `ok\xff\xfe`, `ok\xff\xfe`},
		{"truncated rune", "é\xc3", `é\xc3`, `é\xc3`},
		{"right-to-left override", "evil\u202egnp.exe", `evil\u202egnp.exe`, `evil\u202egnp.exe`},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", `\u2066a\u2067b\u2068c\u2069`, `\u2066a\u2067b\u2068c\u2069`},
		{"bidi embeddings and marks", "\u202a\u202b\u202c\u202d\u200e\u200f\u061c", `\u202a\u202b\u202c\u202d\u200e\u200f\u061c`, `\u202a\u202b\u202c\u202d\u200e\u200f\u061c`},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`, `a\u2028b\u2029c`},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.text {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
			}
			if got := Line(tc.in); got != tc.line {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
			}
		})
	}
}

func TestControls(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []rune
	}{
		{"plain Zürich 東京\n\tx", nil},
		{"\x1b]52;c;x\a", []rune{0x1b, 0x07}},
		{"a\rb\x7f", []rune{'\r', 0x7f}},
		{"\u009b2J\u0085", []rune{0x9b, 0x85}},
		{"\u202e\u2066\u200f\u061c\u2028", []rune{0x202e, 0x2066, 0x200f, 0x061c, 0x2028}},
		{"ok\xff", []rune{utf8.RuneError}},
		{"\uFFFD is a valid rune", nil},
	} {
		if got := Controls(tc.in); string(got) != string(tc.want) {
			t.Errorf("Controls(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSON_InertAndExact(t *testing.T) {
	in := map[string]string{"name": "CPI \x1b]0;t\a\u202etxt\u009b2J\u0085\x7f\u2066 Zürich \\ \"q\"", "plain": "ok"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(b)
	if c := Controls(string(out)); len(c) > 0 {
		t.Errorf("JSON(%s) keeps %q", b, c)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["name"] != in["name"] || back["plain"] != "ok" {
		t.Errorf("JSON changed the values: %q, %v", back, err)
	}
	clean := []byte(`{"a":"Zürich 東京"}`)
	if got := JSON(clean); &got[0] != &clean[0] {
		t.Error("clean JSON was copied")
	}
}

func TestText_CleanTextIsNotCopied(t *testing.T) {
	s := strings.Repeat("Subaccount CPI Dev — Zürich\n", 4)
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("Text allocated %v times for clean text", n)
	}
}

// interpreted reports the first rune of s a terminal would act on, given
// what the variant keeps.
func interpreted(s string, line bool) (rune, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return r, true // invalid UTF-8
		case (r == '\n' || r == '\t') && !line:
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return r, true
		case r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x2028 && r <= 0x202e || r >= 0x2066 && r <= 0x2069:
			return r, true
		}
	}
	return 0, false
}

// FuzzText: whatever a server sends, no control, escape or bidi rune and no
// invalid UTF-8 survives; escaping twice changes nothing; text with nothing
// to escape comes back as it was.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"plain", "a\r\nb", "\x1b]52;c;ZXZpbA==\x07", "\x1b[2J", "\u202e\u2066", "\xff\xc3", "\u009b", "\r", "tab\there",
		"\x1bP1$r\x1b\\", "✓ success\r\x1b[K✗", "C:\\x1b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := json.Marshal(s); err == nil {
			out := JSON(b)
			var back string
			if err := json.Unmarshal(out, &back); err != nil || utf8.ValidString(s) && back != s {
				t.Fatalf("JSON(%s) = %s decodes to %q (%v), want %q", b, out, back, err, s)
			}
			if c := Controls(string(out)); len(c) > 0 {
				t.Fatalf("JSON(%s) = %s keeps %q", b, out, c)
			}
		}
		for _, v := range []struct {
			name string
			fn   func(string) string
			line bool
		}{{"Text", Text, false}, {"Line", Line, true}} {
			out := v.fn(s)
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not valid UTF-8", v.name, s, out)
			}
			if r, bad := interpreted(out, v.line); bad {
				t.Fatalf("%s(%q) = %q keeps %U", v.name, s, out, r)
			}
			if c := Controls(out); len(c) > 0 {
				t.Fatalf("Controls(%s(%q)) = %q, want none", v.name, s, c)
			}
			if again := v.fn(out); again != out {
				t.Fatalf("%s is not idempotent: %q -> %q -> %q", v.name, s, out, again)
			}
			if _, bad := interpreted(s, v.line); !bad && out != s {
				t.Fatalf("%s changed clean text %q to %q", v.name, s, out)
			}
		}
	})
}

func BenchmarkText(b *testing.B) {
	clean := strings.Repeat("Integration Suite tenant CPI Dev (eu10) — Zürich\n", 20)
	hostile := strings.Repeat("name\x1b]52;c;ZXZpbA==\x07\u202eexe\r✓ ok\n", 20)
	for _, bc := range []struct{ name, s string }{{"clean", clean}, {"hostile", hostile}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Text(bc.s)
			}
		})
	}
}
