package sim

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// The management host: the OData v2 API of plan api keys under /api/v1
// (§5.3), read-only here. Bearer tokens only (Basic is not accepted for the
// api plan, §5.2); every read needs its api role (itrt.APIReadRoles).

func (s *Server) serveTenantAPI(w http.ResponseWriter, r *http.Request) {
	if f := s.takeFault(RequestKey("api", r), FaultHTTPStatus); f != nil {
		writeTenantFault(w, f)
		return
	}
	p := r.URL.Path
	if p != itrt.APIRoot && !strings.HasPrefix(p, itrt.APIRoot+"/") {
		writeTomcat404(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.authenticate(r, false)
	if c == nil {
		writeUnauthorized(w, "Cloud Integration API")
		return
	}
	o := odata{w: w, r: r, base: "http://" + r.Host + itrt.APIRoot}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		o.error(http.StatusMethodNotAllowed, "The simulated API is read-only.")
		return
	}
	set := itrt.EntitySet(p)
	if set == "" {
		o.serviceDocument()
		return
	}
	role, known := itrt.APIReadRoles[set]
	if !known {
		o.error(http.StatusNotFound, "Resource not found for segment '"+set+"'.")
		return
	}
	if !c.has(role) {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "Forbidden")
		return
	}
	var rows []entity
	switch set {
	case "MessageProcessingLogs":
		l := s.tenant.mpls[c.subaccount]
		for i := len(l) - 1; i >= 0; i-- { // newest first
			rows = append(rows, mplEntity(l[i]))
		}
	case "IntegrationPackages":
		rows = []entity{{
			{"Id", "CpikeyDemo"}, {"Name", "cpikey demo"}, {"Description", "The iFlows of the simulated tenant: demo/echo, demo/csrf, demo/orders, demo/fail and the SOAP demo/orders."},
			{"ShortText", "Simulated iFlows"}, {"Version", "1.0.0"}, {"Vendor", "cpikey simulator"}, {"Mode", "EDIT_ALLOWED"},
			{"CreatedBy", "sb-simulator"}, {"CreationDate", odataDate(demoContentDate)},
		}}
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(p, itrt.APIRoot+"/"), set)
	if strings.HasPrefix(rest, "(") { // one entity by key: ('ID')
		id := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(rest, "("), ")"), "'")
		for _, e := range rows {
			if e[0].v == id {
				o.entry(set, e)
				return
			}
		}
		o.error(http.StatusNotFound, "Resource not found for the segment '"+set+"'.")
		return
	}
	if top := r.URL.Query().Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 0 {
			o.error(http.StatusBadRequest, "Invalid system query option $top.")
			return
		}
		rows = rows[:min(n, len(rows))]
	}
	o.feed(set, rows)
}

// demoContentDate is when the demo package appeared: fixed, so answers
// do not depend on the clock.
var demoContentDate = time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC)

func mplEntity(m *mplEntry) entity {
	e := entity{{"MessageGuid", m.ID}, {"CorrelationId", "AF" + m.ID[2:]}, {"IntegrationFlowName", m.Flow},
		{"Status", m.Status}, {"LogStart", odataDate(m.Start)}, {"LogEnd", odataDate(m.End)},
		{"Sender", "cpikey"}, {"Receiver", ""}, {"LogLevel", "INFO"}}
	if m.Error != "" {
		e = append(e, kv{"CustomStatus", "FAILED"})
	}
	return e
}

func odataDate(t time.Time) string { return fmt.Sprintf("/Date(%d)/", t.UnixMilli()) }

type kv struct{ k, v string }

// entity keeps its properties in order (the XML form shows them so); the
// first property is the key.
type entity []kv

var odataTypes = map[string]string{
	"MessageProcessingLogs": "com.sap.hci.api.MessageProcessingLog",
	"IntegrationPackages":   "com.sap.hci.api.IntegrationPackage",
}

type odata struct {
	w    http.ResponseWriter
	r    *http.Request
	base string
}

// wantsJSON: JSON with $format=json or an Accept asking for it; Atom XML
// otherwise, as the real API does.
func (o odata) wantsJSON() bool {
	if f := o.r.URL.Query().Get("$format"); f != "" {
		return f == "json"
	}
	return strings.Contains(o.r.Header.Get("Accept"), "json")
}

func (o odata) jsonEntity(set string, e entity) map[string]any {
	uri := fmt.Sprintf("%s/%s('%s')", o.base, set, e[0].v)
	m := map[string]any{"__metadata": map[string]any{"id": uri, "uri": uri, "type": odataTypes[set]}}
	for _, p := range e {
		m[p.k] = p.v
	}
	return m
}

func (o odata) feed(set string, rows []entity) {
	if o.wantsJSON() {
		results := []map[string]any{}
		for _, e := range rows {
			results = append(results, o.jsonEntity(set, e))
		}
		o.json(http.StatusOK, map[string]any{"d": map[string]any{"results": results}})
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><feed xml:base="%s/" xmlns="http://www.w3.org/2005/Atom" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices">`, esc(o.base))
	fmt.Fprintf(&b, `<id>%s/%s</id><title type="text">%s</title>`, esc(o.base), set, set)
	for _, e := range rows {
		o.xmlEntry(&b, set, e)
	}
	b.WriteString(`</feed>`)
	o.xml(b.String())
}

func (o odata) entry(set string, e entity) {
	if o.wantsJSON() {
		o.json(http.StatusOK, map[string]any{"d": o.jsonEntity(set, e)})
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	o.xmlEntry(&b, set, e)
	o.xml(b.String())
}

func (o odata) xmlEntry(b *strings.Builder, set string, e entity) {
	fmt.Fprintf(b, `<entry><id>%s/%s('%s')</id><title type="text">%s</title><category term="%s" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/><content type="application/xml"><m:properties>`,
		esc(o.base), set, esc(e[0].v), set, odataTypes[set])
	for _, p := range e {
		fmt.Fprintf(b, "<d:%s>%s</d:%s>", p.k, esc(p.v), p.k)
	}
	b.WriteString(`</m:properties></content></entry>`)
}

func (o odata) serviceDocument() {
	sets := make([]string, 0, len(itrt.APIReadRoles))
	for s := range itrt.APIReadRoles {
		sets = append(sets, s)
	}
	sort.Strings(sets)
	o.json(http.StatusOK, map[string]any{"d": map[string]any{"EntitySets": sets}})
}

func (o odata) error(status int, msg string) {
	o.json(status, map[string]any{"error": map[string]any{"code": http.StatusText(status),
		"message": map[string]any{"lang": "en", "value": msg}}})
}

func (o odata) json(status int, v any) {
	b, _ := json.Marshal(v)
	o.w.Header().Set("Content-Type", "application/json;charset=utf-8")
	o.w.Header().Set("DataServiceVersion", "2.0")
	o.w.WriteHeader(status)
	o.w.Write(b) //nolint:errcheck
}

func (o odata) xml(doc string) {
	o.w.Header().Set("Content-Type", "application/atom+xml;charset=utf-8")
	o.w.Header().Set("DataServiceVersion", "2.0")
	o.w.Write([]byte(doc)) //nolint:errcheck
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // a Builder does not fail
	return b.String()
}
