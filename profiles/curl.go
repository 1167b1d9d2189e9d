package profiles

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/cpikey/cpikey/btp/itrt"
)

// writeCurl renders a POSIX sh script: get a token with the client
// credentials, then call the runtime (integration-flow) or the OData API
// (api). The secret never appears in the script: it comes from
// $CPI_CLIENT_SECRET or, failing that, from the OS keychain at run time.
// Credentials and token reach curl on stdin (-K -), not in its arguments,
// so other users cannot read them from the process list.
func writeCurl(w io.Writer, p Profile, goos string) error {
	var b bytes.Buffer
	q := ShellQuote
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# cpikey profile %s\n", p.Name)
	fmt.Fprintf(&b, "# SAP Process Integration Runtime (it-rt), plan %s: get an OAuth token\n", p.Plan)
	b.WriteString("# (client credentials), then call the tenant with it.\n")
	fmt.Fprintf(&b, "# The client secret is not in this file: it is read from $%s if set,\n", EnvClientSecret)
	fmt.Fprintf(&b, "# else %s.\n", curlSecretSource(p, goos))
	b.WriteString("set -eu\n\n")

	fmt.Fprintf(&b, "%s=%s\n", EnvClientID, q(p.ClientID))
	fmt.Fprintf(&b, "%s=%s\n", EnvTokenURL, q(p.TokenURL))
	fmt.Fprintf(&b, "%s=%s\n", EnvURL, q(p.URL))
	endpoint, note := curlEndpoint(p)
	fmt.Fprintf(&b, "# %s\n", note)
	fmt.Fprintf(&b, "%s=${%s:-%s}\n\n", EnvEndpoint, EnvEndpoint, q(endpoint))

	writeSecretLookup(&b, p, goos)

	b.WriteString(`
# curl reads its config from stdin (-K -), so the credentials and the token
# never show up in ps. Inside "..." curl's config syntax needs \ and " escaped.
cfg_quote() { printf '%s' "$1" | sed 's/[\\"]/\\&/g'; }

`)
	fmt.Fprintf(&b, "RESPONSE=$(printf 'user = \"%%s:%%s\"\\n' \"$(cfg_quote \"$%s\")\" \"$(cfg_quote \"$%s\")\" |\n", EnvClientID, EnvClientSecret)
	fmt.Fprintf(&b, "  curl -sS -K - -d grant_type=client_credentials \"$%s\")\n", EnvTokenURL)
	b.WriteString(`TOKEN=$(printf '%s' "$RESPONSE" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
if [ -z "$TOKEN" ]; then
  printf '%s\n' "cpikey: no access token; the token endpoint answered: $RESPONSE" >&2
  exit 1
fi

`)
	b.WriteString("printf 'header = \"Authorization: Bearer %s\"\\n' \"$TOKEN\" |\n")
	fmt.Fprintf(&b, "  curl -sS -K - -w '\\nHTTP status %%{http_code}\\n' \"$%s$%s\"\n", EnvURL, EnvEndpoint)
	_, err := w.Write(b.Bytes())
	return err
}

// curlEndpoint is the default path the snippet calls, with a comment.
func curlEndpoint(p Profile) (path, note string) {
	if p.Plan == itrt.PlanAPI {
		if slices.Contains(p.Roles, "MonitoringDataRead") {
			return "/api/v1/MessageProcessingLogs?$top=1&$format=json",
				"OData API call; reading message processing logs needs the role MonitoringDataRead."
		}
		return "/api/v1/IntegrationPackages?$top=1&$format=json",
			"OData API call; listing packages needs the role WorkspacePackagesRead."
	}
	return "/http/your/endpoint",
		"Your iFlow's address (Monitor > Manage Integration Content > Endpoints); SOAP senders are under /cxf/."
}

func curlSecretSource(p Profile, goos string) string {
	if p.KeychainAccount == "" {
		return "nowhere: this profile has no keychain entry (saved with --no-keychain)"
	}
	switch {
	case goos == "darwin":
		return "from the macOS Keychain (security find-generic-password)"
	case goos == "windows":
		return "nowhere: a shell cannot read Windows Credential Manager"
	case secretServiceOS(goos):
		return "from the Secret Service (secret-tool, package libsecret-tools)"
	}
	return "nowhere: there is no supported keychain on " + goos
}

func writeSecretLookup(b *bytes.Buffer, p Profile, goos string) {
	svc, acct := ShellQuote(p.keychainService()), ShellQuote(p.KeychainAccount)
	v := EnvClientSecret
	missing := func(why string) {
		fmt.Fprintf(b, "if [ -z \"${%s:-}\" ]; then\n", v)
		fmt.Fprintf(b, "  printf '%%s\\n' %s >&2\n", ShellQuote("cpikey: set "+v+" first; "+why))
		b.WriteString("  exit 1\nfi\n")
	}
	switch {
	case p.KeychainAccount == "":
		missing("this profile has no keychain entry")
		return
	case goos == "windows":
		missing("the secret is in Windows Credential Manager (entry " + p.keychainService() + ":" + p.KeychainAccount + ")")
		return
	case goos == "darwin":
		fmt.Fprintf(b, "if [ -z \"${%s:-}\" ]; then\n", v)
		fmt.Fprintf(b, "  %s=$(security find-generic-password -s %s -a %s -w 2>/dev/null) || %s=\n", v, svc, acct, v)
		b.WriteString("  # cpikey's keychain library stores the secret base64-encoded behind this prefix.\n")
		fmt.Fprintf(b, "  case $%s in\n", v)
		fmt.Fprintf(b, "  go-keyring-base64:*) %s=$(printf '%%s' \"${%s#go-keyring-base64:}\" | base64 --decode) ;;\n", v, v)
		b.WriteString("  esac\nfi\n")
	case secretServiceOS(goos):
		fmt.Fprintf(b, "if [ -z \"${%s:-}\" ]; then\n", v)
		fmt.Fprintf(b, "  %s=$(secret-tool lookup service %s username %s 2>/dev/null) || %s=\n", v, svc, acct, v)
		b.WriteString("fi\n")
	default:
		missing("there is no supported keychain on " + goos)
		return
	}
	fmt.Fprintf(b, "if [ -z \"$%s\" ]; then\n", v)
	fmt.Fprintf(b, "  printf '%%s\\n' %s >&2\n", ShellQuote("cpikey: no client secret in the keychain for "+p.KeychainAccount+"; set "+v))
	b.WriteString("  exit 1\nfi\n")
}

// secretServiceOS mirrors adapters/keychain: where go-keyring uses the
// freedesktop Secret Service.
func secretServiceOS(goos string) bool {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return true
	}
	return false
}
