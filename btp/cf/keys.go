package cf

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// Service keys: credential bindings of type key (cloud-foundry.md §7).

// Key is a service key.
type Key struct {
	GUID          string
	Name          string
	InstanceGUID  string
	LastOperation LastOperation
	CreatedAt     time.Time
}

type wireKey struct {
	GUID          string     `json:"guid"`
	Name          string     `json:"name"`
	CreatedAt     string     `json:"created_at"`
	LastOperation wireLastOp `json:"last_operation"`
	Relationships struct {
		ServiceInstance relationship `json:"service_instance"`
	} `json:"relationships"`
}

func (w wireKey) key() Key {
	return Key{GUID: w.GUID, Name: w.Name, InstanceGUID: w.Relationships.ServiceInstance.guid(),
		LastOperation: w.LastOperation.op(), CreatedAt: parseTime(w.CreatedAt)}
}

// FindKey returns the key of that name on the instance, or nil.
func (c *Client) FindKey(ctx context.Context, name, instanceGUID string) (*Key, error) {
	ws, err := listAll[wireKey](ctx, c, "/v3/service_credential_bindings",
		url.Values{"names": {name}, "service_instance_guids": {instanceGUID}, "type": {"key"}})
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if w.Name == name && w.Relationships.ServiceInstance.guid() == instanceGUID {
			k := w.key()
			return &k, nil
		}
	}
	return nil, nil
}

// GetKey reads a key by GUID; a missing one is a 404 *Error.
func (c *Client) GetKey(ctx context.Context, guid string) (*Key, error) {
	var w wireKey
	if err := c.getJSON(ctx, c.apiRef("/v3/service_credential_bindings/"+url.PathEscape(guid), nil), &w); err != nil {
		return nil, err
	}
	k := w.key()
	return &k, nil
}

// CreateKey starts creating a service key and returns the job URL. params
// is the broker's JSON object, e.g. {"key-type":"client_id_secret"}.
func (c *Client) CreateKey(ctx context.Context, name, instanceGUID string, params json.RawMessage) (string, error) {
	p, err := jsonObject(params)
	if err != nil {
		return "", err
	}
	body := map[string]any{
		"type": "key", "name": name,
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]string{"guid": instanceGUID}}},
	}
	if p != nil {
		body["parameters"] = p
	}
	r, err := c.cc(ctx, http.MethodPost, c.apiRef("/v3/service_credential_bindings", nil), body)
	if err != nil {
		return "", err
	}
	return c.acceptedJob("create service key", r)
}

// KeyDetails returns the key's credentials object as the broker made it
// (for it-rt: {"oauth":{...}}). It holds the client secret: never log it.
func (c *Client) KeyDetails(ctx context.Context, guid string) (json.RawMessage, error) {
	var d struct {
		Credentials json.RawMessage `json:"credentials"`
	}
	if err := c.getJSON(ctx, c.apiRef("/v3/service_credential_bindings/"+url.PathEscape(guid)+"/details", nil), &d); err != nil {
		return nil, err
	}
	if len(d.Credentials) == 0 || string(d.Credentials) == "null" {
		return nil, errors.New("cloud foundry: the service key has no credentials")
	}
	return d.Credentials, nil
}

// DeleteKey starts deleting a key and returns the job URL; "" when CF
// deleted it at once (204).
func (c *Client) DeleteKey(ctx context.Context, guid string) (string, error) {
	r, err := c.cc(ctx, http.MethodDelete, c.apiRef("/v3/service_credential_bindings/"+url.PathEscape(guid), nil), nil)
	if err != nil {
		return "", err
	}
	if r.status == http.StatusNoContent {
		return "", nil
	}
	return c.acceptedJob("delete service key", r)
}

// ListKeys lists the service keys of an instance (credential bindings of
// type key), without credentials.
func (c *Client) ListKeys(ctx context.Context, instanceGUID string) ([]Key, error) {
	ws, err := listAll[wireKey](ctx, c, "/v3/service_credential_bindings",
		url.Values{"service_instance_guids": {instanceGUID}, "type": {"key"}})
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(ws))
	for _, w := range ws {
		if w.Relationships.ServiceInstance.guid() == instanceGUID {
			out = append(out, w.key())
		}
	}
	return out, nil
}
