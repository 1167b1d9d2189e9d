package main

import "github.com/spf13/cobra"

// notesKey is the annotation holding a command's closing notes in --help.
const notesKey = "notes"

// helpTemplate puts examples first, as gh does, and closes with the
// command's notes (environment, exit codes).
const helpTemplate = `{{if .HasParent}}{{.CommandPath}}: {{end}}{{.Short}}.

{{.UsageString}}`

const usageTemplate = `{{if .HasExample}}Examples:
{{.Example}}

{{end}}Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMAND [flags]

Commands (after a run, each key is kept as a profile; cpikey COMMAND --help for more):{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{with index .Annotations "notes"}}

{{.}}{{end}}
`

// setHelp installs the templates on root; subcommands inherit them.
func setHelp(root *cobra.Command) {
	cobra.EnableCommandSorting = false // the table's order: list before export
	root.DisableFlagsInUseLine = true
	root.SetHelpTemplate(helpTemplate)
	root.SetUsageTemplate(usageTemplate)
}
