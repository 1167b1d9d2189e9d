package transport_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

// TestTracer_ServerTextIsInert: --debug lines show what the server put in
// a header escaped, on one line, never as terminal controls.
func TestTracer_ServerTextIsInert(t *testing.T) {
	// C1 controls, a bidi override and a lone 8-bit CSI byte are what a
	// header can carry past Go's client (C0 controls end the response).
	const hostile = "502 \u009d52;c;ZXZpbA==\u009c \u009b2J \u202etxt. \x9b2J"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cpcli-Backend-Status", hostile)
	}))
	defer srv.Close()
	var out strings.Builder
	hc := transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second, Trace: &out})
	resp, err := hc.Get(srv.URL + "/command/v2.106.1/accounts/subaccount?list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := out.String()
	if !strings.Contains(line, `backend 502 \u009d52;c;ZXZpbA==\u009c \u009b2J \u202etxt. \x9b2J`) {
		t.Errorf("trace does not show the header escaped: %q", line)
	}
	for _, r := range strings.TrimSuffix(line, "\n") {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e || r == 0xfffd {
			t.Fatalf("trace holds control rune %U: %q", r, line)
		}
	}
}
