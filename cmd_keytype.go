package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/cpikey/cpikey/steps"
)

// keyTypeFlags adds the key type flags of the headless interface; their
// checks and the reading of the certificate files are steps.ApplyKeyFlags.
func keyTypeFlags(fl *pflag.FlagSet, kf *steps.KeyFlags) {
	fl.StringVar(&kf.Type, "key-type", "client-id-secret", "service key `TYPE`: client-id-secret|certificate|external-certificate")
	fl.IntVar(&kf.Validity, "validity", 0, "with --key-type certificate: validity in `DAYS`, 1-365 (default 365)")
	fl.IntVar(&kf.KeyLength, "key-length", 0, "with --key-type certificate: RSA key length in `BITS`, 1024|2048|3072|4096 (default 2048)")
	fl.StringVar(&kf.Cert, "cert", "", "with --key-type external-certificate: the certificate `FILE` your CA issued (PEM)")
	fl.StringVar(&kf.CertKey, "cert-key", "", "with --key-type external-certificate: its private key `FILE` (PEM; default: the key cpikey csr made)")
	fl.BoolVar(&kf.Pinning, "certificate-pinning", true, "with --key-type external-certificate, plan integration-flow: pin the certificate (=false: compare only subject and issuer)")
}

// renewSpec is what rotate's flags ask of the new key: nil for none (renew
// as it is), else a certificate or external certificate spec.
func renewSpec(kf steps.KeyFlags) (*steps.KeySpec, error) {
	var in steps.HeadlessInput
	switch {
	case kf.Cert != "" || kf.CertKey != "":
		kf.Type = "external-certificate"
	case kf.Validity != 0 || kf.KeyLength != 0:
		kf.Type = "certificate"
	default:
		return nil, nil
	}
	if err := in.ApplyKeyFlags(kf, os.ReadFile); err != nil {
		return nil, err
	}
	return &in.KeySpec, nil
}
