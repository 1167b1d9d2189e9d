package cliserver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// benchListing builds a realistic entitlement listing of about size bytes:
// filler services with base64 icons and data-centre lists, it-rt buried in
// the middle of entitledServices, and assignments for a few subaccounts.
func benchListing(size int) ([]byte, string) {
	const sub = "22222222-2222-4222-8222-222222222222"
	icon := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2L2 7l10 5 10-5-10-5z"/></svg>`, 30)))
	var dcs []string
	for _, r := range []string{"eu10", "eu11", "eu20", "eu30", "us10", "us20", "us21", "ap10", "ap11", "ap20", "jp10", "br10", "ca10", "ch20"} {
		dcs = append(dcs, fmt.Sprintf(`{"name":"cf-%s","displayName":"cf-%s","region":"%s","environment":"cloudfoundry","iaasProvider":"AWS","supportsTrial":true,"provisioningServiceUrl":"https://provisioning-service.cfapps.%s.hana.ondemand.com","saasRegistryServiceUrl":"https://saas-manager.cfapps.%s.hana.ondemand.com","domain":"%s.hana.ondemand.com","isMainDataCenter":true,"geoAccess":"BACKWARD_COMPLIANT_EU_ACCESS"}`, r, r, r, r, r, r))
	}
	dc := "[" + strings.Join(dcs, ",") + "]"
	plan := func(svc, name, category string, amount float64, unlimited bool) string {
		return fmt.Sprintf(`{"name":"%s","displayName":"%s","description":"Plan %s of %s.","uniqueIdentifier":"%s-%s","provisioningMethod":"SERVICE_BROKER","amount":%v,"remainingAmount":%v,"providedBy":"VENDOR","beta":false,"availableForInternal":false,"internalQuotaLimit":null,"autoAssign":false,"autoDistributeAmount":null,"maxAllowedSubaccountQuota":null,"category":"%s","sourceEntitlements":[{"entitlementName":"%s-%s-SYSTEM","productDisplayName":"%s","licensedQuantity":%v,"commercialModel":{"name":"Subscription","displayName":"Subscription","consumptionBased":false,"description":"Subscription-based commercial model"},"autoAssign":false,"amount":%v}],"dataCenters":%s,"numberOfAssignedEntities":1,"unlimited":%t}`,
			name, name, name, svc, svc, name, amount, amount, category, svc, name, svc, amount, amount, dc, unlimited)
	}
	service := func(name string, plans ...string) string {
		return fmt.Sprintf(`{"name":"%s","displayName":"%s","description":"Service %s.","businessCategory":{"id":"FOUNDATION_CROSS_SERVICES","displayName":"Foundation / Cross Services"},"ownerType":"VENDOR","termsOfUseUrl":"N/A","iconBase64":"%s","applicationCoordinates":{"serviceCategories":["Integration"],"inventoryIds":["SERVICE-1"]},"servicePlans":[%s]}`,
			name, name, name, icon, strings.Join(plans, ","))
	}
	var filler []string
	total := 0
	for i := 0; total < size; i++ {
		n := fmt.Sprintf("filler-service-%04d", i)
		s := service(n, plan(n, "standard", "SERVICE", 3, false), plan(n, "free", "ELASTIC_SERVICE", 1, true))
		filler = append(filler, s)
		total += len(s)
	}
	itrt := service("it-rt", plan("it-rt", "integration-flow", "ELASTIC_SERVICE", 2e9, true), plan("it-rt", "api", "SERVICE", 10, false))
	mid := len(filler) / 2
	entitled := append(append(append([]string{}, filler[:mid]...), itrt), filler[mid:]...)
	assign := func(entity string) string {
		return fmt.Sprintf(`{"entityId":"%s","entityType":"SUBACCOUNT","amount":1,"requestedAmount":null,"entityState":"OK","stateMessage":"Succeeded to update assignment of service plan.","autoAssign":false,"autoDistributeAmount":null,"createdDate":1689776545393,"modifiedDate":1707302733243,"resources":[],"unlimitedAmountAssigned":true,"parentId":"11111111-1111-4111-8111-111111111111","parentType":"GLOBAL_ACCOUNT","parentRemainingAmount":0.0,"parentAmount":3.0,"autoAssigned":false,"billingObject":null,"availableBillingObjects":null,"parentAssignedBillingObject":null}`, entity)
	}
	var assigned []string
	for i := 0; i < 40; i++ {
		assigned = append(assigned, fmt.Sprintf(`{"name":"filler-service-%04d","displayName":"x","servicePlans":[{"name":"standard","uniqueIdentifier":"u","category":"SERVICE","assignmentInfo":[%s]}]}`, i, assign(sub)))
	}
	assigned = append(assigned[:20], append([]string{fmt.Sprintf(`{"name":"it-rt","displayName":"Process Integration Runtime","servicePlans":[{"name":"integration-flow","uniqueIdentifier":"it-rt-integration-flow","category":"ELASTIC_SERVICE","assignmentInfo":[%s,%s]}]}`,
		assign("33333333-3333-4333-8333-333333333333"), assign(sub))}, assigned[20:]...)...)
	var b bytes.Buffer
	b.WriteString(`{"entitledServices":[`)
	b.WriteString(strings.Join(entitled, ","))
	b.WriteString(`],"assignedServices":[`)
	b.WriteString(strings.Join(assigned, ","))
	b.WriteString(`],"fetchErrorFromExternalProviderRegistry":null,"serviceTermsOfUseStatus":[]}`)
	return b.Bytes(), sub
}

func TestBenchListing_Decodes(t *testing.T) {
	body, sub := benchListing(256 << 10)
	ents, err := decodeEntitlements(bytes.NewReader(body), sub, []string{"it-rt", "cloudfoundry"})
	if err != nil {
		t.Fatal(err)
	}
	p := ents.Plan("it-rt", "integration-flow")
	if len(ents.Services) != 1 || !ents.Owns("it-rt") || p == nil || !p.Assigned || p.State != "OK" || len(p.Assignments) != 2 || ents.Plan("it-rt", "api").Amount != 10 {
		t.Fatalf("decoded %+v / %+v", ents.Services, p)
	}
}

// BenchmarkEntitlementListDecode decodes a ~4 MB listing keeping it-rt and
// cloudfoundry, as ListEntitlements does.
func BenchmarkEntitlementListDecode(b *testing.B) {
	body, sub := benchListing(4 << 20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ents, err := decodeEntitlements(bytes.NewReader(body), sub, []string{"it-rt", "cloudfoundry"})
		if err != nil || !ents.Plan("it-rt", "integration-flow").Assigned {
			b.Fatal(err)
		}
	}
}
