package profiles_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

func TestParseCallArgs_ProfileMethodPath(t *testing.T) {
	cases := []struct {
		args                  []string
		profile, method, path string
		err                   string
	}{
		{args: []string{"/http/x"}, path: "/http/x"},
		{args: []string{"post", "/http/x"}, method: "POST", path: "/http/x"},
		{args: []string{"acme/I/K", "/http/x"}, profile: "acme/I/K", path: "/http/x"},
		{args: []string{"acme/I/K", "delete", "/http/x"}, profile: "acme/I/K", method: "DELETE", path: "/http/x"},
		{args: nil, err: "PATH is missing"},
		{args: []string{"GET"}, err: "PATH is missing after GET"},
		{args: []string{"acme/I/K"}, err: `PATH is missing ("acme/I/K" is no path`},
		{args: []string{"acme/I/K", "FETCH", "/http/x"}, err: `"FETCH" is not an HTTP method`},
		{args: []string{"a", "GET", "/x", "y"}, err: `unexpected argument "y"`},
	}
	for _, tc := range cases {
		p, m, path, err := profiles.ParseCallArgs(tc.args)
		if tc.err != "" {
			var ue *steps.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err %v, want a usage error with %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || p != tc.profile || m != tc.method || path != tc.path {
			t.Errorf("%v: %q %q %q %v", tc.args, p, m, path, err)
		}
	}
}

func TestParseHeaders_NameValueAndNoneCPIKeySets(t *testing.T) {
	h, err := profiles.ParseHeaders([]string{"Content-Type: application/xml", "SOAPAction:  \"urn:order\" ", "X-A: 1", "x-a: 2"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Content-Type") != "application/xml" || h.Get("Soapaction") != `"urn:order"` || strings.Join(h.Values("X-A"), ",") != "1,2" {
		t.Errorf("headers %v", h)
	}
	for _, bad := range []string{"no colon", ": empty name", "Bad Name: x", "Authorization: Bearer x", "host: evil", "Content-Length: 1"} {
		if _, err := profiles.ParseHeaders([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReadData_TextFileAndStdin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "message.xml")
	os.WriteFile(file, []byte("<order/>"), 0o600) //nolint:errcheck
	cases := []struct {
		arg, stdin, want, name string
	}{
		{"plain text", "", "plain text", ""},
		{"@" + file, "", "<order/>", file},
		{"-", "from stdin", "from stdin", ""},
		{"@-", "from stdin", "from stdin", ""},
	}
	for _, tc := range cases {
		b, name, err := profiles.ReadData(tc.arg, strings.NewReader(tc.stdin))
		if err != nil || string(b) != tc.want || name != tc.name {
			t.Errorf("%s: %q %q %v", tc.arg, b, name, err)
		}
	}
	if _, _, err := profiles.ReadData("@"+filepath.Join(dir, "missing.xml"), nil); err == nil || !strings.Contains(err.Error(), "missing.xml") {
		t.Errorf("missing file: %v", err)
	}
}
