package itrt_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cpikey/cpikey/btp/itrt"
)

// nameRE is SAP's rule written independently of ValidateName.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)

func TestValidateName_SAPRuleWithTheRuleShown(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
		want string // part of the refusal besides the rule
	}{
		{"CPI_SAMPLE_INSTANCE", true, ""},
		{"CPI_SAMPLE_INSTANCE-key", true, ""},
		{"a", true, ""},
		{"v1.2_x-Y", true, ""},
		{strings.Repeat("x", 32), true, ""},
		{"", false, "must not be empty"},
		{strings.Repeat("x", 33), false, "33 characters long"},
		{"has space", false, `' '`},
		{"tab\there", false, `'\t'`},
		{"slash/name", false, `'/'`},
		{"quote\"name", false, `'"'`},
		{"semi;colon", false, `';'`},
		{"dollar$", false, `'$'`},
		{"umlaut-ä", false, `'ä'`},
		{"emoji-🙂", false, `'🙂'`},
		{"newline\n", false, `'\n'`},
		{"nul\x00", false, `'\x00'`},
		{"bad\xffutf8", false, `'�'`},
		{strings.Repeat("ä", 16), false, `'ä'`},                // 16 characters in 32 bytes
		{strings.Repeat("ä", 17), false, "17 characters long"}, // counted in characters, not bytes
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := itrt.ValidateName(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if tc.ok {
				return
			}
			if !strings.Contains(err.Error(), itrt.NameRule) {
				t.Errorf("refusal %q does not show the rule", err)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) && !strings.Contains(err.Error(), strings.Trim(tc.want, "'")) {
				t.Errorf("refusal %q lacks %s", err, tc.want)
			}
		})
	}
}

func TestValidateRoles(t *testing.T) {
	cases := []struct {
		plan  string
		roles []string
		want  string // "" means accepted
	}{
		{itrt.PlanIntegrationFlow, []string{"ESBMessaging.send"}, ""},
		{itrt.PlanIntegrationFlow, nil, ""},
		{itrt.PlanIntegrationFlow, []string{"ESBMessaging.send", "Custom.Role"}, ""},
		{itrt.PlanIntegrationFlow, []string{""}, "must not be empty"},
		{itrt.PlanIntegrationFlow, []string{"a b"}, "spaces"},
		{itrt.PlanIntegrationFlow, []string{"a,b"}, "commas"},
		{itrt.PlanIntegrationFlow, []string{`a"b`}, "quotes"},
		{itrt.PlanIntegrationFlow, []string{"x", "x"}, "listed twice"},
		{itrt.PlanAPI, []string{"MonitoringDataRead"}, ""},
		{itrt.PlanAPI, []string{"MonitoringDataRead", "WorkspacePackagesRead"}, ""},
		{itrt.PlanAPI, nil, "at least one role"},
		{itrt.PlanAPI, []string{"ESBMessaging.send"}, "not a role of plan api"},
		{itrt.PlanAPI, []string{"monitoringdataread"}, "not a role of plan api"},
		{itrt.PlanAPI, []string{"MonitoringDataRead", "MonitoringDataRead"}, "listed twice"},
		{"standard", []string{"x"}, "unknown plan"},
		{"", nil, "unknown plan"},
	}
	for _, tc := range cases {
		t.Run(tc.plan+"/"+strings.Join(tc.roles, ","), func(t *testing.T) {
			err := itrt.ValidateRoles(tc.plan, tc.roles)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key", "", "has space", strings.Repeat("x", 33), "ä", "a\x00b", "../etc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := itrt.ValidateName(name)
		if want := nameRE.MatchString(name); (err == nil) != want {
			t.Fatalf("ValidateName(%q) = %v; the rule says ok=%v", name, err, want)
		}
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), itrt.NameRule) {
			t.Fatalf("refusal %q does not show the rule", err)
		}
		if !utf8.ValidString(err.Error()) {
			t.Fatalf("refusal is not valid UTF-8: %q", err)
		}
	})
}

func FuzzValidateRoles(f *testing.F) {
	f.Add(itrt.PlanIntegrationFlow, "ESBMessaging.send")
	f.Add(itrt.PlanAPI, "MonitoringDataRead\nWorkspacePackagesRead")
	f.Add(itrt.PlanAPI, "")
	f.Add(itrt.PlanAPI, "ESBMessaging.send")
	f.Add(itrt.PlanIntegrationFlow, "a b\na,b")
	f.Add("standard", "x")
	f.Fuzz(func(t *testing.T, plan, list string) {
		var roles []string
		if list != "" {
			roles = strings.Split(list, "\n")
		}
		err := itrt.ValidateRoles(plan, roles)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range roles {
			if seen[r] {
				t.Fatalf("accepted %q twice", r)
			}
			seen[r] = true
		}
		switch plan {
		case itrt.PlanAPI:
			if len(roles) == 0 {
				t.Fatal("accepted plan api without roles")
			}
			for _, r := range roles {
				if !itrt.IsAPIRole(r) {
					t.Fatalf("accepted %q for plan api", r)
				}
			}
		case itrt.PlanIntegrationFlow:
			for _, r := range roles {
				if r == "" || strings.ContainsAny(r, " \t,\"'") {
					t.Fatalf("accepted role %q", r)
				}
			}
		default:
			t.Fatalf("accepted unknown plan %q", plan)
		}
	})
}

func TestEntitySet_NamesTheSetOfAnAPIPath(t *testing.T) {
	cases := map[string]string{
		"/api/v1/MessageProcessingLogs":                    "MessageProcessingLogs",
		"/api/v1/MessageProcessingLogs?$top=1":             "MessageProcessingLogs",
		"/api/v1/MessageProcessingLogs('AGxyz')":           "MessageProcessingLogs",
		"/api/v1/IntegrationPackages('P')/IntegrationDesi": "IntegrationPackages",
		"/api/v1/":     "",
		"/http/demo":   "",
		"/api/v2/Logs": "",
	}
	for in, want := range cases {
		if got := itrt.EntitySet(in); got != want {
			t.Errorf("EntitySet(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoleOfScope_KeepsDottedRoles(t *testing.T) {
	cases := map[string]string{
		"it-rt-acme-dev!b56186.ESBMessaging.send": "ESBMessaging.send",
		"it!b56186.MonitoringDataRead":            "MonitoringDataRead",
		"uaa.resource":                            "",
		"it-rt-x!b1":                              "",
	}
	for in, want := range cases {
		if got := itrt.RoleOfScope(in); got != want {
			t.Errorf("RoleOfScope(%q) = %q, want %q", in, got, want)
		}
	}
}
