package sim

import (
	"net"
	"strings"
	"testing"
)

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestStart_FixedLoopbackAddresses(t *testing.T) {
	var (
		cli, cf, xs string
		s           *Server
		err         error
	)
	// A port found free may be taken by a parallel test before Start binds
	// it: try again with new ports then.
	for range 5 {
		cli, cf, xs = freeLoopbackAddr(t), freeLoopbackAddr(t), freeLoopbackAddr(t)
		if s, err = Start(Config{CLIServerAddr: cli, CFAddr: cf, XSUAAAddr: xs, EntitlementPadding: -1}); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.CLIServerURL() != "http://"+cli || s.CFAPIURL() != "http://"+cf || s.TokenBaseURL() != "http://"+xs {
		t.Errorf("URLs %s %s %s, want %s %s %s", s.CLIServerURL(), s.CFAPIURL(), s.TokenBaseURL(), cli, cf, xs)
	}
	if r := call(t, "GET", s.CFAPIURL()+"/", "", nil); r.status != 200 {
		t.Errorf("GET / on the fixed address: %d", r.status)
	}
	for _, bad := range []string{"0.0.0.0:0", "192.0.2.1:8080", "example.com:80", "no-port"} {
		if s, err := Start(Config{CFAddr: bad, EntitlementPadding: -1}); err == nil {
			s.Close()
			t.Errorf("CFAddr %q accepted; only loopback may be served", bad)
		}
	}
}

func TestWriteSummary_URLsUsersAndTarget(t *testing.T) {
	s, _ := startCF(t, Config{})
	var b strings.Builder
	if err := s.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	org, space := s.DemoTarget()
	for _, want := range []string{s.CLIServerURL(), s.CFAPIURL(), s.TokenBaseURL(), s.RuntimeURL(), s.TenantAPIURL(), GASubdomain,
		AdminUser + " / " + AdminPassword, "-o " + org + " -s " + space, NoDevUser} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if org != SubReadySubdomain+"_qa" || space != "dev" {
		t.Errorf("DemoTarget = %s/%s, want the entitled %s_qa/dev", org, space, SubReadySubdomain)
	}
}
