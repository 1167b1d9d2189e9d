package profiles

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/cpikey/cpikey/steps"
)

// keyTypeParams writes the key's binding parameters
// (docs/protocol/it-rt.md §3): the key type and, for certificate keys, what
// SAP needs to make or take the certificate. Never key material: an External Certificate's leaf
// certificate (public) is read from a file next to the configuration.
func keyTypeParams(b *bytes.Buffer, p Profile) {
	params := [][2]string{{"key-type", strconv.Quote(string(p.KeyType.Or()))}}
	switch p.KeyType {
	case steps.KeyTypeCertificate:
		params = append(params,
			[2]string{"validity", strconv.Itoa(cmp.Or(p.Validity, steps.DefaultValidity))},
			[2]string{"key-length", strconv.Itoa(cmp.Or(p.KeyLength, steps.DefaultKeyLength))})
	case steps.KeyTypeExternal:
		params = append(params, [2]string{"X.509", `file("certificate.pem")`})
		if p.Plan == steps.DefaultPlan && p.CertificatePinning != nil {
			params = append(params, [2]string{"certificate-pinning", strconv.FormatBool(*p.CertificatePinning)})
		}
	}
	width := 0
	for _, kv := range params {
		width = max(width, len(kv[0]))
	}
	b.WriteString("  parameters = jsonencode({\n")
	for _, kv := range params {
		// terraform fmt aligns the = of an object's lines.
		fmt.Fprintf(b, "    %q%s = %s\n", kv[0], strings.Repeat(" ", width-len(kv[0])), kv[1])
	}
	b.WriteString("  })\n")
}
