package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cpikey/cpikey/profiles"
)

const callNotes = `PATH is relative to the key's url: /http/... (HTTPS sender) and /cxf/... (SOAP sender) for
integration-flow keys, /api/v1/... for api keys. A full URL is accepted on the key's host only; any
other host is refused before anything is sent. METHOD defaults to GET, or POST with -d.

The token is kept in the OS keychain only and reused until a minute before it expires, so a second
call is one round trip; --fresh-token fetches a new one. A sender adapter that is CSRF protected
gets a token fetch and one resend, and cpikey says so. Nothing else is retried.

` + profileNote + `

Exit codes: 0 for 2xx and 3xx; 1 otherwise, with a one-line diagnosis on stderr; 2 usage error;
130 interrupted.`

// newCallCmd is `cpikey call [PROFILE] [METHOD] PATH`.
func newCallCmd(f *factory) *cobra.Command {
	var (
		data                                string
		headers                             []string
		basic, include, jsonOut, freshToken bool
	)
	c := &cobra.Command{
		Use:                   "call [PROFILE] [METHOD] PATH [-d @FILE|-|TEXT] [-H 'Name: value']... [--basic] [-i] [--json] [--fresh-token]",
		DisableFlagsInUseLine: true,
		Short:                 "call an iFlow endpoint or the API with a profile's key, and say in one line why a call fails",
		Example: `  cpikey call /http/your/endpoint -d @message.xml
  cpikey call /cxf/your/soap/endpoint -d @envelope.xml -H 'SOAPAction: "urn:order"' -i
  echo '{"id":1}' | cpikey call acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key PUT /http/orders -d -
  cpikey call acme-dev/CPI_API/CPI_API-key '/api/v1/MessageProcessingLogs?$top=5&$format=json' --json`,
		Annotations: map[string]string{notesKey: callNotes},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := f.signalContext()
			defer stop()
			name, method, path, err := profiles.ParseCallArgs(args)
			if err != nil {
				return err
			}
			hdr, err := profiles.ParseHeaders(headers)
			if err != nil {
				return err
			}
			req := profiles.CallRequest{Profile: name, Method: method, Path: path, Header: hdr, Basic: basic, FreshToken: freshToken}
			if cmd.Flags().Changed("data") {
				if req.Body, req.BodyName, err = profiles.ReadData(data, f.stdin); err != nil {
					return err
				}
			}
			mgr, err := f.Manager()
			if err != nil {
				return err
			}
			res, err := mgr.Call(ctx, req)
			if err != nil {
				return err
			}
			out, ok := f.stdout.(*os.File)
			o := profiles.CallOutput{JSON: jsonOut, Include: include, Terminal: ok && isTerminal(out)}
			if err := profiles.WriteCall(f.stdout, f.stderr, res, o); err != nil {
				return err
			}
			if !res.OK() {
				return &exitError{exitFailed} // the diagnosis is printed
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&data, "data", "d", "", "send a body: @FILE, - (stdin) or the TEXT itself (the method becomes POST)")
	fl.StringArrayVarP(&headers, "header", "H", nil, "add a header 'Name: value' (repeatable)")
	fl.BoolVar(&basic, "basic", false, "authenticate with clientid and secret (Basic) instead of a token; iFlow endpoints only")
	fl.BoolVarP(&include, "include", "i", false, "print the status and the headers on stderr")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object: status, headers, timing, body size and body")
	fl.BoolVar(&freshToken, "fresh-token", false, "fetch a new token instead of reusing the kept one")
	fl.SortFlags = false
	c.ValidArgsFunction = f.completeProfiles
	return c
}
