package profiles

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// The command line of `cpikey call [PROFILE] [METHOD] PATH`, read here so
// the rules have tests of their own.

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

func isMethod(s string) bool {
	for _, m := range httpMethods {
		if strings.EqualFold(s, m) {
			return true
		}
	}
	return false
}

// ParseCallArgs splits [PROFILE] [METHOD] PATH: PATH is the last argument;
// one before it is METHOD if it names an HTTP method, else PROFILE.
func ParseCallArgs(args []string) (profile, method, path string, err error) {
	usage := func(msg string) error { return &steps.UsageError{Msg: msg} }
	switch len(args) {
	case 0:
		return "", "", "", usage("PATH is missing, e.g. cpikey call /http/your/endpoint -d @message.xml")
	case 1:
		path = args[0]
		if !strings.HasPrefix(path, "/") && !strings.Contains(path, "://") && !isMethod(path) {
			return "", "", "", usage(fmt.Sprintf("PATH is missing (%q is no path: a PATH starts with /, e.g. /http/your/endpoint)", path))
		}
	case 2:
		if isMethod(args[0]) {
			method = args[0]
		} else {
			profile = args[0]
		}
		path = args[1]
	case 3:
		if !isMethod(args[1]) {
			return "", "", "", usage(fmt.Sprintf("%q is not an HTTP method (%s)", args[1], strings.Join(httpMethods, ", ")))
		}
		profile, method, path = args[0], args[1], args[2]
	default:
		return "", "", "", usage(fmt.Sprintf("unexpected argument %q: cpikey call [PROFILE] [METHOD] PATH", args[3]))
	}
	if isMethod(path) {
		return "", "", "", usage(fmt.Sprintf("PATH is missing after %s", strings.ToUpper(path)))
	}
	return profile, strings.ToUpper(method), path, nil
}

// headersCPIKeySets are set by cpikey itself, never from -H.
var headersCPIKeySets = map[string]string{
	"Authorization":  "cpikey sends the key's token itself (or with --basic its clientid and secret)",
	"Host":           "the host is the key's url",
	"Content-Length": "it is the length of the body",
}

// ParseHeaders reads -H 'Name: value' lines.
func ParseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderName(name) {
			return nil, &steps.UsageError{Msg: fmt.Sprintf("-H %q: write a header as 'Name: value'", l)}
		}
		if why, ok := headersCPIKeySets[http.CanonicalHeaderKey(name)]; ok {
			return nil, &steps.UsageError{Msg: fmt.Sprintf("-H %s: not settable here: %s", name, why)}
		}
		value = strings.TrimSpace(value)
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, &steps.UsageError{Msg: fmt.Sprintf("-H %s: the value holds a line break", name)}
		}
		h.Add(name, value)
	}
	return h, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}

// ReadData reads -d: "@FILE" (a file), "-" or "@-" (stdin), else the text
// itself. name is the file name (for the content type), "" otherwise.
func ReadData(arg string, stdin io.Reader) (body []byte, name string, err error) {
	switch {
	case arg == "-" || arg == "@-":
		if stdin == nil {
			return nil, "", errors.New("-d -: no standard input")
		}
		body, err = transport.ReadBody(stdin, 0)
		if err != nil {
			return nil, "", fmt.Errorf("-d -: read standard input: %w", err)
		}
		return body, "", nil
	case strings.HasPrefix(arg, "@"):
		name = arg[1:]
		f, err := os.Open(name)
		if err != nil {
			return nil, "", &steps.UsageError{Msg: fmt.Sprintf("-d @%s: %v", name, err)}
		}
		defer f.Close()
		body, err = transport.ReadBody(f, 0)
		if err != nil {
			return nil, "", fmt.Errorf("-d @%s: %w", name, err)
		}
		return body, name, nil
	}
	return []byte(arg), "", nil
}
