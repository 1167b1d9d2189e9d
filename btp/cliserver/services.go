package cliserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// services/* commands: the subaccount's Service Manager (§5.8-§5.11).

// smTime accepts RFC 3339 times and tolerates empty values.
type smTime time.Time

func (t *smTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil || s == "" {
		return nil
	}
	if p, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*t = smTime(p)
	}
	return nil
}

// ParseSMLabels parses Service Manager labels as responses carry them:
// "k = v1, v2; k2 = v3" (";" between keys, "," between values).
func ParseSMLabels(s string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out[k] = append(out[k], x)
			}
		}
		if _, seen := out[k]; !seen {
			out[k] = []string{}
		}
	}
	return out
}

// smLabels decodes a labels field: the string form, or a map.
func smLabels(raw json.RawMessage) map[string][]string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return ParseSMLabels(s)
	}
	var m map[string][]string
	if json.Unmarshal(raw, &m) == nil {
		return m
	}
	return nil
}

// --- offerings and plans ---------------------------------------------------------

// Offering is a Service Manager service offering.
type Offering struct {
	ID                   string
	Name                 string
	DisplayName          string
	Description          string
	CatalogID            string
	CatalogName          string
	BrokerID             string
	Ready                bool
	Bindable             bool
	InstancesRetrievable bool // false: instance?get parameters=true is "not supported"
	BindingsRetrievable  bool
	Tags                 []string
}

type wireOffering struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	Description          string   `json:"description"`
	CatalogID            string   `json:"catalog_id"`
	CatalogName          string   `json:"catalog_name"`
	BrokerID             string   `json:"broker_id"`
	Ready                bool     `json:"ready"`
	Bindable             bool     `json:"bindable"`
	InstancesRetrievable bool     `json:"instances_retrievable"`
	BindingsRetrievable  bool     `json:"bindings_retrievable"`
	Tags                 []string `json:"tags"`
	Metadata             struct {
		DisplayName string `json:"displayName"`
	} `json:"metadata"`
}

func (w *wireOffering) toOffering() Offering {
	return Offering{ID: w.ID, Name: w.Name, DisplayName: w.Metadata.DisplayName, Description: w.Description,
		CatalogID: w.CatalogID, CatalogName: w.CatalogName, BrokerID: w.BrokerID, Ready: w.Ready, Bindable: w.Bindable,
		InstancesRetrievable: w.InstancesRetrievable, BindingsRetrievable: w.BindingsRetrievable, Tags: w.Tags}
}

// ListOfferings lists the offerings the subaccount can use (an offering
// shows up only once one of its plans is entitled).
func (c *Client) ListOfferings(ctx context.Context, subaccountID string) ([]Offering, error) {
	var w []wireOffering
	if _, err := c.run(ctx, "services/offering", "list", map[string]string{"subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	out := make([]Offering, 0, len(w))
	for i := range w {
		out = append(out, w[i].toOffering())
	}
	return out, nil
}

// GetOffering reads an offering by name (IsNotFound when not available).
func (c *Client) GetOffering(ctx context.Context, subaccountID, name string) (*Offering, error) {
	var w wireOffering
	if _, err := c.run(ctx, "services/offering", "get", map[string]string{"subaccount": subaccountID, "name": name}, &w); err != nil {
		return nil, err
	}
	o := w.toOffering()
	return &o, nil
}

// Plan is a Service Manager service plan.
type Plan struct {
	ID           string
	Name         string
	Description  string
	CatalogID    string
	CatalogName  string
	OfferingID   string
	OfferingName string // CLI extra field
	DataCenter   string
	Free         bool
	Ready        bool
	Labels       map[string][]string
}

type wirePlan struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	CatalogID    string          `json:"catalog_id"`
	CatalogName  string          `json:"catalog_name"`
	OfferingID   string          `json:"service_offering_id"`
	OfferingName string          `json:"service_offering_name"`
	DataCenter   string          `json:"data_center"`
	Free         bool            `json:"free"`
	Ready        bool            `json:"ready"`
	Labels       json.RawMessage `json:"labels"`
}

func (w *wirePlan) toPlan() Plan {
	return Plan{ID: w.ID, Name: w.Name, Description: w.Description, CatalogID: w.CatalogID, CatalogName: w.CatalogName,
		OfferingID: w.OfferingID, OfferingName: w.OfferingName, DataCenter: w.DataCenter, Free: w.Free, Ready: w.Ready,
		Labels: smLabels(w.Labels)}
}

// ListPlans lists the plans the subaccount can use.
func (c *Client) ListPlans(ctx context.Context, subaccountID string) ([]Plan, error) {
	var w []wirePlan
	if _, err := c.run(ctx, "services/plan", "list", map[string]string{"subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	out := make([]Plan, 0, len(w))
	for i := range w {
		out = append(out, w[i].toPlan())
	}
	return out, nil
}

// GetPlanByName reads offering/plan; IsNotFound when the subaccount cannot
// use it (typically: not entitled yet).
func (c *Client) GetPlanByName(ctx context.Context, subaccountID, offering, plan string) (*Plan, error) {
	var w wirePlan
	p := map[string]string{"subaccount": subaccountID, "name": plan, "offeringName": offering}
	if _, err := c.run(ctx, "services/plan", "get", p, &w); err != nil {
		return nil, err
	}
	if w.OfferingName == "" {
		w.OfferingName = offering
	}
	pl := w.toPlan()
	return &pl, nil
}

// --- instances --------------------------------------------------------------------

// Operation is an SM last_operation.
type Operation struct {
	ID         string
	Type       string // create, update, delete
	State      string // in progress, succeeded, failed
	Ready      bool
	Reschedule bool
	// Description explains a failed operation (the broker's words when a
	// broker refused).
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Operation states.
const (
	StateInProgress = "in progress"
	StateSucceeded  = "succeeded"
	StateFailed     = "failed"
)

type wireOperation struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	State      string          `json:"state"`
	Ready      bool            `json:"ready"`
	Reschedule bool            `json:"reschedule"`
	Errors     json.RawMessage `json:"errors"`
	CreatedAt  smTime          `json:"created_at"`
	UpdatedAt  smTime          `json:"updated_at"`
}

func (w *wireOperation) toOperation() *Operation {
	if w == nil {
		return nil
	}
	op := &Operation{ID: w.ID, Type: w.Type, State: w.State, Ready: w.Ready, Reschedule: w.Reschedule,
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt)}
	if len(w.Errors) > 0 && string(w.Errors) != "null" {
		var e Error
		e.fillFromBody(w.Errors)
		switch {
		case e.BrokerDescription != "":
			op.Description = e.BrokerDescription
		case e.Message != "":
			op.Description = e.Message
		default:
			op.Description = string(w.Errors)
		}
	}
	return op
}

// Instance is a Service Manager service instance.
type Instance struct {
	ID            string
	Name          string
	PlanID        string
	SubaccountID  string
	PlatformID    string
	CreatedBy     string
	Ready         bool
	Usable        bool
	Labels        map[string][]string
	Context       map[string]any
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastOperation *Operation // nil in listings
}

type wireInstance struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	PlanID        string          `json:"service_plan_id"`
	SubaccountID  string          `json:"subaccount_id"`
	PlatformID    string          `json:"platform_id"`
	CreatedBy     string          `json:"created_by"`
	Ready         bool            `json:"ready"`
	Usable        bool            `json:"usable"`
	Labels        json.RawMessage `json:"labels"`
	Context       map[string]any  `json:"context"`
	CreatedAt     smTime          `json:"created_at"`
	UpdatedAt     smTime          `json:"updated_at"`
	LastOperation *wireOperation  `json:"last_operation"`
}

func (w *wireInstance) toInstance() Instance {
	return Instance{ID: w.ID, Name: w.Name, PlanID: w.PlanID, SubaccountID: w.SubaccountID, PlatformID: w.PlatformID,
		CreatedBy: w.CreatedBy, Ready: w.Ready, Usable: w.Usable, Labels: smLabels(w.Labels), Context: w.Context,
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt), LastOperation: w.LastOperation.toOperation()}
}

// State returns the last operation's state ("" when unknown).
func (i *Instance) State() string {
	if i.LastOperation == nil {
		return ""
	}
	return i.LastOperation.State
}

// CreateInstanceRequest creates a service instance in the subaccount's
// Service Manager ("other" environment).
type CreateInstanceRequest struct {
	SubaccountID string
	Name         string
	PlanID       string // from GetPlanByName
	// Parameters are sent as a JSON string: a map/struct, json.RawMessage
	// or a JSON document as string/[]byte; nil omits them.
	Parameters any
	Labels     map[string][]string
}

// CreateInstanceResult says what the create started.
type CreateInstanceResult struct {
	ID       string
	Async    bool      // backend 202: poll GetInstance until succeeded/failed
	Instance *Instance // set when the backend created it synchronously (201)
}

// CreateInstance creates an instance. It is never retried after a broken
// connection (it may have been created): look it up by name first.
func (c *Client) CreateInstance(ctx context.Context, req CreateInstanceRequest) (*CreateInstanceResult, error) {
	if req.SubaccountID == "" || req.Name == "" || req.PlanID == "" {
		return nil, errors.New("btp create services/instance: subaccount, name and plan are required")
	}
	params, err := jsonParam(req.Parameters)
	if err != nil {
		return nil, fmt.Errorf("btp create services/instance: parameters: %w", err)
	}
	labels, err := labelsParam(req.Labels)
	if err != nil {
		return nil, err
	}
	resp, err := c.Execute(ctx, "services/instance", "create", map[string]string{
		"subaccount": req.SubaccountID, "name": req.Name, "plan": req.PlanID, "parameters": params, "labels": labels})
	if err != nil {
		return nil, err
	}
	if resp.BackendStatus == http.StatusAccepted {
		var acc struct {
			ID string `json:"id"`
		}
		if err := decode("services/instance", "create", resp.Body, &acc); err != nil {
			return nil, err
		}
		return &CreateInstanceResult{ID: acc.ID, Async: true}, nil
	}
	var w wireInstance
	if err := decode("services/instance", "create", resp.Body, &w); err != nil {
		return nil, err
	}
	in := w.toInstance()
	return &CreateInstanceResult{ID: in.ID, Instance: &in}, nil
}

// GetInstance reads an instance with its last operation (IsNotFound when gone).
func (c *Client) GetInstance(ctx context.Context, subaccountID, id string) (*Instance, error) {
	return c.getInstance(ctx, map[string]string{"subaccount": subaccountID, "id": id})
}

// GetInstanceByName reads an instance by name (IsNotFound when none).
func (c *Client) GetInstanceByName(ctx context.Context, subaccountID, name string) (*Instance, error) {
	return c.getInstance(ctx, map[string]string{"subaccount": subaccountID, "name": name})
}

func (c *Client) getInstance(ctx context.Context, p map[string]string) (*Instance, error) {
	if p["subaccount"] == "" || (p["id"] == "" && p["name"] == "") {
		return nil, errors.New("btp get services/instance: subaccount and instance are required")
	}
	p["parameters"] = "false"
	var w wireInstance
	if _, err := c.run(ctx, "services/instance", "get", p, &w); err != nil {
		return nil, err
	}
	in := w.toInstance()
	return &in, nil
}

// ListInstances lists the subaccount's Service Manager instances (without
// last operations).
func (c *Client) ListInstances(ctx context.Context, subaccountID string) ([]Instance, error) {
	var w []wireInstance
	if _, err := c.run(ctx, "services/instance", "list", map[string]string{"subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(w))
	for i := range w {
		out = append(out, w[i].toInstance())
	}
	return out, nil
}

// UpdateInstanceParameters sends new broker parameters to an instance
// (btp update services/instance --parameters); the backend answers 202 and
// the caller polls GetInstance until the update's state is final.
func (c *Client) UpdateInstanceParameters(ctx context.Context, subaccountID, id string, parameters any) error {
	if subaccountID == "" || id == "" {
		return errors.New("btp update services/instance: subaccount and instance are required")
	}
	params, err := jsonParam(parameters)
	if err != nil || params == "" {
		return fmt.Errorf("btp update services/instance: parameters: %v", firstErr(err, errors.New("none given")))
	}
	_, err = c.Execute(ctx, "services/instance", "update", map[string]string{"subaccount": subaccountID, "id": id, "parameters": params})
	return err
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// DeleteInstance starts deleting an instance; poll GetInstance until
// IsNotFound. Its keys must be deleted first.
func (c *Client) DeleteInstance(ctx context.Context, subaccountID, id string) error {
	_, err := c.Execute(ctx, "services/instance", "delete", map[string]string{"subaccount": subaccountID, "id": id, "confirm": "true"})
	return err
}

// --- bindings ---------------------------------------------------------------------

// Binding is a Service Manager binding (service key). Credentials hold the
// secret; printing a Binding with fmt redacts them.
type Binding struct {
	ID            string
	Name          string
	InstanceID    string
	InstanceName  string // in listings
	SubaccountID  string
	CreatedBy     string
	Ready         bool
	Labels        map[string][]string
	Credentials   json.RawMessage // only from GetBinding*/ListBindings
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastOperation *Operation
}

// String describes the binding without its credentials.
func (b Binding) String() string {
	creds := "none"
	if len(b.Credentials) > 0 {
		creds = "REDACTED"
	}
	return fmt.Sprintf("cliserver.Binding{ID:%q Name:%q Instance:%q Ready:%t Credentials:%s}", b.ID, b.Name, b.InstanceID, b.Ready, creds)
}

// GoString is String.
func (b Binding) GoString() string { return b.String() }

// Format makes every fmt verb print String.
func (b Binding) Format(f fmt.State, _ rune) { io.WriteString(f, b.String()) } //nolint:errcheck

type wireBinding struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	InstanceID    string          `json:"service_instance_id"`
	InstanceName  string          `json:"service_instance_name"`
	SubaccountID  string          `json:"subaccount_id"`
	CreatedBy     string          `json:"created_by"`
	Ready         bool            `json:"ready"`
	Labels        json.RawMessage `json:"labels"`
	Credentials   json.RawMessage `json:"credentials"`
	CreatedAt     smTime          `json:"created_at"`
	UpdatedAt     smTime          `json:"updated_at"`
	LastOperation *wireOperation  `json:"last_operation"`
}

func (w *wireBinding) toBinding() Binding {
	b := Binding{ID: w.ID, Name: w.Name, InstanceID: w.InstanceID, InstanceName: w.InstanceName, SubaccountID: w.SubaccountID,
		CreatedBy: w.CreatedBy, Ready: w.Ready, Labels: smLabels(w.Labels), CreatedAt: time.Time(w.CreatedAt),
		UpdatedAt: time.Time(w.UpdatedAt), LastOperation: w.LastOperation.toOperation()}
	if len(w.Credentials) > 0 && string(w.Credentials) != "null" {
		b.Credentials = w.Credentials
	}
	return b
}

// State returns the last operation's state ("" when unknown).
func (b *Binding) State() string {
	if b.LastOperation == nil {
		return ""
	}
	return b.LastOperation.State
}

// CreateBindingRequest creates a service key for an SM instance.
type CreateBindingRequest struct {
	SubaccountID string
	InstanceID   string
	Name         string
	Parameters   any // as CreateInstanceRequest.Parameters
	Labels       map[string][]string
}

// CreateBinding creates a key. The answer has no credentials: read them
// with GetBinding once its State is succeeded.
func (c *Client) CreateBinding(ctx context.Context, req CreateBindingRequest) (*Binding, error) {
	if req.SubaccountID == "" || req.InstanceID == "" || req.Name == "" {
		return nil, errors.New("btp create services/binding: subaccount, instance and name are required")
	}
	params, err := jsonParam(req.Parameters)
	if err != nil {
		return nil, fmt.Errorf("btp create services/binding: parameters: %w", err)
	}
	labels, err := labelsParam(req.Labels)
	if err != nil {
		return nil, err
	}
	var w wireBinding
	if _, err := c.run(ctx, "services/binding", "create", map[string]string{"subaccount": req.SubaccountID,
		"serviceInstanceID": req.InstanceID, "name": req.Name, "parameters": params, "labels": labels}, &w); err != nil {
		return nil, err
	}
	b := w.toBinding()
	c.remember(b.Credentials)
	return &b, nil
}

// GetBinding reads a key with its credentials (IsNotFound when gone).
func (c *Client) GetBinding(ctx context.Context, subaccountID, id string) (*Binding, error) {
	return c.getBinding(ctx, map[string]string{"subaccount": subaccountID, "id": id})
}

// GetBindingByName reads a key by name with its credentials.
func (c *Client) GetBindingByName(ctx context.Context, subaccountID, name string) (*Binding, error) {
	return c.getBinding(ctx, map[string]string{"subaccount": subaccountID, "name": name})
}

func (c *Client) getBinding(ctx context.Context, p map[string]string) (*Binding, error) {
	if p["subaccount"] == "" || (p["id"] == "" && p["name"] == "") {
		return nil, errors.New("btp get services/binding: subaccount and key are required")
	}
	var w wireBinding
	if _, err := c.run(ctx, "services/binding", "get", p, &w); err != nil {
		return nil, err
	}
	b := w.toBinding()
	c.remember(b.Credentials)
	return &b, nil
}

// ListBindings lists the subaccount's keys, credentials included.
func (c *Client) ListBindings(ctx context.Context, subaccountID string) ([]Binding, error) {
	var w []wireBinding
	if _, err := c.run(ctx, "services/binding", "list", map[string]string{"subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	out := make([]Binding, 0, len(w))
	for i := range w {
		out = append(out, w[i].toBinding())
		c.remember(out[i].Credentials)
	}
	return out, nil
}

// DeleteBinding deletes a key (no confirm parameter for bindings, §5.11).
func (c *Client) DeleteBinding(ctx context.Context, subaccountID, id string) error {
	_, err := c.Execute(ctx, "services/binding", "delete", map[string]string{"subaccount": subaccountID, "id": id})
	return err
}

// jsonParam renders a parameters value as the JSON string the CLI expects.
func jsonParam(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		return validJSONObject(v)
	case []byte:
		return validJSONObject(v)
	case string:
		return validJSONObject([]byte(v))
	}
	b, err := encodeJSON(v)
	if err != nil {
		return "", err
	}
	return validJSONObject(b)
}

func validJSONObject(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	return string(b), nil
}

// labelsParam renders labels as the JSON map string of create requests.
func labelsParam(l map[string][]string) (string, error) {
	if len(l) == 0 {
		return "", nil
	}
	b, err := encodeJSON(l) // map keys come out sorted
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b)), nil
}
