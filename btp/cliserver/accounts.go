package cliserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// accounts/global-account and accounts/subaccount (§5.1-§5.4).

// cisLayout is the CIS date format, e.g. "May 11, 2023, 8:59:23 AM" (UTC).
const cisLayout = "Jan _2, 2006, 3:04:05 PM"

// cisTime accepts CIS dates as text or as epoch milliseconds.
type cisTime time.Time

func (t *cisTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if p, err := time.ParseInLocation(cisLayout, s, time.UTC); err == nil {
			*t = cisTime(p)
			return nil
		}
		if p, err := time.Parse(time.RFC3339Nano, s); err == nil {
			*t = cisTime(p)
			return nil
		}
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			*t = cisTime(time.UnixMilli(ms).UTC())
		}
		return nil // an odd date must not fail a listing
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil
	}
	*t = cisTime(time.UnixMilli(int64(f)).UTC())
	return nil
}

// GlobalAccount is the global account, with its hierarchy when asked for.
type GlobalAccount struct {
	GUID            string
	DisplayName     string
	Subdomain       string
	LicenseType     string
	CommercialModel string
	EntityState     string
	ContractStatus  string
	CreatedDate     time.Time
	// Directories and Subaccounts directly below the global account
	// (filled only with the hierarchy).
	Directories []*Directory
	Subaccounts []Subaccount
}

// Directory groups subaccounts; Features tell who manages what
// (ENTITLEMENTS: pass the directory to ListEntitlements; AUTHORIZATIONS:
// its admins may pass it as DirectoryID when assigning).
type Directory struct {
	GUID          string
	ParentGUID    string
	DisplayName   string
	DirectoryType string // PROJECT, FOLDER
	Features      []string
	Children      []*Directory
	Subaccounts   []Subaccount
}

// HasFeature reports whether the directory has feature f (e.g. ENTITLEMENTS).
func (d *Directory) HasFeature(f string) bool {
	for _, x := range d.Features {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// Subaccount is a BTP subaccount.
type Subaccount struct {
	GUID              string
	TechnicalName     string
	DisplayName       string
	Subdomain         string
	Region            string
	GlobalAccountGUID string
	ParentGUID        string
	ParentType        string // ROOT, PROJECT, FOLDER
	ParentFeatures    []string
	State             string
	StateMessage      string
	UsedForProduction string
	Description       string
	BetaEnabled       bool
	Labels            map[string][]string
	CreatedDate       time.Time
	ModifiedDate      time.Time
	// ClosestEntitlementManagedParentGUID is the GA or directory that
	// manages the subaccount's entitlements (GetSubaccount only).
	ClosestEntitlementManagedParentGUID string
}

type wireSubaccount struct {
	GUID              string              `json:"guid"`
	TechnicalName     string              `json:"technicalName"`
	DisplayName       string              `json:"displayName"`
	Subdomain         string              `json:"subdomain"`
	Region            string              `json:"region"`
	GlobalAccountGUID string              `json:"globalAccountGUID"`
	ParentGUID        string              `json:"parentGUID"`
	ParentType        string              `json:"parentType"`
	ParentFeatures    []string            `json:"parentFeatures"`
	State             string              `json:"state"`
	StateMessage      string              `json:"stateMessage"`
	UsedForProduction string              `json:"usedForProduction"`
	Description       string              `json:"description"`
	BetaEnabled       bool                `json:"betaEnabled"`
	Labels            map[string][]string `json:"labels"`
	CreatedDate       cisTime             `json:"createdDate"`
	ModifiedDate      cisTime             `json:"modifiedDate"`
	ClosestParent     string              `json:"closestEntitlementManagedParentGUID"`
}

func (w *wireSubaccount) toSubaccount() Subaccount {
	return Subaccount{
		GUID: w.GUID, TechnicalName: w.TechnicalName, DisplayName: w.DisplayName, Subdomain: w.Subdomain,
		Region: w.Region, GlobalAccountGUID: w.GlobalAccountGUID, ParentGUID: w.ParentGUID, ParentType: w.ParentType,
		ParentFeatures: w.ParentFeatures, State: w.State, StateMessage: w.StateMessage, UsedForProduction: w.UsedForProduction,
		Description: w.Description, BetaEnabled: w.BetaEnabled, Labels: w.Labels,
		CreatedDate: time.Time(w.CreatedDate), ModifiedDate: time.Time(w.ModifiedDate),
		ClosestEntitlementManagedParentGUID: w.ClosestParent,
	}
}

type wireDirectory struct {
	GUID          string           `json:"guid"`
	ParentGUID    string           `json:"parentGUID"`
	ParentGuid    string           `json:"parentGuid"` //nolint:revive // both spellings exist on the wire
	DisplayName   string           `json:"displayName"`
	DirectoryType string           `json:"directoryType"`
	Features      []string         `json:"directoryFeatures"`
	Children      []wireDirectory  `json:"children"`
	Subaccounts   []wireSubaccount `json:"subaccounts"`
}

func (w *wireDirectory) toDirectory() *Directory {
	d := &Directory{GUID: w.GUID, ParentGUID: w.ParentGUID, DisplayName: w.DisplayName, DirectoryType: w.DirectoryType, Features: w.Features}
	if d.ParentGUID == "" {
		d.ParentGUID = w.ParentGuid
	}
	for i := range w.Children {
		d.Children = append(d.Children, w.Children[i].toDirectory())
	}
	for i := range w.Subaccounts {
		d.Subaccounts = append(d.Subaccounts, w.Subaccounts[i].toSubaccount())
	}
	return d
}

type wireGlobalAccount struct {
	GUID            string           `json:"guid"`
	DisplayName     string           `json:"displayName"`
	Subdomain       string           `json:"subdomain"`
	LicenseType     string           `json:"licenseType"`
	CommercialModel string           `json:"commercialModel"`
	EntityState     string           `json:"entityState"`
	ContractStatus  string           `json:"contractStatus"`
	CreatedDate     cisTime          `json:"createdDate"`
	Children        []wireDirectory  `json:"children"`
	Subaccounts     []wireSubaccount `json:"subaccounts"`
}

// GetGlobalAccount reads the global account ("" = the session's); with
// hierarchy it includes directories and subaccounts (§5.2).
func (c *Client) GetGlobalAccount(ctx context.Context, subdomain string, hierarchy bool) (*GlobalAccount, error) {
	p := map[string]string{"globalAccount": c.globalAccount(subdomain)}
	if hierarchy {
		p["showHierarchy"] = "true"
	}
	var w wireGlobalAccount
	if _, err := c.run(ctx, "accounts/global-account", "get", p, &w); err != nil {
		return nil, err
	}
	ga := &GlobalAccount{GUID: w.GUID, DisplayName: w.DisplayName, Subdomain: w.Subdomain, LicenseType: w.LicenseType,
		CommercialModel: w.CommercialModel, EntityState: w.EntityState, ContractStatus: w.ContractStatus,
		CreatedDate: time.Time(w.CreatedDate)}
	for i := range w.Children {
		ga.Directories = append(ga.Directories, w.Children[i].toDirectory())
	}
	for i := range w.Subaccounts {
		ga.Subaccounts = append(ga.Subaccounts, w.Subaccounts[i].toSubaccount())
	}
	return ga, nil
}

// walk visits every directory with its path of display names.
func (ga *GlobalAccount) walk(f func(d *Directory, path []string)) {
	var rec func(ds []*Directory, path []string)
	rec = func(ds []*Directory, path []string) {
		for _, d := range ds {
			p := append(append([]string(nil), path...), d.DisplayName)
			f(d, p)
			rec(d.Children, p)
		}
	}
	rec(ga.Directories, nil)
}

// SubaccountPaths maps every subaccount GUID of the hierarchy to its
// directory path, e.g. "Integration Projects / QA"; "" at the top level.
func (ga *GlobalAccount) SubaccountPaths() map[string]string {
	out := map[string]string{}
	for _, s := range ga.Subaccounts {
		out[s.GUID] = ""
	}
	ga.walk(func(d *Directory, path []string) {
		for _, s := range d.Subaccounts {
			out[s.GUID] = strings.Join(path, " / ")
		}
	})
	return out
}

// AllSubaccounts lists the subaccounts of the hierarchy, depth first.
func (ga *GlobalAccount) AllSubaccounts() []Subaccount {
	out := append([]Subaccount(nil), ga.Subaccounts...)
	ga.walk(func(d *Directory, _ []string) { out = append(out, d.Subaccounts...) })
	return out
}

// Directory returns the directory with that GUID, nil if none.
func (ga *GlobalAccount) Directory(guid string) *Directory {
	var found *Directory
	ga.walk(func(d *Directory, _ []string) {
		if d.GUID == guid {
			found = d
		}
	})
	return found
}

// ManagingDirectory returns the nearest ancestor directory of the
// subaccount that has feature (ENTITLEMENTS or AUTHORIZATIONS), or nil
// when the global account manages it.
func (ga *GlobalAccount) ManagingDirectory(subaccountGUID, feature string) *Directory {
	parents := map[string]*Directory{} // subaccount or directory GUID -> parent directory
	ga.walk(func(d *Directory, _ []string) {
		for _, s := range d.Subaccounts {
			parents[s.GUID] = d
		}
		for _, ch := range d.Children {
			parents[ch.GUID] = d
		}
	})
	for d, n := parents[subaccountGUID], 0; d != nil && n < 64; d, n = parents[d.GUID], n+1 {
		if d.HasFeature(feature) {
			return d
		}
	}
	return nil
}

// ListSubaccounts lists all subaccounts of the global account ("" = the
// session's), flat, regardless of directories (§5.3).
func (c *Client) ListSubaccounts(ctx context.Context, subdomain string) ([]Subaccount, error) {
	var w struct {
		Value []wireSubaccount `json:"value"`
	}
	if _, err := c.run(ctx, "accounts/subaccount", "list", map[string]string{"globalAccount": c.globalAccount(subdomain)}, &w); err != nil {
		return nil, err
	}
	out := make([]Subaccount, 0, len(w.Value))
	for i := range w.Value {
		out = append(out, w.Value[i].toSubaccount())
	}
	return out, nil
}

// GetSubaccount reads one subaccount; unknown ids give IsNotFound.
func (c *Client) GetSubaccount(ctx context.Context, subdomain, subaccountID string) (*Subaccount, error) {
	if subaccountID == "" {
		return nil, fmt.Errorf("btp get accounts/subaccount: no subaccount ID given")
	}
	var w wireSubaccount
	if _, err := c.run(ctx, "accounts/subaccount", "get", map[string]string{"globalAccount": c.globalAccount(subdomain), "subaccount": subaccountID}, &w); err != nil {
		return nil, err
	}
	s := w.toSubaccount()
	return &s, nil
}
