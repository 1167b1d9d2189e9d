package sim

import (
	"net/http"
	"strings"
	"testing"
)

// Tests of what real Cloud Foundry clients (the cf CLI, go-cfclient, the
// Terraform provider) need beyond cpikey's own client: include= and
// fields[...], the instance and key side endpoints, and every link the
// simulator advertises.

// createdGUIDs logs in, optionally reads n times, creates an instance and
// returns its GUID and the job Location.
func createdGUIDs(t *testing.T, reads int) (inst, job string) {
	t.Helper()
	f := newCFFixture(t)
	for i := 0; i < reads; i++ {
		f.get(t, f.s.CFAPIURL()+"/v3/organizations")
	}
	r := call(t, http.MethodPost, f.s.CFAPIURL()+"/v3/service_instances", f.tok, f.instanceBody("cpi-rt", nil))
	if r.status != http.StatusAccepted {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	list := f.get(t, f.s.CFAPIURL()+"/v3/service_instances?names=cpi-rt")["resources"].([]any)
	return list[0].(map[string]any)["guid"].(string), r.header.Get("Location")
}

func TestCCRequestID_DoesNotShiftGUIDs(t *testing.T) {
	inst0, job0 := createdGUIDs(t, 0)
	inst5, job5 := createdGUIDs(t, 5)
	jobID := func(loc string) string { return loc[strings.LastIndex(loc, "/")+1:] }
	if inst0 != inst5 || jobID(job0) != jobID(job5) {
		t.Errorf("GUIDs depend on the number of earlier requests: instance %s vs %s, job %s vs %s", inst0, inst5, job0, job5)
	}
}
