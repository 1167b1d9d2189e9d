package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/configdir"
)

// newSimCmd serves the demo's simulator in the foreground, so the cf CLI,
// go-cfclient or a consultant's own automation can be tried offline.
func newSimCmd(f *factory) *cobra.Command {
	var cliAddr, cfAddr, tokenAddr, runtimeAddr, apiAddr string
	c := &cobra.Command{
		Use:   "sim [--cf-addr HOST:PORT] [--cli-addr HOST:PORT] [--token-addr HOST:PORT] [--runtime-addr HOST:PORT] [--api-addr HOST:PORT]",
		Short: "serve the simulated SAP BTP on loopback until Ctrl+C (the demo's landscape)",
		Example: `  cpikey sim --cf-addr 127.0.0.1:9022
  cf api http://127.0.0.1:9022 --skip-ssl-validation && cf auth admin@example.com PASSWORD`,
		Annotations: map[string]string{notesKey: `The state persists like the demo's (cpikey --demo-reset --demo starts afresh). Only loopback
addresses are served; a port of 0 (the default) picks a free one.`},
		DisableFlagsInUseLine: true,
		Args:                  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dirs, err := f.Dirs()
			if err != nil {
				return err
			}
			dirs = dirs.Demo()
			if f.demo { // Dirs is already the demo namespace
				dirs, _ = f.Dirs()
			}
			if err := configdir.EnsurePrivate(dirs.Cache); err != nil {
				return err
			}
			cfg := demoSimConfig(filepath.Join(dirs.Cache, demoStateFile))
			cfg.CLIServerAddr, cfg.CFAddr, cfg.XSUAAAddr = cliAddr, cfAddr, tokenAddr
			cfg.RuntimeAddr, cfg.TenantAPIAddr = runtimeAddr, apiAddr
			s, err := sim.Start(cfg)
			if err != nil {
				return fmt.Errorf("start the simulator: %w", err)
			}
			defer s.Close()
			fmt.Fprintln(f.stdout, "Serving the simulated SAP BTP (Ctrl+C stops it):")
			if err := s.WriteSummary(f.stdout); err != nil {
				return err
			}
			ctx, stop := f.signalContext()
			defer stop()
			<-ctx.Done()
			fmt.Fprintln(f.stderr, "Stopped; the landscape is kept for the next cpikey sim or --demo run.")
			return nil
		},
	}
	c.Flags().StringVar(&cfAddr, "cf-addr", "", "listen `HOST:PORT` of the Cloud Foundry API and its UAA")
	c.Flags().StringVar(&cliAddr, "cli-addr", "", "listen `HOST:PORT` of the BTP CLI server")
	c.Flags().StringVar(&tokenAddr, "token-addr", "", "listen `HOST:PORT` of the XSUAA token endpoint of keys")
	c.Flags().StringVar(&runtimeAddr, "runtime-addr", "", "listen `HOST:PORT` of the Cloud Integration runtime (url of integration-flow keys)")
	c.Flags().StringVar(&apiAddr, "api-addr", "", "listen `HOST:PORT` of the Cloud Integration API (url of api keys)")
	return c
}
