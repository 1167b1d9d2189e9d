package sim

import "net/http"

// Reads that the Terraform providers make while planning, beyond what
// cpikey and the cf CLI need (cloudfoundry/cloudfoundry's data sources
// and imports). Shapes from the Cloud Controller v3 API reference.

// terraformRead serves the request if it is one of these reads and says
// whether it did; s.mu is held.
func (c *ccReq) terraformRead(parts []string) bool {
	// parts: "v3", collection, rest...
	if c.r.Method != http.MethodGet || len(parts) != 5 || parts[1] != "spaces" {
		return false
	}
	// features/ssh, which the provider reads too, is the space features
	// route of cf_related.go.
	if parts[3]+"/"+parts[4] != "relationships/isolation_segment" {
		return false
	}
	c.spaceIsolationSegment(parts[2])
	return true
}

// spaceIsolationSegment is GET /v3/spaces/:guid/relationships/isolation_segment
// (data "cloudfoundry_space" reads it too). BTP spaces run on the shared
// segment: data is null and there is no "related" link.
func (c *ccReq) spaceIsolationSegment(g string) {
	sp := c.s.world.space(g)
	if !c.canSeeSpace(sp) {
		c.notFound("Space not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"data": nil, "links": map[string]any{
		"self": href(c.base, "/v3/spaces/"+sp.GUID+"/relationships/isolation_segment")}})
}
