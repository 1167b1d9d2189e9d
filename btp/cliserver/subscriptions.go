package cliserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Subscriptions to multitenant applications (integration-suite.md §1):
// accounts/subscription?list|get and accounts/subaccount?subscribe.
// Subscribing is asynchronous: poll GetSubscription until State leaves
// IN_PROCESS. A failed subscription is a successful read whose State ends
// in _FAILED and whose Error says why (§1.6).

// Subscription is one application entry: one per application and plan the
// subaccount is entitled to (§1.2, §1.3).
type Subscription struct {
	AppName           string // technical name, the one the API wants
	CommercialAppName string // the entitlement's service name for Integration Suite
	PlanName          string
	State             string // NOT_SUBSCRIBED, IN_PROCESS, SUBSCRIBED, SUBSCRIBE_FAILED, ...
	SubscriptionURL   string // present once SUBSCRIBED
	DisplayName       string
	Category          string // shared by several apps: never identify an app by it
	// Error is set when a (un)subscription failed.
	Error        *SubscriptionError
	CreatedDate  time.Time
	ModifiedDate time.Time
}

// SubscriptionError is subscriptionError (§1.3); AppError is itself a
// JSON string.
type SubscriptionError struct {
	Message  string
	AppError string
}

type wireSubscription struct {
	AppName           string  `json:"appName"`
	CommercialAppName string  `json:"commercialAppName"`
	PlanName          string  `json:"planName"`
	State             string  `json:"state"`
	SubscriptionURL   string  `json:"subscriptionUrl"`
	DisplayName       string  `json:"displayName"`
	Category          string  `json:"category"`
	CreatedDate       cisTime `json:"createdDate"`
	ModifiedDate      cisTime `json:"modifiedDate"`
	SubscriptionError *struct {
		ErrorMessage string `json:"errorMessage"`
		AppError     string `json:"appError"`
	} `json:"subscriptionError"`
}

func (w *wireSubscription) toSubscription() Subscription {
	s := Subscription{AppName: w.AppName, CommercialAppName: w.CommercialAppName, PlanName: w.PlanName, State: w.State,
		SubscriptionURL: w.SubscriptionURL, DisplayName: w.DisplayName, Category: w.Category,
		CreatedDate: time.Time(w.CreatedDate), ModifiedDate: time.Time(w.ModifiedDate)}
	if e := w.SubscriptionError; e != nil && (e.ErrorMessage != "" || e.AppError != "") {
		s.Error = &SubscriptionError{Message: e.ErrorMessage, AppError: e.AppError}
	}
	return s
}

// ListSubscriptions lists the applications the subaccount is entitled to,
// with their subscription state.
func (c *Client) ListSubscriptions(ctx context.Context, subaccountID string) ([]Subscription, error) {
	if subaccountID == "" {
		return nil, errors.New("btp list accounts/subscription: a subaccount is required")
	}
	var ans struct {
		Applications []wireSubscription `json:"applications"`
	}
	if _, err := c.run(ctx, "accounts/subscription", "list", map[string]string{"subaccount": subaccountID}, &ans); err != nil {
		return nil, err
	}
	out := make([]Subscription, 0, len(ans.Applications))
	for i := range ans.Applications {
		out = append(out, ans.Applications[i].toSubscription())
	}
	return out, nil
}

// GetSubscription reads one application entry; planName may be empty. A
// not-subscribed application is an entry with State NOT_SUBSCRIBED, not
// an error (§1.4).
func (c *Client) GetSubscription(ctx context.Context, subaccountID, appName, planName string) (*Subscription, error) {
	if subaccountID == "" || appName == "" {
		return nil, errors.New("btp get accounts/subscription: subaccount and application are required")
	}
	var w wireSubscription
	p := map[string]string{"subaccount": subaccountID, "appName": appName, "planName": planName}
	if _, err := c.run(ctx, "accounts/subscription", "get", p, &w); err != nil {
		return nil, err
	}
	s := w.toSubscription()
	return &s, nil
}

// Subscribe starts subscribing the subaccount to an application (by its
// technical name) and returns the job id. It lives on the subaccount
// object, not on accounts/subscription (§1.1).
func (c *Client) Subscribe(ctx context.Context, subaccountID, appName, planName string) (string, error) {
	if subaccountID == "" || appName == "" {
		return "", errors.New("btp subscribe accounts/subaccount: subaccount and application are required")
	}
	var ans struct {
		JobID json.RawMessage `json:"jobId"`
	}
	p := map[string]string{"subaccount": subaccountID, "appName": appName, "planName": planName}
	if _, err := c.run(ctx, "accounts/subaccount", "subscribe", p, &ans); err != nil {
		return "", err
	}
	var job string
	if err := json.Unmarshal(ans.JobID, &job); err != nil {
		job = string(ans.JobID) // tolerate a numeric id
	}
	if job == "" {
		return "", fmt.Errorf("btp subscribe accounts/subaccount: the answer carries no job id")
	}
	return job, nil
}
