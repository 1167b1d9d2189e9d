package profiles

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeDockerd answers the docker CLI like a daemon would for `docker
// create` and records the environment of each container it is asked to
// create. Nothing runs.
type fakeDockerd struct {
	srv  *httptest.Server
	mu   sync.Mutex
	envs [][]string
}

func newFakeDockerd(t *testing.T) *fakeDockerd {
	d := &fakeDockerd{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.45")
		switch {
		case r.URL.Path == "/_ping":
			io.WriteString(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/containers/create") && r.Method == http.MethodPost:
			var body struct{ Env []string }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			d.mu.Lock()
			d.envs = append(d.envs, body.Env)
			d.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"Id":"0123456789ab","Warnings":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(d.srv.Close)
	return d
}

// create runs `docker create --env-file file` against the fake daemon and
// returns the environment docker sent for the container.
func (d *fakeDockerd) create(t *testing.T, docker, file string, env ...string) []string {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(docker, "create", "--env-file", file, "cpikey-test-image")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"DOCKER_HOST=tcp://" + strings.TrimPrefix(d.srv.URL, "http://")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker create: %v\n%s", err, out)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.envs) == 0 {
		t.Fatalf("docker created no container:\n%s", out)
	}
	e := d.envs[len(d.envs)-1]
	d.envs = nil
	return e
}

// The docker-env export as the real docker CLI reads it: every value
// arrives exactly, including characters sh would expand or quote ($, |, !,
// quotes, backslash, #, =). The env export's quotes, by contrast, would
// reach the container (which is why docker-env exists).
func TestDockerEnv_ReadByTheDockerCLI(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI")
	}
	d := newFakeDockerd(t)
	p := fixture()
	dir := t.TempDir()
	want := func(secret string) []string {
		return []string{EnvClientID + "=" + p.ClientID, EnvClientSecret + "=" + secret, EnvTokenURL + "=" + p.TokenURL, EnvURL + "=" + p.URL}
	}
	for i, secret := range []string{canary, `a'b"c\d $HOME #x =y`} {
		path := filepath.Join(dir, "docker"+string(rune('0'+i))+".env")
		if err := WriteFile(path, p, FormatDockerEnv, secret, false); err != nil {
			t.Fatal(err)
		}
		if got := d.create(t, docker, path); !slices.Equal(got, want(secret)) {
			t.Errorf("docker read\n%q\nwant\n%q", got, want(secret))
		}
	}

	// Without the secret, docker takes it from its own environment.
	path := filepath.Join(dir, "nosecret.env")
	if err := WriteFile(path, p, FormatDockerEnv, "", false); err != nil {
		t.Fatal(err)
	}
	if got := d.create(t, docker, path, EnvClientSecret+"="+canary); !slices.Equal(got, want(canary)) {
		t.Errorf("docker read (secret from the environment)\n%q", got)
	}
	if got := d.create(t, docker, path); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, EnvClientSecret) }) || len(got) != 3 {
		t.Errorf("docker read (no secret anywhere)\n%q", got)
	}

	// The sh-quoted env export keeps its quotes under docker run.
	path = filepath.Join(dir, "sh.env")
	if err := WriteFile(path, p, FormatEnv, canary, false); err != nil {
		t.Fatal(err)
	}
	if got := d.create(t, docker, path); !slices.Contains(got, EnvTokenURL+"='"+p.TokenURL+"'") {
		t.Errorf("the env export under docker: %q", got)
	}
}

// Values that docker run --env-file cannot carry are refused with a message
// that names the value (never shows it) and says what to use instead;
// nothing is written.
func TestDockerEnv_RefusesWhatDockerCannotCarry(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Profile)
		secret string
		want   string
	}{
		{"secret with a leading space", nil, " " + canary, "the client secret starts or ends with whitespace"},
		{"secret with a trailing no-break space", nil, canary + "\u00a0", "the client secret starts or ends with whitespace"},
		{"secret with a line break", nil, canary + "\nX=1", "the client secret contains a control character"},
		{"secret not UTF-8", nil, canary + "\xff", "the client secret is not valid UTF-8"},
		{"clientid with a trailing space", func(p *Profile) { p.ClientID += " " }, canary, "the clientid starts or ends with whitespace"},
		{"tokenurl not UTF-8", func(p *Profile) { p.TokenURL += "\xfe" }, canary, "the tokenurl is not valid UTF-8"},
		{"url over docker's line limit", func(p *Profile) { p.URL += "/" + strings.Repeat("x", dockerMaxLine) }, canary, "the url is longer than docker's line limit (64 KiB)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fixture()
			if tc.edit != nil {
				tc.edit(&p)
			}
			path := filepath.Join(t.TempDir(), "x.env")
			err := WriteFile(path, p, FormatDockerEnv, tc.secret, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "control character") && !strings.Contains(err.Error(), "--format env") {
				t.Errorf("the refusal does not say what to use instead: %v", err)
			}
			mustNotContain(t, "the refusal", err.Error())
			if _, serr := os.Stat(path); serr == nil {
				t.Error("a file was written despite the refusal")
			}
			// The env export carries the same values (quoted) unless they
			// have control characters, which every format refuses.
			var buf bytes.Buffer
			if err := Export(p, FormatEnv, tc.secret, &buf); err != nil && !strings.Contains(tc.want, "control character") {
				t.Errorf("env export refused it too: %v", err)
			}
		})
	}
}
