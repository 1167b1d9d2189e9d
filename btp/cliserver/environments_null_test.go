package cliserver

import "testing"

func TestEnvironmentLabels_NullIsAbsent(t *testing.T) {
	w := wireEnvironment{Labels: `{"API Endpoint":"https://api.cf.eu10.hana.ondemand.com","Org ID":null,"Org Name":"o"}`}
	e := w.toEnvironment()
	if e.OrgID != "" || e.OrgName != "o" || e.APIEndpoint == "" {
		t.Fatalf("labels decoded as %+v", e.Labels)
	}
	if _, ok := e.Labels["Org ID"]; ok {
		t.Fatal("a null label was kept")
	}
}
