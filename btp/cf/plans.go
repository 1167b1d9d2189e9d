package cf

import (
	"context"
	"fmt"
	"net/url"
)

// Service plans (cloud-foundry.md §5.2).

// Plan is a service plan visible to the user.
type Plan struct {
	GUID           string
	Name           string
	Description    string
	OfferingGUID   string
	VisibilityType string // public, admin, organization, space
	Available      bool
	Bindable       bool
}

type wirePlan struct {
	GUID           string `json:"guid"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	VisibilityType string `json:"visibility_type"`
	Available      bool   `json:"available"`
	BrokerCatalog  struct {
		Features struct {
			Bindable bool `json:"bindable"`
		} `json:"features"`
	} `json:"broker_catalog"`
	Relationships struct {
		ServiceOffering relationship `json:"service_offering"`
	} `json:"relationships"`
}

// FindPlan returns the plan of the offering that is usable in the space, or
// nil when it is not visible there: not entitled, or the offering is not in
// the marketplace. An empty list is how CF says so (§5.2).
func (c *Client) FindPlan(ctx context.Context, offering, plan, spaceGUID string) (*Plan, error) {
	q := url.Values{"names": {plan}, "service_offering_names": {offering}}
	if spaceGUID != "" {
		q.Set("space_guids", spaceGUID)
	}
	ws, err := firstOf[wirePlan](ctx, c, "/v3/service_plans", q)
	if err != nil {
		return nil, err
	}
	switch len(ws) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("cloud foundry: %d plans named %q of offering %q are visible (from different service brokers); cannot choose", len(ws), plan, offering)
	}
	w := ws[0]
	return &Plan{GUID: w.GUID, Name: w.Name, Description: w.Description, OfferingGUID: w.Relationships.ServiceOffering.guid(),
		VisibilityType: w.VisibilityType, Available: w.Available, Bindable: w.BrokerCatalog.Features.Bindable}, nil
}
