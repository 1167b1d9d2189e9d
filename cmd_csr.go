package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpikey/cpikey/steps"
)

// newCSRCmd makes the key pair of an External Certificate key here: the
// private key goes only to the OS keychain, the certificate signing
// request (no secret in it) to a file or stdout for the company's CA.
func newCSRCmd(f *factory) *cobra.Command {
	var subject, output string
	var bits int
	var force bool
	c := &cobra.Command{
		Use:   "csr --subject DN [--key-length BITS] [-o FILE] [--force]",
		Short: "make a private key (kept in the OS keychain) and a certificate request for an External Certificate key",
		Example: `  cpikey csr --subject 'CN=sender.acme.example,O=ACME Corp,C=DE' -o sender.csr
  # your CA signs sender.csr and returns sender.pem; then:
  cpikey --yes --key-type external-certificate --cert sender.pem --subaccount my-dev-subaccount`,
		Annotations: map[string]string{notesKey: `The private key never leaves this machine: it is kept in the OS keychain, and cpikey finds it again
by the public key of the certificate your CA issues (--cert without --cert-key). The request holds no
secret. Under --demo the simulated customer CA signs the request at once: FILE.pem (or stdout, after it).
Exit codes: 0 done; 1 failed; 2 usage error; 130 interrupted.`},
		DisableFlagsInUseLine: true,
		Args:                  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if force && output == "" {
				return &flagError{errors.New("--force needs -o FILE")}
			}
			ctx, stop := f.signalContext()
			defer stop()
			flow, err := f.Flow(steps.Config{})
			if err != nil {
				return err
			}
			csr, err := flow.NewCSR(ctx, subject, bits)
			if err != nil {
				return err
			}
			var signed []byte
			signedFile := strings.TrimSuffix(output, ".csr") + ".pem"
			if f.demo {
				s, err := f.DemoServer()
				if err != nil {
					return err
				}
				if signed, err = s.SignCSR(csr.PEM, steps.DefaultValidity); err != nil {
					return fmt.Errorf("the simulated CA: %w", err)
				}
			}
			if output == "" {
				f.stdout.Write(csr.PEM) //nolint:errcheck // stdout
				f.stdout.Write(signed)  //nolint:errcheck
			} else {
				if err := writePublic(output, csr.PEM, force); err != nil {
					return err
				}
				if signed != nil {
					if err := writePublic(signedFile, signed, force); err != nil {
						return err
					}
				}
			}
			fmt.Fprintf(f.stderr, "✓ Private key kept in the OS keychain (service %s, account %s); it never leaves this machine.\n", flow.KeychainService(), csr.Account)
			where := "the request above"
			if output != "" {
				where = output
			}
			if signed != nil {
				if output == "" {
					signedFile = "printed after the request"
				}
				fmt.Fprintf(f.stderr, "✓ The simulated CA signed %s: %s\n", where, signedFile)
				return nil
			}
			fmt.Fprintf(f.stderr, "Next: your CA signs %s (subject %s); give its certificate to %s --key-type external-certificate --cert FILE.\n", where, csr.Subject, f.command())
			return nil
		},
	}
	c.Flags().StringVar(&subject, "subject", "", "the certificate's subject `DN`, most specific first, e.g. CN=sender.acme.example,O=ACME Corp,C=DE")
	c.Flags().IntVar(&bits, "key-length", 0, "RSA key length in `BITS`: 2048|3072|4096 (default 2048)")
	c.Flags().StringVarP(&output, "output", "o", "", "write the request to `FILE` instead of stdout")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing FILE")
	c.Flags().SortFlags = false
	return c
}

// writePublic writes data that holds no secret (a request, a certificate),
// refusing to replace a file unless force.
func writePublic(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	fh, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return &flagError{fmt.Errorf("%s already exists; use --force to overwrite it", path)}
	}
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
