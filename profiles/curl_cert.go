package profiles

import (
	"bytes"
	"fmt"
	"io"

	"github.com/cpikey/cpikey/adapters/keychain"
)

// writeCurlCert renders the curl snippet of a certificate profile: a token
// from the certificate token host with the client certificate (mTLS), then
// the call to the tenant with it. Certificate and private key come from
// $CPI_CERT_FILE/$CPI_KEY_FILE when both are set (a sourced .env export),
// else from the OS keychain at run time; from there they reach curl
// through named pipes in a private directory, never as files on disk nor
// in a process's arguments or environment.
func writeCurlCert(w io.Writer, p Profile, goos string) error {
	var b bytes.Buffer
	q := ShellQuote
	b.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&b, "# cpikey profile %s\n", p.Name)
	fmt.Fprintf(&b, "# SAP Process Integration Runtime (it-rt), plan %s, %s key: get an OAuth token\n", p.Plan, p.KeyType.Label())
	b.WriteString("# with the client certificate (mTLS), then call the tenant with it.\n")
	fmt.Fprintf(&b, "# Certificate and private key are not in this file: they are read from $%s and\n", EnvCertFile)
	fmt.Fprintf(&b, "# $%s if both are set, else %s.\n", EnvKeyFile, curlSecretSource(p, goos))
	b.WriteString("set -eu\n\n")

	fmt.Fprintf(&b, "%s=%s\n", EnvClientID, q(p.ClientID))
	fmt.Fprintf(&b, "%s=%s\n", EnvTokenURL, q(p.TokenURL))
	fmt.Fprintf(&b, "%s=%s\n", EnvURL, q(p.URL))
	endpoint, note := curlEndpoint(p)
	fmt.Fprintf(&b, "# %s\n", note)
	fmt.Fprintf(&b, "%s=${%s:-%s}\n\n", EnvEndpoint, EnvEndpoint, q(endpoint))

	fmt.Fprintf(&b, "if [ -z \"${%s:-}\" ] || [ -z \"${%s:-}\" ]; then\n", EnvCertFile, EnvKeyFile)
	if !writeKeychainRead(&b, p, goos) {
		fmt.Fprintf(&b, "  printf '%%s\\n' %s >&2\n", q("cpikey: set "+EnvCertFile+" and "+EnvKeyFile+" first; "+curlCertWhy(p, goos)))
		b.WriteString("  exit 1\nfi\n")
	} else {
		acct := q(p.KeychainAccount)
		fmt.Fprintf(&b, "  head=$(kc_read %s) || head=\n", acct)
		b.WriteString("  case $head in\n")
		fmt.Fprintf(&b, "  %s[0-9]*) ;;\n", keychain.SplitPrefix)
		fmt.Fprintf(&b, "  *) printf '%%s\\n' %s >&2; exit 1 ;;\n", q("cpikey: no certificate in the keychain for "+p.KeychainAccount+"; set "+EnvCertFile+" and "+EnvKeyFile))
		b.WriteString("  esac\n")
		fmt.Fprintf(&b, "  n=${head#%s}; i=1; b64=\n", keychain.SplitPrefix)
		b.WriteString("  while [ \"$i\" -le \"$n\" ]; do\n")
		fmt.Fprintf(&b, "    part=$(kc_read %s\"#$i\") || part=\n", acct)
		b.WriteString("    b64=$b64$part\n    i=$((i + 1))\n  done\n")
		b.WriteString(`  BUNDLE=$(printf '%s' "$b64" | base64 --decode) || BUNDLE=
  # Named pipes in a private directory: curl reads certificate and key from
  # them, and nothing is written to disk.
  umask 077
  dir=$(mktemp -d)
  pids=
  trap 'kill $pids 2>/dev/null || :; rm -rf "$dir"' EXIT
  trap 'exit 130' INT TERM
  mkfifo "$dir/cert.pem" "$dir/key.pem"
  printf '%s\n' "$BUNDLE" | sed -n '/-BEGIN CERTIFICATE-/,/-END CERTIFICATE-/p' > "$dir/cert.pem" &
  pids="$pids $!"
  printf '%s\n' "$BUNDLE" | sed -n '/-BEGIN .*PRIVATE KEY-/,/-END .*PRIVATE KEY-/p' > "$dir/key.pem" &
  pids="$pids $!"
  BUNDLE= b64=
`)
		fmt.Fprintf(&b, "  %s=$dir/cert.pem %s=$dir/key.pem\nfi\n", EnvCertFile, EnvKeyFile)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "RESPONSE=$(curl -sS --cert \"$%s\" --key \"$%s\" -d grant_type=client_credentials \\\n", EnvCertFile, EnvKeyFile)
	fmt.Fprintf(&b, "  --data-urlencode \"client_id=$%s\" \"$%s\") || RESPONSE=\n", EnvClientID, EnvTokenURL)
	b.WriteString(`TOKEN=$(printf '%s' "$RESPONSE" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
if [ -z "$TOKEN" ]; then
  printf '%s\n' "cpikey: no access token; the token endpoint answered: $RESPONSE" >&2
  exit 1
fi

# The token reaches curl on stdin (-K -), so it never shows up in ps.
`)
	b.WriteString("printf 'header = \"Authorization: Bearer %s\"\\n' \"$TOKEN\" |\n")
	fmt.Fprintf(&b, "  curl -sS -K - -w '\\nHTTP status %%{http_code}\\n' \"$%s$%s\"\n", EnvURL, EnvEndpoint)
	_, err := w.Write(b.Bytes())
	return err
}

// writeKeychainRead defines kc_read ACCOUNT, which prints one keychain
// entry of service cpikey, and reports whether goos has a way.
func writeKeychainRead(b *bytes.Buffer, p Profile, goos string) bool {
	svc := ShellQuote(p.keychainService())
	switch {
	case p.KeychainAccount == "" || goos == "windows":
		return false
	case goos == "darwin":
		b.WriteString("  kc_read() {\n")
		fmt.Fprintf(b, "    v=$(security find-generic-password -s %s -a \"$1\" -w 2>/dev/null) || return 1\n", svc)
		b.WriteString("    # cpikey's keychain library stores values base64-encoded behind this prefix.\n")
		b.WriteString("    case $v in\n    go-keyring-base64:*) printf '%s' \"${v#go-keyring-base64:}\" | base64 --decode ;;\n    *) printf '%s' \"$v\" ;;\n    esac\n  }\n")
		return true
	case secretServiceOS(goos):
		fmt.Fprintf(b, "  kc_read() { secret-tool lookup service %s username \"$1\" 2>/dev/null; }\n", svc)
		return true
	}
	return false
}

func curlCertWhy(p Profile, goos string) string {
	switch {
	case p.KeychainAccount == "":
		return "this profile has no keychain entry (export it with --format env to get the files)"
	case goos == "windows":
		return "a shell cannot read Windows Credential Manager (cpikey export --format env -o FILE writes the files)"
	}
	return "there is no supported keychain on " + goos
}

// writeDockerEnvCert is the docker-env export of a certificate profile:
// the values and the paths of the certificate and key files written beside
// it, which the container needs mounted at the same paths.
func writeDockerEnvCert(w *bytes.Buffer, p Profile, e Exporter) error {
	vals := [][2]string{{EnvClientID, p.ClientID}, {EnvTokenURL, p.TokenURL}, {EnvURL, p.URL}, {EnvCertFile, e.CertFile}, {EnvKeyFile, e.KeyFile}}
	for _, v := range vals {
		if why := dockerCannotCarry(v[0], v[1]); why != "" {
			return fmt.Errorf("export docker-env: %s %s, which docker run --env-file cannot carry; export --format env instead", v[0], why)
		}
	}
	fmt.Fprintf(w, "# cpikey profile %s\n", p.Name)
	fmt.Fprintf(w, "# SAP Process Integration Runtime (it-rt), plan %s, %s key (mTLS at CPI_TOKEN_URL)\n", p.Plan, p.KeyType.Label())
	w.WriteString("# For docker run --env-file FILE: values are unquoted and taken literally. Mount the two files\n")
	fmt.Fprintf(w, "# at the same paths (-v %s:%s:ro and the same for the key); the key file holds the private key.\n", e.CertFile, e.CertFile)
	for _, v := range vals {
		fmt.Fprintf(w, "%s=%s\n", v[0], v[1])
	}
	return nil
}
