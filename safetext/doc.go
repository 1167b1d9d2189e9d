// Package safetext is what may reach a terminal: text from SAP or any
// server made inert, and secrets masked.
package safetext
