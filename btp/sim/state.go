package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/cpikey/cpikey/btp/itrt"
	"math/rand/v2"
	"strings"
	"time"
)

// The simulated world. Everything the three protocols serve is derived from
// this state, guarded by Server.mu. Fields are exported only so the demo can
// persist the state as JSON between runs.

// User is an account that can log in to the CLI server and to UAA.
type User struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Origin   string `json:"origin"` // IdP origin; "sap.ids" or a custom IdP key
	// GAAdmin may assign entitlements; GAViewer may only read the account.
	GAAdmin  bool `json:"gaAdmin"`
	GAViewer bool `json:"gaViewer"`
	// SpaceDeveloper lists space GUIDs where the user may create instances
	// and keys; "*" means every space.
	SpaceDeveloper []string `json:"spaceDeveloper"`
	// SpaceReader lists spaces the user can see without being a developer.
	SpaceReader []string `json:"spaceReader"`
}

// Directory groups subaccounts in the global account hierarchy.
type Directory struct {
	GUID     string   `json:"guid"`
	Parent   string   `json:"parent"` // "" = the global account
	Name     string   `json:"name"`
	Type     string   `json:"type"` // PROJECT or FOLDER
	Features []string `json:"features"`
}

// Subaccount is a BTP subaccount.
type Subaccount struct {
	GUID      string `json:"guid"`
	Name      string `json:"name"`
	Subdomain string `json:"subdomain"`
	Region    string `json:"region"`
	Parent    string `json:"parent"` // directory GUID or "" for the global account
	// OrgGUID is the Cloud Foundry org of its environment instance, "" if none.
	OrgGUID string `json:"orgGuid"`
	// TenantProvisioned: Cloud Integration activated in Integration Suite.
	// The it-rt broker refuses to provision otherwise.
	TenantProvisioned bool `json:"tenantProvisioned"`
	// Suite: subscription and role collections (suite.go); nil = ready.
	Suite *Suite `json:"suite,omitempty"`
}

// Assignment is an entitlement of one plan to one subaccount.
type Assignment struct {
	Subaccount string    `json:"subaccount"`
	Service    string    `json:"service"`
	Plan       string    `json:"plan"`
	Amount     float64   `json:"amount"`
	Unlimited  bool      `json:"unlimited"`
	State      string    `json:"state"` // STARTED, PROCESSING, OK, PROCESSING_FAILED (as stored)
	ReadyAt    time.Time `json:"readyAt"`
	Fail       string    `json:"fail,omitempty"` // stateMessage when it will fail
	Created    time.Time `json:"created"`
}

// Org is a Cloud Foundry organization.
type Org struct {
	GUID       string `json:"guid"`
	Name       string `json:"name"`
	Subaccount string `json:"subaccount"`
}

// Space is a Cloud Foundry space.
type Space struct {
	GUID    string    `json:"guid"`
	Name    string    `json:"name"`
	Org     string    `json:"org"`
	Created time.Time `json:"created"`
}

// Operation is the asynchronous part of a create or delete.
type Operation struct {
	Type    string    `json:"type"` // create, delete
	Started time.Time `json:"started"`
	ReadyAt time.Time `json:"readyAt"`
	// Fail is the broker text if the operation ends in failure.
	Fail string `json:"fail,omitempty"`
}

// Instance is an it-rt service instance, either in a CF space (Space set) or
// in the subaccount's Service Manager ("other" runtime, Space empty).
type Instance struct {
	GUID       string         `json:"guid"`
	Name       string         `json:"name"`
	Subaccount string         `json:"subaccount"`
	Space      string         `json:"space,omitempty"`
	Plan       string         `json:"plan"` // integration-flow or api
	Parameters map[string]any `json:"parameters"`
	// NextParameters take effect when an update operation succeeds.
	NextParameters map[string]any  `json:"nextParameters,omitempty"`
	Op             Operation       `json:"op"`
	Created        time.Time       `json:"created"`
	CreatedBy      string          `json:"createdBy"`
	Deleted        bool            `json:"deleted,omitempty"`
	Extra          map[string]bool `json:"extra,omitempty"`
}

// Key is a service key (CF credential binding of type key, or SM binding).
type Key struct {
	GUID       string         `json:"guid"`
	Name       string         `json:"name"`
	Instance   string         `json:"instance"`
	Parameters map[string]any `json:"parameters"`
	KeyType    string         `json:"keyType"`
	ClientID   string         `json:"clientId"`
	Op         Operation      `json:"op"`
	Created    time.Time      `json:"created"`
	Deleted    bool           `json:"deleted,omitempty"`
}

// Job is a CF v3 job.
type Job struct {
	GUID      string    `json:"guid"`
	Operation string    `json:"operation"` // service_instance.create, service_keys.create, ...
	Resource  string    `json:"resource"`  // instance or key GUID
	Created   time.Time `json:"created"`
	// PollingAt: PROCESSING turns POLLING (zero: the job never polls).
	PollingAt time.Time `json:"pollingAt,omitempty"`
	// DoneAt: COMPLETE, or FAILED when Error is set.
	DoneAt time.Time `json:"doneAt"`
	// Error is errors[0].detail of the FAILED job.
	Error string `json:"error,omitempty"`
}

// World is the whole simulated landscape.
type World struct {
	GlobalAccountGUID      string `json:"globalAccountGuid"`
	GlobalAccountName      string `json:"globalAccountName"`
	GlobalAccountSubdomain string `json:"globalAccountSubdomain"`
	// GAHasITRT: the global account owns it-rt (Integration Suite purchased).
	GAHasITRT bool `json:"gaHasItrt"`
	// SuiteTrial: the global account owns integrationsuite-trial instead
	// of integrationsuite (a trial account).
	SuiteTrial  bool          `json:"suiteTrial,omitempty"`
	Users       []*User       `json:"users"`
	Directories []*Directory  `json:"directories"`
	Subaccounts []*Subaccount `json:"subaccounts"`
	Assignments []*Assignment `json:"assignments"`
	Orgs        []*Org        `json:"orgs"`
	Spaces      []*Space      `json:"spaces"`
	Instances   []*Instance   `json:"instances"`
	Keys        []*Key        `json:"keys"`
	Jobs        []*Job        `json:"jobs"`
	// PKI holds the certificates of certificate keys (certs.go).
	PKI *PKI `json:"pki,omitempty"`
	// SecretSeed derives client secrets so the persisted demo state never
	// holds a secret literally.
	SecretSeed string `json:"secretSeed"`
	Seq        uint64 `json:"seq"`
}

// Well-known fixture values, exported for tests.
const (
	GASubdomain = "acme-global"
	GAName      = "ACME Global Account"

	AdminUser     = "admin@acme.example"
	AdminPassword = "Adm1n-$ecret!pw"
	ViewerUser    = "viewer@acme.example"
	ViewerPass    = "V1ewer-$ecret!pw"
	NoDevUser     = "nodev@acme.example"
	NoDevPass     = "N0dev-$ecret!pw"
	CustomIdP     = "acme.accounts.ondemand.com"

	// Subaccount display names (subdomains in the *Subdomain constants).
	SubFresh          = "CPI Dev" // has CF, no it-rt entitlement
	SubFreshSubdomain = "acme-cpi-dev-k3x9q2ab"
	SubReady          = "CPI QA" // has CF and both it-rt plans
	SubReadySubdomain = "acme-cpi-qa-7h2m4n1p"
	SubNoCF           = "Sandbox (no CF)" // no Cloud Foundry environment
	SubNoCFSubdomain  = "acme-sandbox-2w8e5r6t"

	APIRoleDefault = "MonitoringDataRead"
)

// APIRoles is the closed role list of the it-rt api plan (it-rt.md §2.1).
var APIRoles = itrt.APIRoles

// newWorld builds the default landscape. rnd makes GUIDs deterministic.
func newWorld(rnd *rand.Rand, now time.Time) *World {
	w := &World{
		GlobalAccountName:      GAName,
		GlobalAccountSubdomain: GASubdomain,
		GAHasITRT:              true,
	}
	w.GlobalAccountGUID = guid(rnd)
	w.SecretSeed = hex.EncodeToString(randBytes(rnd, 16))

	dir := &Directory{GUID: guid(rnd), Name: "Integration Projects", Type: "PROJECT",
		Features: []string{"AUTHORIZATIONS", "DEFAULT", "ENTITLEMENTS"}}
	folder := &Directory{GUID: guid(rnd), Parent: dir.GUID, Name: "QA", Type: "FOLDER", Features: []string{"DEFAULT"}}
	w.Directories = []*Directory{dir, folder}

	fresh := &Subaccount{GUID: guid(rnd), Name: SubFresh, Subdomain: SubFreshSubdomain, Region: "eu10", TenantProvisioned: true}
	ready := &Subaccount{GUID: guid(rnd), Name: SubReady, Subdomain: SubReadySubdomain, Region: "eu10", Parent: folder.GUID, TenantProvisioned: true}
	nocf := &Subaccount{GUID: guid(rnd), Name: SubNoCF, Subdomain: SubNoCFSubdomain, Region: "us10", Parent: dir.GUID, TenantProvisioned: true}
	w.Subaccounts = []*Subaccount{fresh, ready, nocf}

	var allSpaces []string
	var devSpaces []string
	for _, sa := range []*Subaccount{fresh, ready} {
		org := &Org{GUID: guid(rnd), Name: sa.Subdomain + "_" + strings.ToLower(strings.Fields(sa.Name)[1]), Subaccount: sa.GUID}
		sa.OrgGUID = org.GUID
		w.Orgs = append(w.Orgs, org)
		for _, name := range []string{"dev", "prod"} {
			sp := &Space{GUID: guid(rnd), Name: name, Org: org.GUID, Created: now}
			w.Spaces = append(w.Spaces, sp)
			allSpaces = append(allSpaces, sp.GUID)
			if name == "dev" {
				devSpaces = append(devSpaces, sp.GUID)
			}
		}
	}
	var notDev []string
	for _, s := range allSpaces {
		if !contains(devSpaces, s) {
			notDev = append(notDev, s)
		}
	}
	w.Users = []*User{
		{Email: AdminUser, Password: AdminPassword, Origin: "sap.ids", GAAdmin: true, SpaceDeveloper: []string{"*"}},
		{Email: ViewerUser, Password: ViewerPass, Origin: "sap.ids", GAViewer: true, SpaceDeveloper: []string{"*"}},
		{Email: NoDevUser, Password: NoDevPass, Origin: "sap.ids", GAAdmin: true, SpaceDeveloper: notDev, SpaceReader: devSpaces},
	}
	for _, plan := range []string{"integration-flow", "api"} {
		w.Assignments = append(w.Assignments, &Assignment{Subaccount: ready.GUID, Service: "it-rt", Plan: plan,
			Amount: 1, Unlimited: true, State: "OK", ReadyAt: now, Created: now})
	}
	return w
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randBytes(rnd *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.UintN(256))
	}
	return b
}

// guid returns a random v4-shaped GUID from rnd.
func guid(rnd *rand.Rand) string {
	b := randBytes(rnd, 16)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// clientSecret derives the secret of a key from the world's seed, shaped like
// a real it-rt secret: <uuid>$<base64>= (it contains a '$').
func (w *World) clientSecret(keyGUID string) string {
	m := hmac.New(sha256.New, []byte(w.SecretSeed))
	m.Write([]byte(keyGUID))
	sum := m.Sum(nil)
	m.Write([]byte("tail"))
	tail := m.Sum(nil)
	b := sum[:16]
	u := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	return u + "$" + base64.StdEncoding.EncodeToString(tail[:28])
}

// Lookup helpers; callers hold the server lock.

func (w *World) user(email string) *User {
	for _, u := range w.Users {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}

func (w *World) subaccount(guidOrName string) *Subaccount {
	for _, s := range w.Subaccounts {
		if s.GUID == guidOrName {
			return s
		}
	}
	return nil
}

func (w *World) directory(g string) *Directory {
	for _, d := range w.Directories {
		if d.GUID == g {
			return d
		}
	}
	return nil
}

func (w *World) org(g string) *Org {
	for _, o := range w.Orgs {
		if o.GUID == g {
			return o
		}
	}
	return nil
}

func (w *World) space(g string) *Space {
	for _, s := range w.Spaces {
		if s.GUID == g {
			return s
		}
	}
	return nil
}

func (w *World) instance(g string) *Instance {
	for _, i := range w.Instances {
		if i.GUID == g && !i.Deleted {
			return i
		}
	}
	return nil
}

func (w *World) key(g string) *Key {
	for _, k := range w.Keys {
		if k.GUID == g && !k.Deleted {
			return k
		}
	}
	return nil
}

func (w *World) job(g string) *Job {
	for _, j := range w.Jobs {
		if j.GUID == g {
			return j
		}
	}
	return nil
}

// assignment returns the subaccount's assignment of service/plan, or nil.
func (w *World) assignment(sub, service, plan string) *Assignment {
	for _, a := range w.Assignments {
		if a.Subaccount == sub && a.Service == service && a.Plan == plan {
			return a
		}
	}
	return nil
}

// subaccountOfSpace returns the subaccount owning a CF space.
func (w *World) subaccountOfSpace(spaceGUID string) *Subaccount {
	sp := w.space(spaceGUID)
	if sp == nil {
		return nil
	}
	o := w.org(sp.Org)
	if o == nil {
		return nil
	}
	return w.subaccount(o.Subaccount)
}

// canDevelop reports whether u is Space Developer in space.
func (u *User) canDevelop(space string) bool {
	return contains(u.SpaceDeveloper, "*") || contains(u.SpaceDeveloper, space)
}

// canSee reports whether u can read space.
func (u *User) canSee(space string) bool {
	return u.canDevelop(space) || contains(u.SpaceReader, space)
}
