package cliserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// accounts/environment-instance (§5.7). The Cloud Foundry coordinates sit
// in "labels", a JSON document inside a string, under keys with spaces.

// EnvironmentInstance is an environment (Cloud Foundry org, Kyma cluster).
type EnvironmentInstance struct {
	ID              string
	Name            string
	EnvironmentType string // cloudfoundry, kyma
	ServiceName     string
	PlanName        string
	LandscapeLabel  string // e.g. cf-eu10
	PlatformID      string // the CF org GUID for Cloud Foundry
	SubaccountID    string
	State           string // OK, CREATING, ...
	StateMessage    string
	Status          string
	// Labels and Parameters are the decoded JSON strings; null labels are
	// left out, other non-string label values are rendered as JSON.
	Labels     map[string]string
	Parameters map[string]any
	// From the labels: "API Endpoint", "Org ID", "Org Name".
	APIEndpoint  string
	OrgID        string
	OrgName      string
	CreatedDate  time.Time
	ModifiedDate time.Time
}

type wireEnvironment struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	EnvironmentType string  `json:"environmentType"`
	ServiceName     string  `json:"serviceName"`
	PlanName        string  `json:"planName"`
	LandscapeLabel  string  `json:"landscapeLabel"`
	PlatformID      string  `json:"platformId"`
	SubaccountGUID  string  `json:"subaccountGUID"`
	State           string  `json:"state"`
	StateMessage    string  `json:"stateMessage"`
	Status          string  `json:"status"`
	Labels          any     `json:"labels"`
	Parameters      any     `json:"parameters"`
	CreatedDate     cisTime `json:"createdDate"`
	ModifiedDate    cisTime `json:"modifiedDate"`
}

func (w *wireEnvironment) toEnvironment() EnvironmentInstance {
	e := EnvironmentInstance{ID: w.ID, Name: w.Name, EnvironmentType: w.EnvironmentType, ServiceName: w.ServiceName,
		PlanName: w.PlanName, LandscapeLabel: w.LandscapeLabel, PlatformID: w.PlatformID, SubaccountID: w.SubaccountGUID,
		State: w.State, StateMessage: w.StateMessage, Status: w.Status,
		CreatedDate: time.Time(w.CreatedDate), ModifiedDate: time.Time(w.ModifiedDate)}
	if m := jsonStringObject(w.Labels); m != nil {
		e.Labels = make(map[string]string, len(m))
		for k, v := range m {
			if s, ok := v.(string); ok {
				e.Labels[k] = s
			} else if v == nil {
				continue // a null label is an absent one, not the text "null"
			} else if b, err := json.Marshal(v); err == nil {
				e.Labels[k] = string(b)
			}
		}
	}
	e.Parameters = jsonStringObject(w.Parameters)
	e.APIEndpoint = e.Labels["API Endpoint"]
	e.OrgID = e.Labels["Org ID"]
	e.OrgName = e.Labels["Org Name"]
	return e
}

// jsonStringObject decodes a JSON object sent as a string (or, leniently,
// as an object). Unparsable values give nil: one odd environment must not
// hide the others.
func jsonStringObject(v any) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return v
	case string:
		if strings.TrimSpace(v) == "" {
			return nil
		}
		var m map[string]any
		if json.Unmarshal([]byte(v), &m) != nil {
			return nil
		}
		return m
	}
	return nil
}

// ListEnvironmentInstances lists the subaccount's environment instances.
func (c *Client) ListEnvironmentInstances(ctx context.Context, subaccountID string) ([]EnvironmentInstance, error) {
	if subaccountID == "" {
		return nil, fmt.Errorf("btp list accounts/environment-instance: no subaccount ID given")
	}
	var w struct {
		Instances []wireEnvironment `json:"environmentInstances"`
	}
	if _, err := c.run(ctx, "accounts/environment-instance", "list", map[string]string{"subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	out := make([]EnvironmentInstance, 0, len(w.Instances))
	for i := range w.Instances {
		out = append(out, w.Instances[i].toEnvironment())
	}
	return out, nil
}

// GetEnvironmentInstance reads one environment instance (IsNotFound if gone).
func (c *Client) GetEnvironmentInstance(ctx context.Context, subaccountID, id string) (*EnvironmentInstance, error) {
	var w wireEnvironment
	if _, err := c.run(ctx, "accounts/environment-instance", "get", map[string]string{"subaccount": subaccountID, "environmentID": id}, &w); err != nil {
		return nil, err
	}
	e := w.toEnvironment()
	return &e, nil
}

// CloudFoundry returns the Cloud Foundry environment of a listing, nil if
// the subaccount has none.
func CloudFoundry(envs []EnvironmentInstance) *EnvironmentInstance {
	for i := range envs {
		if envs[i].EnvironmentType == "cloudfoundry" {
			return &envs[i]
		}
	}
	return nil
}
