package cf

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Managed service instances (cloud-foundry.md §6).

// Last-operation states of instances and keys (note the space in
// "in progress").
const (
	StateInitial    = "initial"
	StateInProgress = "in progress"
	StateSucceeded  = "succeeded"
	StateFailed     = "failed"
)

// LastOperation is the last create/update/delete of an instance or key.
type LastOperation struct {
	Type        string // create, update, delete
	State       string // StateInitial, StateInProgress, StateSucceeded, StateFailed
	Description string // the broker's text; "" when none
	UpdatedAt   time.Time
}

// Instance is a service instance.
type Instance struct {
	GUID          string
	Name          string
	Type          string // managed or user-provided
	SpaceGUID     string
	PlanGUID      string
	LastOperation LastOperation
	CreatedAt     time.Time
}

// Ready reports a successfully created (or updated) instance.
func (i *Instance) Ready() bool {
	return i.LastOperation.State == StateSucceeded && i.LastOperation.Type != "delete"
}

type wireLastOp struct {
	Type        string  `json:"type"`
	State       string  `json:"state"`
	Description *string `json:"description"`
	UpdatedAt   string  `json:"updated_at"`
}

func (w wireLastOp) op() LastOperation {
	o := LastOperation{Type: w.Type, State: w.State, UpdatedAt: parseTime(w.UpdatedAt)}
	if w.Description != nil {
		o.Description = *w.Description
	}
	return o
}

type wireInstance struct {
	GUID          string     `json:"guid"`
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	CreatedAt     string     `json:"created_at"`
	LastOperation wireLastOp `json:"last_operation"`
	Relationships struct {
		Space       relationship `json:"space"`
		ServicePlan relationship `json:"service_plan"`
	} `json:"relationships"`
}

func (w wireInstance) instance() Instance {
	return Instance{GUID: w.GUID, Name: w.Name, Type: w.Type, SpaceGUID: w.Relationships.Space.guid(),
		PlanGUID: w.Relationships.ServicePlan.guid(), LastOperation: w.LastOperation.op(), CreatedAt: parseTime(w.CreatedAt)}
}

// FindInstance returns the instance of that name that lives in the space,
// or nil. Instances merely shared into the space are ignored.
func (c *Client) FindInstance(ctx context.Context, name, spaceGUID string) (*Instance, error) {
	ws, err := listAll[wireInstance](ctx, c, "/v3/service_instances", url.Values{"names": {name}, "space_guids": {spaceGUID}})
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if w.Name == name && w.Relationships.Space.guid() == spaceGUID {
			i := w.instance()
			return &i, nil
		}
	}
	return nil, nil
}

// GetInstance reads an instance by GUID; a missing one is a 404 *Error.
func (c *Client) GetInstance(ctx context.Context, guid string) (*Instance, error) {
	var w wireInstance
	if err := c.getJSON(ctx, c.apiRef("/v3/service_instances/"+url.PathEscape(guid), nil), &w); err != nil {
		return nil, err
	}
	i := w.instance()
	return &i, nil
}

// CreateInstance starts creating a managed instance and returns the job
// URL to wait for. params is the broker's JSON object (may be nil).
func (c *Client) CreateInstance(ctx context.Context, name, spaceGUID, planGUID string, params json.RawMessage) (string, error) {
	p, err := jsonObject(params)
	if err != nil {
		return "", err
	}
	type data struct {
		GUID string `json:"guid"`
	}
	type rel struct {
		Data data `json:"data"`
	}
	body := struct {
		Type          string          `json:"type"`
		Name          string          `json:"name"`
		Parameters    json.RawMessage `json:"parameters,omitempty"`
		Relationships struct {
			Space       rel `json:"space"`
			ServicePlan rel `json:"service_plan"`
		} `json:"relationships"`
	}{Type: "managed", Name: name, Parameters: p}
	body.Relationships.Space.Data.GUID = spaceGUID
	body.Relationships.ServicePlan.Data.GUID = planGUID
	r, err := c.cc(ctx, http.MethodPost, c.apiRef("/v3/service_instances", nil), body)
	if err != nil {
		return "", err
	}
	return c.acceptedJob("create service instance", r)
}

// DeleteInstance starts deleting an instance (and its keys) and returns
// the job URL; "" when CF deleted it at once (204).
func (c *Client) DeleteInstance(ctx context.Context, guid string) (string, error) {
	r, err := c.cc(ctx, http.MethodDelete, c.apiRef("/v3/service_instances/"+url.PathEscape(guid), nil), nil)
	if err != nil {
		return "", err
	}
	if r.status == http.StatusNoContent {
		return "", nil
	}
	return c.acceptedJob("delete service instance", r)
}

// ListInstances lists the managed instances living in the space whose plan
// is one of planGUIDs (all plans when none), sorted as the API returns
// them (by creation). Instances merely shared into the space are left out.
func (c *Client) ListInstances(ctx context.Context, spaceGUID string, planGUIDs ...string) ([]Instance, error) {
	q := url.Values{"space_guids": {spaceGUID}, "type": {"managed"}}
	if len(planGUIDs) > 0 {
		q.Set("service_plan_guids", strings.Join(planGUIDs, ","))
	}
	ws, err := listAll[wireInstance](ctx, c, "/v3/service_instances", q)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, len(ws))
	for _, w := range ws {
		if w.Relationships.Space.guid() == spaceGUID {
			out = append(out, w.instance())
		}
	}
	return out, nil
}

// UpdateInstanceParameters sends new broker parameters to an instance
// (cf update-service -c) and returns the job URL to wait for: CF asks the
// broker, so the answer is always asynchronous.
func (c *Client) UpdateInstanceParameters(ctx context.Context, guid string, params json.RawMessage) (string, error) {
	p, err := jsonObject(params)
	if err != nil {
		return "", err
	}
	if p == nil {
		return "", errors.New("cloud foundry update service instance: no parameters to send")
	}
	body := struct {
		Parameters json.RawMessage `json:"parameters"`
	}{p}
	r, err := c.cc(ctx, http.MethodPatch, c.apiRef("/v3/service_instances/"+url.PathEscape(guid), nil), body)
	if err != nil {
		return "", err
	}
	return c.acceptedJob("update service instance", r)
}
