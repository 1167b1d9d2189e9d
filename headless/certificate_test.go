package headless_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/steps"
)

const fakeKey = "-----BEGIN RSA PRIVATE KEY-----\nS3CRETKEYMATERIAL\n-----END RSA PRIVATE KEY-----\n"

func certResult(days int) *steps.Result {
	return &steps.Result{
		Credentials: steps.Credentials{ClientID: "sb-x|it-rt-acme!b1", TokenURL: "https://acme.authentication.cert.eu10.hana.ondemand.com/oauth/token",
			URL: "https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com", KeyType: steps.KeyTypeCertificate,
			Certificate: "-----BEGIN CERTIFICATE-----\nPUBLIC\n-----END CERTIFICATE-----\n", PrivateKey: fakeKey,
			CertificateInfo: &steps.CertificateInfo{SubjectDN: "CN=k,L=sap-uaa", IssuerDN: "CN=SAP PKI Certificate Service Client CA",
				SerialNumber: "0x1A", ValidUntil: time.Now().Add(time.Duration(days)*24*time.Hour + time.Hour)}},
		Verified: true,
	}
}

func TestWriteJSON_CertificateKeyWithoutItsPrivateKey(t *testing.T) {
	for _, show := range []bool{false, true} {
		var b bytes.Buffer
		if err := headless.WriteJSON(&b, certResult(300), show); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "S3CRETKEYMATERIAL") || strings.Contains(b.String(), "PRIVATE KEY") {
			t.Fatalf("--json (show-secret %v) holds the private key:\n%s", show, b.String())
		}
		var got struct {
			Credentials map[string]any `json:"credentials"`
		}
		json.Unmarshal(b.Bytes(), &got) //nolint:errcheck
		c := got.Credentials
		det, _ := c["certificatedetails"].(map[string]any)
		if c["keytype"] != "certificate" || !strings.Contains(c["certificate"].(string), "PUBLIC") || det["subjectdn"] != "CN=k,L=sap-uaa" || det["serialnumber"] != "0x1A" {
			t.Errorf("credentials %v", c)
		}
	}
}

func TestWriteJSON_SecretKeyShapeUnchanged(t *testing.T) {
	var b bytes.Buffer
	r := &steps.Result{Credentials: steps.Credentials{ClientID: "id", ClientSecret: "s$", TokenURL: "https://t", URL: "https://u", KeyType: steps.KeyTypeSecret}}
	if err := headless.WriteJSON(&b, r, false); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Credentials map[string]any `json:"credentials"`
	}
	json.Unmarshal(b.Bytes(), &got) //nolint:errcheck
	if len(got.Credentials) != 3 {
		t.Errorf("a ClientId/Secret key's credentials gained fields: %v", got.Credentials)
	}
}

func TestWriteText_CertificateExpiry(t *testing.T) {
	for _, tc := range []struct {
		days int
		want string
	}{{300, "(300 days left)"}, {12, "! 12 days left: cpikey rotate"}} {
		var b bytes.Buffer
		if err := headless.WriteText(&b, certResult(tc.days)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || !strings.Contains(b.String(), "keytype:      Certificate") || strings.Contains(b.String(), "S3CRET") {
			t.Errorf("text:\n%s\nwant %q", b.String(), tc.want)
		}
	}
}
