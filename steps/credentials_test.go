package steps

import (
	"errors"
	"strings"
	"testing"
)

const secretCanary = "8d1c2b3a-canary$Zm9vYmFy="

func TestParseCredentials_Shapes(t *testing.T) {
	inner := `{"clientid":"sb-x!b1|it-rt-acme!b56186","clientsecret":"` + secretCanary + `","url":"https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com","tokenurl":"https://acme.authentication.eu10.hana.ondemand.com/oauth/token","createdate":"2026-08-20T09:14:03.512Z"}`
	cases := []struct {
		name string
		raw  string
	}{
		{"cf details (credentials.oauth)", `{"credentials":{"oauth":` + inner + `}}`},
		{"cockpit download (oauth)", `{"oauth":` + inner + `}`},
		{"cf v6 (top level)", inner},
		{"service manager binding (credentials at top)", `{"credentials":` + inner + `}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCredentials("k", []byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientSecret != secretCanary || c.ClientID != "sb-x!b1|it-rt-acme!b56186" ||
				!strings.HasSuffix(c.TokenURL, "/oauth/token") || !strings.Contains(c.URL, "-rt.cfapps") {
				t.Fatalf("unexpected credentials %+v", c)
			}
		})
	}
}

func TestParseCredentials_Refusals(t *testing.T) {
	cases := []struct {
		name, raw, want string
		cert            bool
	}{
		{"unreadable certificate", `{"oauth":{"clientid":"sb-x","certificate":"-----BEGIN CERTIFICATE-----","key":"k","tokenurl":"https://t/oauth/token","url":"https://u"}}`, "certificate cannot be read", false},
		{"missing secret", `{"oauth":{"clientid":"sb-x","tokenurl":"https://t","url":"https://u"}}`, "lack clientsecret", false},
		{"not json", `{"oauth":`, "not a JSON object", false},
		{"wrong types", `{"oauth":{"clientid":1,"clientsecret":"` + secretCanary + `","tokenurl":"https://t","url":"https://u"}}`, "lack clientid", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredentials("my-key", []byte(tc.raw))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
			if errors.Is(err, ErrCertificateKey) != tc.cert {
				t.Fatalf("errors.Is(ErrCertificateKey) = %v, want %v", !tc.cert, tc.cert)
			}
			if strings.Contains(err.Error(), secretCanary) {
				t.Fatal("error message contains the secret")
			}
		})
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add([]byte(`{"credentials":{"oauth":{"clientid":"a","clientsecret":"s$x","url":"https://u","tokenurl":"https://t"}}}`))
	f.Add([]byte(`{"oauth":{"clientid":"a","certificate":"c"}}`))
	f.Add([]byte(`{"clientid":"a","clientsecret":"b","url":"c","tokenurl":"d"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"credentials":null,"oauth":7}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCredentials("k", raw)
		if err == nil && (c.ClientID == "" || (c.ClientSecret == "") == (c.Certificate == "") || c.TokenURL == "" || c.URL == "") {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
		if err == nil && c.KeyType.IsCertificate() && c.CertificateInfo == nil {
			t.Fatalf("a certificate key without what its certificate says: %+v", c)
		}
		if err != nil && c.ClientSecret != "" && strings.Contains(err.Error(), c.ClientSecret) {
			t.Fatal("secret in error")
		}
	})
}
