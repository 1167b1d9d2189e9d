package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

func secretResult() (*steps.Result, steps.Target) {
	r := &steps.Result{
		Subaccount: steps.SubaccountInfo{ID: "sa-guid", Name: "CPI Dev", Subdomain: "acme-dev", Region: "eu10"},
		Runtime:    steps.RuntimeCF,
		Org:        "acme-dev_org",
		Space:      "dev",
		Plan:       "integration-flow",
		Instance:   steps.ResourceRef{Name: "CPI_SAMPLE_INSTANCE", ID: "inst-guid", Reused: true},
		Key:        steps.ResourceRef{Name: "CPI_SAMPLE_INSTANCE-key", ID: "key-guid"},
		Credentials: steps.Credentials{
			ClientID: "sb-x!b1|it-rt-acme-dev!b2", ClientSecret: canary,
			TokenURL: "https://acme-dev.authentication.eu10.hana.ondemand.com/oauth/token",
			URL:      "https://acme-dev.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
		},
		Verified: true,
		Keychain: &steps.KeychainRef{Service: "cpikey", Account: "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"},
		Entitlements: []steps.PlanEntitlement{{Plan: "integration-flow", Category: "ELASTIC_SERVICE"},
			{Plan: "api", Category: "SERVICE", Amount: 1}},
	}
	t := steps.Target{Subaccount: r.Subaccount, Runtime: steps.RuntimeCF, OrgID: "org-guid", OrgName: "acme-dev_org",
		SpaceID: "space-guid", Space: "dev", Plan: "integration-flow", Instance: "CPI_SAMPLE_INSTANCE",
		Key: "CPI_SAMPLE_INSTANCE-key", Roles: []string{"ESBMessaging.send"}}
	return r, t
}

func TestFromResult(t *testing.T) {
	r, tg := secretResult()
	now := time.Date(2026, 8, 20, 11, 14, 3, 0, time.FixedZone("CEST", 2*3600))
	got := FromResult(r, tg, now)
	want := Profile{
		Name:       "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key",
		Subaccount: Subaccount{ID: "sa-guid", Name: "CPI Dev", Subdomain: "acme-dev", Region: "eu10"},
		Runtime:    steps.RuntimeCF, Org: "acme-dev_org", OrgID: "org-guid", Space: "dev", SpaceID: "space-guid",
		Plan:     "integration-flow",
		Instance: Ref{Name: "CPI_SAMPLE_INSTANCE", ID: "inst-guid", Reused: true},
		Key:      Ref{Name: "CPI_SAMPLE_INSTANCE-key", ID: "key-guid"},
		ClientID: r.Credentials.ClientID, TokenURL: r.Credentials.TokenURL, URL: r.Credentials.URL,
		Roles:           []string{"ESBMessaging.send"},
		Entitlements:    []Entitlement{{Plan: "integration-flow", Category: "ELASTIC_SERVICE"}, {Plan: "api", Category: "SERVICE", Amount: 1}},
		KeychainService: "cpikey", KeychainAccount: "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key",
		CreatedAt: now.UTC(),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromResult\n got %+v\nwant %+v", got, want)
	}
	tg.Roles[0] = "changed"
	if got.Roles[0] != "ESBMessaging.send" {
		t.Error("Roles shares the target's slice")
	}

	// No keychain entry; names only in the target.
	r.Keychain = nil
	r.Instance.Name, r.Key.Name = "", ""
	got = FromResult(r, tg, now)
	if got.KeychainAccount != "" || got.KeychainService != "" || got.Name != "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key" {
		t.Errorf("without keychain: %+v", got)
	}
	if p := FromResult(nil, tg, now); p.Name != got.Name || p.ClientID != "" {
		t.Errorf("nil result: %+v", p)
	}
}

// The profile type has no place for a secret, and FromResult+Save never
// write one: the file on disk must not contain the client secret.
func TestProfileFile_HoldsNoSecret(t *testing.T) {
	for _, f := range reflect.VisibleFields(reflect.TypeOf(Profile{})) {
		if strings.Contains(strings.ToLower(f.Name+string(f.Tag)), "secret") && !strings.HasPrefix(f.Name, "Keychain") {
			t.Errorf("Profile has a field %s that looks like a secret", f.Name)
		}
	}
	r, tg := secretResult()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(FromResult(r, tg, fixedTime)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, s.Path(), string(b))
	if !strings.Contains(string(b), r.Credentials.ClientID) {
		t.Errorf("the file lacks the client id:\n%s", b)
	}
}

func TestStore_ModesAndAtomicWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	base := t.TempDir()
	tests := []struct {
		name    string
		prepare func(dir string)
	}{
		{"fresh", func(string) {}},
		{"loose existing dir and file", func(dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"profiles":[]}`), 0o644)
			os.Chmod(dir, 0o777)
			os.Chmod(filepath.Join(dir, FileName), 0o666)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"), "cpikey")
			tc.prepare(dir)
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Save(fixture()); err != nil {
				t.Fatal(err)
			}
			checkMode(t, dir, 0o700)
			checkMode(t, s.Path(), 0o600)
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			// No temporary file is left; the lock file (empty) stays.
			if want := []string{FileName, FileName + ".lock"}; !slices.Equal(names, want) {
				t.Errorf("directory holds %v, want only %v", names, want)
			}
			checkMode(t, filepath.Join(dir, FileName+".lock"), 0o600)
		})
	}
}

func TestStore_OpenDefaultsToUserConfigDir(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg) // linux & co
	t.Setenv("HOME", cfg)            // darwin: ~/Library/Application Support
	t.Setenv("AppData", cfg)         // windows
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := os.UserConfigDir()
	if s.Dir() != filepath.Join(base, "cpikey") || !strings.HasPrefix(s.Dir(), cfg) {
		t.Errorf("Dir() = %s, want %s", s.Dir(), filepath.Join(base, "cpikey"))
	}
	if _, err := os.Stat(s.Dir()); err == nil {
		t.Error("Open created the directory; only Save should")
	}
}

func TestStore_CRUD(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "cpikey"))
	if err != nil {
		t.Fatal(err)
	}
	if all, err := s.List(); err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v %v", all, err)
	}
	a, b := fixture(), apiOther()
	for _, p := range []Profile{b, a} {
		if err := s.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	// Upsert by name.
	a2 := a
	a2.Key.ID = "replaced"
	if err := s.Save(a2); err != nil {
		t.Fatal(err)
	}
	all, err := s.List()
	if err != nil || len(all) != 2 || all[0].Name != b.Name || all[1].Name != a.Name {
		t.Fatalf("List = %v, %v (want 2, sorted by name)", names(all), err)
	}
	got, err := s.Load(a.Name)
	if err != nil || got.Key.ID != "replaced" || !got.CreatedAt.Equal(a.CreatedAt) || !reflect.DeepEqual(got.Roles, a.Roles) {
		t.Errorf("Load = %+v, %v", got, err)
	}
	// A second Store on the same directory sees the same data (it is on disk).
	s2, _ := Open(s.Dir())
	if got, err := s2.Load(b.Name); err != nil || !reflect.DeepEqual(got, b) {
		t.Errorf("reopened Load = %+v, %v", got, err)
	}

	_, err = s.Load("nope")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), a.Name) || !strings.Contains(err.Error(), b.Name) {
		t.Errorf("Load(nope) = %v, want a not-found error listing the names", err)
	}
	if err := s.Delete(a.Name); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(a.Name); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete = %v", err)
	}
	if all, _ := s.List(); len(all) != 1 || all[0].Name != b.Name {
		t.Errorf("after Delete: %v", names(all))
	}
	if err := s.Save(Profile{Name: "x\ny"}); err == nil {
		t.Error("Save accepted a name with a newline")
	}
}

func TestStore_Resolve(t *testing.T) {
	p := func(name string, minute int) Profile {
		q := fixture()
		q.Name = name
		q.CreatedAt = fixedTime.Add(time.Duration(minute) * time.Minute)
		return q
	}
	tests := []struct {
		name    string
		stored  []Profile
		ask     string
		want    string
		wantErr string
	}{
		{"none", nil, "", "", "no profile yet: run cpikey (or cpikey --yes) first"},
		{"none by name", nil, "a", "", `no profile "a": no profile yet`},
		{"only one", []Profile{p("a", 0)}, "", "a", ""},
		{"most recent", []Profile{p("a", 5), p("b", 9), p("c", 1)}, "", "b", ""},
		{"tie", []Profile{p("a", 9), p("b", 9), p("c", 1)}, "", "", "several profiles are equally recent; name one of: a, b"},
		{"by name", []Profile{p("a", 5), p("b", 9)}, "a", "a", ""},
		{"unknown name", []Profile{p("a", 5), p("b", 9)}, "zz", "", `no profile "zz"; known profiles: a, b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := Open(t.TempDir())
			for _, q := range tc.stored {
				if err := s.Save(q); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Resolve(tc.ask)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Name != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.ask, got.Name, err, tc.want)
			}
		})
	}
	s, _ := Open(t.TempDir())
	if _, err := s.Resolve(""); !errors.Is(err, ErrNoProfiles) {
		t.Errorf("empty store: %v, want ErrNoProfiles", err)
	}
}

func TestStore_BadFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "is not valid JSON"},
		{"newer format", `{"version":2,"profiles":[]}`, "written by a newer cpikey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, FileName), []byte(tc.content), 0o600)
			s, _ := Open(dir)
			if _, err := s.List(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("List: %v, want %q", err, tc.want)
			}
			// Save must not overwrite a file it cannot understand.
			if err := s.Save(fixture()); err == nil {
				t.Error("Save replaced an unreadable file")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, FileName)); string(b) != tc.content {
				t.Error("the file was changed")
			}
		})
	}
}

// TestStore_SwapOnlyWhenUnchanged: a rotation switches the profile only if
// it still names the key it replaced; a profile another process changed or
// removed meanwhile is left as it is.
func TestStore_SwapOnlyWhenUnchanged(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	other, _ := Open(dir) // another process's view of the same file
	p := fixture()
	if err := s.Save(p); err != nil {
		t.Fatal(err)
	}
	next := p
	next.Key = Ref{Name: "rotated-1", ID: "key-1"}
	if err := s.Swap(p.Name, p.Key.ID, next); err != nil {
		t.Fatalf("swap of an unchanged profile: %v", err)
	}
	late := p
	late.Key = Ref{Name: "rotated-2", ID: "key-2"}
	err := other.Swap(p.Name, p.Key.ID, late) // it still believes in the first key
	var changed *ChangedError
	if !errors.As(err, &changed) || changed.Now != "rotated-1" {
		t.Fatalf("stale swap: %v", err)
	}
	if got, _ := s.Load(p.Name); got.Key.ID != "key-1" {
		t.Fatalf("a stale swap overwrote the profile: %+v", got.Key)
	}
	s.Delete(p.Name)
	if err := other.Swap(p.Name, "key-1", late); !errors.As(err, &changed) || changed.Now != "" {
		t.Fatalf("swap of a removed profile: %v", err)
	}
	if all, _ := s.List(); len(all) != 0 {
		t.Fatalf("a removed profile came back: %v", all)
	}
}
