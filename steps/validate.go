package steps

import (
	"fmt"

	"github.com/cpikey/cpikey/btp/itrt"
)

// APIRoles are the roles plan api accepts (the form's multi-select).
var APIRoles = itrt.APIRoles

// ValidateName checks an instance or key name before any request; kind is
// "instance" or "key" and appears in the message.
func ValidateName(kind, name string) error {
	if err := itrt.ValidateName(name); err != nil {
		return fmt.Errorf("invalid %s name: %w", kind, err)
	}
	return nil
}

// ValidateRoles checks the roles for plan before anything is sent.
func ValidateRoles(plan string, roles []string) error {
	return itrt.ValidateRoles(plan, roles)
}
