package profiles

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/cpikey/cpikey/steps"
)

// certFixture is fixture() as an SAP-generated certificate key.
func certFixture() Profile {
	p := fixture()
	p.TokenURL = "https://acme-dev-k3x9q2ab.authentication.cert.eu10.hana.ondemand.com/oauth/token"
	p.KeyType, p.Validity, p.KeyLength = steps.KeyTypeCertificate, 90, 3072
	p.Certificate = &Certificate{SubjectDN: "CN=7c1d0e2f-5555-4a2b-8c3d-00000000e005,L=sap-uaa,OU=SAP Cloud Platform Clients,O=SAP SE,C=DE",
		IssuerDN:     "CN=SAP PKI Certificate Service Client CA,OU=SAP BTP Clients,O=SAP SE,L=cf-eu10,C=DE",
		SerialNumber: "0x1A2B3C4D", ValidUntil: time.Date(2026, 11, 18, 9, 14, 3, 0, time.UTC)}
	return p
}

// externalFixture is an External Certificate key with pinning off.
func externalFixture() Profile {
	p := certFixture()
	p.KeyType, p.Validity, p.KeyLength = steps.KeyTypeExternal, 0, 0
	off := false
	p.CertificatePinning = &off
	p.Certificate.IssuerDN, p.Certificate.SubjectDN = "CN=ACME Issuing CA,O=ACME Corp,C=DE", "CN=sender.acme.example,O=ACME Corp,C=DE"
	return p
}

func TestExport_CertificateGolden(t *testing.T) {
	files := Exporter{CertFile: "/home/me/cpi/CPI_SAMPLE_INSTANCE-key.cert.pem", KeyFile: "/home/me/cpi/CPI_SAMPLE_INSTANCE-key.key.pem"}
	tests := []struct {
		golden string
		p      Profile
		format string
		goos   string
	}{
		{"postman_cert", certFixture(), FormatPostman, "linux"},
		{"env_cert", certFixture(), FormatEnv, "linux"},
		{"docker_env_cert", certFixture(), FormatDockerEnv, "linux"},
		{"curl_cert_linux", certFixture(), FormatCurl, "linux"},
		{"curl_cert_darwin", certFixture(), FormatCurl, "darwin"},
		{"curl_cert_windows", certFixture(), FormatCurl, "windows"},
		{"terraform_cert", certFixture(), FormatTerraform, "linux"},
		{"terraform_external", externalFixture(), FormatTerraform, "linux"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			e := files
			e.GOOS = tc.goos
			var buf bytes.Buffer
			if err := e.Export(tc.p, tc.format, canary, &buf); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, buf.Bytes())
			if strings.Contains(buf.String(), canary) || strings.Contains(buf.String(), "PRIVATE KEY-----") {
				t.Error("a certificate profile's export holds a secret")
			}
			if tc.format == FormatTerraform {
				if _, diags := hclparse.NewParser().ParseHCL(buf.Bytes(), "main.tf"); diags.HasErrors() {
					t.Fatalf("not HCL: %v", diags)
				}
			}
		})
	}
}

func TestTerraform_CertificateKeyParameters(t *testing.T) {
	cases := []struct {
		p    Profile
		want []string
	}{
		{certFixture(), []string{`"key-type"   = "certificate"`, `"validity"   = 90`, `"key-length" = 3072`}},
		{externalFixture(), []string{`"key-type"            = "certificate_external"`, `"X.509"               = file("certificate.pem")`, `"certificate-pinning" = false`}},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		if err := Export(tc.p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: lacks %s", tc.p.KeyType, w)
			}
		}
	}
}
