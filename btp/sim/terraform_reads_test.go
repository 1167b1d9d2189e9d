package sim

import (
	"reflect"
	"testing"
)

// data "cloudfoundry_space" of Cloud Foundry's Terraform provider reads the
// space's SSH feature and isolation segment; without them its plan fails.
func TestCCSpaceReads_TerraformDataSource(t *testing.T) {
	s, _ := startCF(t, Config{})
	tok, _ := login(t, s, AdminUser, AdminPassword)
	dev := spaceGUID(t, s, SubFreshSubdomain, "dev")
	base := s.CFAPIURL() + "/v3/spaces/"

	r := call(t, "GET", base+dev+"/features/ssh", tok, nil)
	if got := r.json(t); r.status != 200 || got["name"] != "ssh" || got["enabled"] != true || got["description"] == "" {
		t.Errorf("ssh feature: %d %s", r.status, r.body)
	}
	r = call(t, "GET", base+dev+"/relationships/isolation_segment", tok, nil)
	want := map[string]any{"data": nil, "links": map[string]any{"self": map[string]any{
		"href": base + dev + "/relationships/isolation_segment"}}}
	if got := r.json(t); r.status != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("isolation segment: %d %s", r.status, r.body)
	}

	for _, p := range []string{"/features/ssh", "/relationships/isolation_segment"} {
		r := call(t, "GET", base+"00000000-0000-4000-8000-000000000000"+p, tok, nil)
		if code, _, detail := r.firstError(t); r.status != 404 || code != 10010 || detail != "Space not found" {
			t.Errorf("%s of an unknown space: %d %s", p, r.status, r.body)
		}
		if r := call(t, "GET", base+dev+p, "", nil); r.status != 401 {
			t.Errorf("%s without a token: %d", p, r.status)
		}
		if r := call(t, "POST", base+dev+p, tok, nil); r.status != 404 {
			t.Errorf("POST %s: %d, want 404 (unknown request)", p, r.status)
		}
	}
}
