package cliserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

// accounts/entitlement (§5.5, §5.6). The listing is several MB (icons and
// data-centre lists of every service the global account owns); it is
// decoded as a stream and only the services asked for are kept.

// Entitlements is the part of an entitlement listing cpikey needs.
type Entitlements struct {
	SubaccountID string // the subaccount the assignments were read for
	DirectoryID  string // the directory view, "" for the global account view
	Services     []*EntitlementService
}

// EntitlementService is one service of the listing.
type EntitlementService struct {
	Name        string
	DisplayName string
	// Owned: listed in entitledServices, i.e. the global account (or the
	// directory of the view) owns the service and can assign it.
	Owned bool
	Plans []*EntitlementPlan
}

// EntitlementPlan is a plan with what the owner has and what the
// subaccount got.
type EntitlementPlan struct {
	Name               string
	DisplayName        string
	UniqueIdentifier   string
	Category           string // SERVICE, ELASTIC_SERVICE, APPLICATION, ...
	ProvisioningMethod string
	Owned              bool
	Unlimited          bool
	Amount             float64 // owned in total
	RemainingAmount    float64
	// Assignments are all assignmentInfo entries of the plan in the view.
	Assignments []Assignment
	// Assigned, State, StateMessage and AssignedAmount describe the
	// subaccount's own assignment; State is "" when it has none.
	Assigned       bool
	State          string // STARTED, PROCESSING, OK, PROCESSING_FAILED
	StateMessage   string
	AssignedAmount float64
}

// Assignment is one assignmentInfo entry.
type Assignment struct {
	EntityID                string
	EntityType              string // SUBACCOUNT, DIRECTORY
	State                   string
	StateMessage            string
	Amount                  float64
	UnlimitedAmountAssigned bool
	AutoAssigned            bool
	ParentID                string
	ParentType              string // GLOBAL_ACCOUNT, DIRECTORY
	CreatedDate             time.Time
	ModifiedDate            time.Time
}

// Service returns the named service, nil if the listing has none.
func (e *Entitlements) Service(name string) *EntitlementService {
	for _, s := range e.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Owns reports whether the global account (or directory) owns service.
func (e *Entitlements) Owns(service string) bool {
	s := e.Service(service)
	return s != nil && s.Owned
}

// Plan returns service/plan, nil if absent.
func (e *Entitlements) Plan(service, plan string) *EntitlementPlan {
	if s := e.Service(service); s != nil {
		return s.Plan(plan)
	}
	return nil
}

// Plan returns the named plan, nil if absent.
func (s *EntitlementService) Plan(name string) *EntitlementPlan {
	for _, p := range s.Plans {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// EnableStyle reports whether a plan is assigned with enable=true rather
// than an amount (§5.6): elastic and application plans, or when no amount
// is wanted.
func EnableStyle(category string, amount int) bool {
	switch category {
	case "ELASTIC_SERVICE", "ELASTIC_LIMITED", "APPLICATION":
		return true
	}
	return amount <= 0
}

// ListEntitlements reads the entitlement listing of a subaccount ("" for
// the whole view). directoryID selects the directory view, needed when the
// subaccount sits below a directory that manages entitlements (see
// GlobalAccount.ManagingDirectory). Only services named in keepServices
// are kept (all when none are named).
func (c *Client) ListEntitlements(ctx context.Context, subdomain, subaccountID, directoryID string, keepServices ...string) (*Entitlements, error) {
	p := map[string]string{"globalAccount": c.globalAccount(subdomain), "subaccountFilter": subaccountID, "directory": directoryID}
	resp, err := c.command(ctx, "accounts/entitlement", "list", p)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ents, err := decodeEntitlements(transport.LimitedReader(resp.Body, 0), subaccountID, keepServices)
	if err != nil {
		return nil, fmt.Errorf("btp list accounts/entitlement: reading the listing: %w", err)
	}
	ents.DirectoryID = directoryID
	return ents, nil
}

// Wire shapes: only the fields kept, so skipped services cost little.
type wireEntService struct {
	Name         string        `json:"name"`
	DisplayName  string        `json:"displayName"`
	ServicePlans []wireEntPlan `json:"servicePlans"`
}

type wireEntPlan struct {
	Name               string           `json:"name"`
	DisplayName        string           `json:"displayName"`
	UniqueIdentifier   string           `json:"uniqueIdentifier"`
	Category           string           `json:"category"`
	ProvisioningMethod string           `json:"provisioningMethod"`
	Unlimited          bool             `json:"unlimited"`
	Amount             *float64         `json:"amount"`
	RemainingAmount    *float64         `json:"remainingAmount"`
	AssignmentInfo     []wireAssignment `json:"assignmentInfo"`
}

type wireAssignment struct {
	EntityID                string   `json:"entityId"`
	EntityType              string   `json:"entityType"`
	EntityState             string   `json:"entityState"`
	StateMessage            string   `json:"stateMessage"`
	Amount                  *float64 `json:"amount"`
	UnlimitedAmountAssigned bool     `json:"unlimitedAmountAssigned"`
	AutoAssigned            bool     `json:"autoAssigned"`
	ParentID                string   `json:"parentId"`
	ParentType              string   `json:"parentType"`
	CreatedDate             cisTime  `json:"createdDate"`
	ModifiedDate            cisTime  `json:"modifiedDate"`
}

// decodeEntitlements streams the listing: tokens for the outer object and
// arrays, one Decode per service (whose unknown fields, the bulk, are
// skipped without being stored).
func decodeEntitlements(r io.Reader, subaccountID string, keep []string) (*Entitlements, error) {
	keepSet := make(map[string]bool, len(keep))
	for _, k := range keep {
		keepSet[k] = true
	}
	out := &Entitlements{SubaccountID: subaccountID}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		switch key {
		case "entitledServices", "assignedServices":
			owned := key == "entitledServices"
			t, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if t == nil {
				continue // null
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return nil, fmt.Errorf("%s is not a list", key)
			}
			for dec.More() {
				var ws wireEntService
				if err := dec.Decode(&ws); err != nil {
					return nil, err
				}
				if len(keepSet) > 0 && !keepSet[ws.Name] {
					continue
				}
				out.merge(&ws, owned, subaccountID)
			}
			if err := expectDelim(dec, ']'); err != nil {
				return nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return out, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("unexpected %v, want %q", t, string(want))
	}
	return nil
}

func (e *Entitlements) merge(ws *wireEntService, owned bool, subaccountID string) {
	svc := e.Service(ws.Name)
	if svc == nil {
		svc = &EntitlementService{Name: ws.Name}
		e.Services = append(e.Services, svc)
	}
	if svc.DisplayName == "" {
		svc.DisplayName = ws.DisplayName
	}
	svc.Owned = svc.Owned || owned
	for i := range ws.ServicePlans {
		wp := &ws.ServicePlans[i]
		p := svc.Plan(wp.Name)
		if wp.UniqueIdentifier != "" {
			// Same plan name with different pricing: tell them apart.
			p = nil
			for _, x := range svc.Plans {
				if x.Name == wp.Name && (x.UniqueIdentifier == "" || x.UniqueIdentifier == wp.UniqueIdentifier) {
					p = x
				}
			}
		}
		if p == nil {
			p = &EntitlementPlan{Name: wp.Name}
			svc.Plans = append(svc.Plans, p)
		}
		if p.DisplayName == "" {
			p.DisplayName = wp.DisplayName
		}
		if p.UniqueIdentifier == "" {
			p.UniqueIdentifier = wp.UniqueIdentifier
		}
		if p.Category == "" {
			p.Category = wp.Category
		}
		if p.ProvisioningMethod == "" {
			p.ProvisioningMethod = wp.ProvisioningMethod
		}
		if owned {
			p.Owned = true
			p.Unlimited = wp.Unlimited
			if wp.Amount != nil {
				p.Amount = *wp.Amount
			}
			if wp.RemainingAmount != nil {
				p.RemainingAmount = *wp.RemainingAmount
			}
		} else if wp.Unlimited {
			p.Unlimited = true
		}
		for _, wa := range wp.AssignmentInfo {
			a := Assignment{EntityID: wa.EntityID, EntityType: wa.EntityType, State: wa.EntityState, StateMessage: wa.StateMessage,
				UnlimitedAmountAssigned: wa.UnlimitedAmountAssigned, AutoAssigned: wa.AutoAssigned, ParentID: wa.ParentID,
				ParentType: wa.ParentType, CreatedDate: time.Time(wa.CreatedDate), ModifiedDate: time.Time(wa.ModifiedDate)}
			if wa.Amount != nil {
				a.Amount = *wa.Amount
			}
			p.Assignments = append(p.Assignments, a)
			if subaccountID != "" && a.EntityID == subaccountID && (a.EntityType == "" || a.EntityType == "SUBACCOUNT") {
				p.Assigned, p.State, p.StateMessage, p.AssignedAmount = true, a.State, a.StateMessage, a.Amount
			}
		}
	}
}

// AssignRequest assigns (or enables) one plan for a subaccount.
type AssignRequest struct {
	Subdomain    string // global account; "" = the session's
	SubaccountID string
	Service      string
	Plan         string
	// Category of the plan from the listing; with Amount it decides
	// between enable and amount (EnableStyle).
	Category     string
	Amount       int
	DirectoryID  string // an AUTHORIZATIONS directory whose admin assigns
	PlanUniqueID string // disambiguates plans sharing a name
}

// AssignEntitlement starts the assignment and returns the CIS job id. It is
// asynchronous: poll ListEntitlements until the plan's State is OK
// (PROCESSING_FAILED: show StateMessage).
func (c *Client) AssignEntitlement(ctx context.Context, req AssignRequest) (string, error) {
	if req.SubaccountID == "" || req.Service == "" || req.Plan == "" {
		return "", errors.New("btp assign accounts/entitlement: subaccount, service and plan are required")
	}
	p := map[string]string{
		"globalAccount":        c.globalAccount(req.Subdomain),
		"subaccount":           req.SubaccountID,
		"serviceName":          req.Service,
		"servicePlanName":      req.Plan,
		"directoryID":          req.DirectoryID,
		"planUniqueIdentifier": req.PlanUniqueID,
	}
	if EnableStyle(req.Category, req.Amount) {
		p["enable"] = "true"
	} else {
		p["amount"] = strconv.Itoa(req.Amount)
	}
	var ans struct {
		JobID json.RawMessage `json:"jobId"`
	}
	if _, err := c.run(ctx, "accounts/entitlement", "assign", p, &ans); err != nil {
		return "", err
	}
	var job string
	if err := json.Unmarshal(ans.JobID, &job); err != nil {
		job = string(ans.JobID) // tolerate a numeric id
	}
	return job, nil
}
