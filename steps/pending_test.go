package steps

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestPending_SaysWhatSAPStillDoes(t *testing.T) {
	cases := []struct {
		name   string
		events []Event
		want   string
	}{
		{"nothing started", nil, ""},
		{"login is not SAP's work", []Event{{Step: StepLogin, Kind: EventStarted, Message: "Logging in"}}, ""},
		{"started, maybe sent", []Event{{Step: StepInstance, Kind: EventStarted, Message: "Instance X in space dev"}},
			"SAP may still be working on: Instance X in space dev"},
		{"accepted and polled", []Event{{Step: StepInstance, Kind: EventStarted, Message: "Instance X in space dev"},
			{Step: StepInstance, Kind: EventWaiting, Message: "Creating instance X", State: "POLLING"}},
			"SAP is still working on: Creating instance X (POLLING)"},
		{"finished", []Event{{Step: StepInstance, Kind: EventWaiting, Message: "Creating instance X"},
			{Step: StepInstance, Kind: EventDone, Message: "Instance X created"}}, ""},
		{"we stopped watching, SAP did not stop", []Event{{Step: StepKey, Kind: EventWaiting, Message: "Creating service key K"},
			{Step: StepKey, Kind: EventFailed, Err: fmt.Errorf("wait: %w", context.Canceled), Fatal: true}},
			"SAP is still working on: Creating service key K"},
		{"a real failure ends it", []Event{{Step: StepKey, Kind: EventWaiting, Message: "Creating service key K"},
			{Step: StepKey, Kind: EventFailed, Err: errors.New("broker said no"), Fatal: true}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Pending
			for _, e := range tc.events {
				p.Report(e)
			}
			if got := p.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
