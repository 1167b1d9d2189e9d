package cfclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cloudfoundry/go-cfclient/v3/client"
	"github.com/cloudfoundry/go-cfclient/v3/config"
	"github.com/cloudfoundry/go-cfclient/v3/resource"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestGoCFClient runs the flow cpikey automates (log in, pick org and
// space, find it-rt, create an instance and a key, read the credentials,
// delete both) with go-cfclient against the simulator, plus every read
// go-cfclient offers on the objects of that flow. Steps run in order and
// stop at the first failure; -v logs each call and its result.
func TestGoCFClient(t *testing.T) {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	orgName, spaceName := s.DemoTarget()
	poll := client.NewPollingOptions()
	poll.CheckInterval = 20 * time.Millisecond
	poll.Timeout = 30 * time.Second

	var (
		cf                  *client.Client
		org                 *resource.Organization
		space               *resource.Space
		offering            *resource.ServiceOffering
		plan                *resource.ServicePlan
		inst                *resource.ServiceInstance
		key                 *resource.ServiceCredentialBinding
		instName, keyName   = "cpi-rt-conformance", "cpi-rt-conformance-key"
		instanceJob, keyJob string
	)
	steps := []struct {
		call string
		run  func(t *testing.T) string // returns what the call answered
	}{
		{"config.New(api, config.UserPassword(...)) + client.New", func(t *testing.T) string {
			cfg, err := config.New(s.CFAPIURL(), config.UserPassword(sim.AdminUser, sim.AdminPassword))
			must(t, err)
			cf, err = client.New(cfg)
			must(t, err)
			root, err := cf.Root.Get(ctx)
			must(t, err)
			return "root links login=" + root.Links.Login.Href
		}},
		{"Root.GetV3", func(t *testing.T) string {
			v3, err := cf.Root.GetV3(ctx)
			must(t, err)
			return "service_instances=" + v3.Links["service_instances"].Href
		}},
		{"Organizations.ListAll, Single(names)", func(t *testing.T) string {
			all, err := cf.Organizations.ListAll(ctx, nil)
			must(t, err)
			opts := client.NewOrganizationListOptions()
			opts.Names.EqualTo(orgName)
			org, err = cf.Organizations.Single(ctx, opts)
			must(t, err)
			return count(len(all), "orgs") + ", target " + org.Name
		}},
		{"Organizations.GetDefaultDomain, Domains.ListForOrganizationAll, OrganizationQuotas.Get", func(t *testing.T) string {
			d, err := cf.Organizations.GetDefaultDomain(ctx, org.GUID)
			must(t, err)
			ds, err := cf.Domains.ListForOrganizationAll(ctx, org.GUID, nil)
			must(t, err)
			q, err := cf.OrganizationQuotas.Get(ctx, org.Relationships.Quota.Data.GUID)
			must(t, err)
			return "default domain " + d.Name + ", " + count(len(ds), "domains") + ", quota " + q.Name
		}},
		{"Spaces.ListAll, Single(names, organization_guids)", func(t *testing.T) string {
			opts := client.NewSpaceListOptions()
			opts.OrganizationGUIDs.EqualTo(org.GUID)
			all, err := cf.Spaces.ListAll(ctx, opts)
			must(t, err)
			opts.Names.EqualTo(spaceName)
			space, err = cf.Spaces.Single(ctx, opts)
			must(t, err)
			return count(len(all), "spaces") + ", target " + space.Name
		}},
		{"Spaces.ListIncludeOrganizationsAll, GetIncludeOrganization", func(t *testing.T) string {
			opts := client.NewSpaceListOptions()
			opts.OrganizationGUIDs.EqualTo(org.GUID)
			spaces, orgs, err := cf.Spaces.ListIncludeOrganizationsAll(ctx, opts)
			must(t, err)
			if len(orgs) != 1 || orgs[0].GUID != org.GUID {
				t.Fatalf("included organizations %v, want the one org of %d spaces", orgs, len(spaces))
			}
			_, o, err := cf.Spaces.GetIncludeOrganization(ctx, space.GUID)
			must(t, err)
			if o.GUID != org.GUID {
				t.Fatalf("included organization %s, want %s", o.GUID, org.GUID)
			}
			return count(len(spaces), "spaces") + " with " + count(len(orgs), "included orgs")
		}},
		{"SpaceFeatures.IsSSHEnabled", func(t *testing.T) string {
			on, err := cf.SpaceFeatures.IsSSHEnabled(ctx, space.GUID)
			must(t, err)
			return "ssh enabled=" + yes(on)
		}},
		{"ServiceOfferings.Single(names=it-rt), Get", func(t *testing.T) string {
			opts := client.NewServiceOfferingListOptions()
			opts.Names.EqualTo("it-rt")
			var err error
			offering, err = cf.ServiceOfferings.Single(ctx, opts)
			must(t, err)
			_, err = cf.ServiceOfferings.Get(ctx, offering.GUID)
			must(t, err)
			return offering.Name + ", instances_retrievable=" + yes(offering.BrokerCatalog.Features.InstancesRetrievable)
		}},
		{"ServiceBrokers.Get (the offering's broker link)", func(t *testing.T) string {
			_, err := cf.ServiceBrokers.Get(ctx, offering.Relationships.ServiceBroker.Data.GUID)
			if !resource.IsResourceNotFoundError(err) {
				t.Fatalf("a Space Developer reading a global broker: %v, want CF-ResourceNotFound as CC answers", err)
			}
			return "CF-ResourceNotFound (global broker: admins only)"
		}},
		{"ServicePlans.Single(names, service_offering_names, space_guids), Get", func(t *testing.T) string {
			opts := client.NewServicePlanListOptions()
			opts.Names.EqualTo("integration-flow")
			opts.ServiceOfferingNames.EqualTo("it-rt")
			opts.SpaceGUIDs.EqualTo(space.GUID)
			var err error
			plan, err = cf.ServicePlans.Single(ctx, opts)
			must(t, err)
			_, err = cf.ServicePlans.Get(ctx, plan.GUID)
			must(t, err)
			return plan.Name + " (" + plan.VisibilityType + ")"
		}},
		{"ServicePlans.ListIncludeServiceOfferingAll, GetIncludeServiceOffering", func(t *testing.T) string {
			opts := client.NewServicePlanListOptions()
			opts.ServiceOfferingNames.EqualTo("it-rt")
			plans, offerings, err := cf.ServicePlans.ListIncludeServiceOfferingAll(ctx, opts)
			must(t, err)
			if len(offerings) != 1 || offerings[0].GUID != offering.GUID {
				t.Fatalf("included offerings %v", offerings)
			}
			_, o, err := cf.ServicePlans.GetIncludeServiceOffering(ctx, plan.GUID)
			must(t, err)
			if o.Name != "it-rt" {
				t.Fatalf("included offering %s", o.Name)
			}
			return count(len(plans), "plans") + " with " + count(len(offerings), "included offerings")
		}},
		{"ServicePlans.ListIncludeSpacesAndOrganizationsAll", func(t *testing.T) string {
			plans, spaces, orgs, err := cf.ServicePlans.ListIncludeSpacesAndOrganizationsAll(ctx, nil)
			must(t, err)
			// Only space-scoped brokers' plans have a space; it-rt's broker is global.
			if len(spaces) != 0 || len(orgs) != 0 {
				t.Fatalf("included spaces %v / orgs %v, want none", spaces, orgs)
			}
			return count(len(plans), "plans") + ", no included spaces/orgs (global broker)"
		}},
		{"ServicePlansVisibility.Get", func(t *testing.T) string {
			v, err := cf.ServicePlansVisibility.Get(ctx, plan.GUID)
			must(t, err)
			return v.Type + ", " + count(len(v.Organizations), "orgs")
		}},
		{"ServiceInstances.CreateManaged + Jobs.PollComplete", func(t *testing.T) string {
			req := resource.NewServiceInstanceCreateManaged(instName, space.GUID, plan.GUID)
			params := json.RawMessage(`{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[]}`)
			req.Parameters = &params
			var err error
			instanceJob, err = cf.ServiceInstances.CreateManaged(ctx, req)
			must(t, err)
			must(t, cf.Jobs.PollComplete(ctx, instanceJob, poll))
			return "job " + instanceJob + " COMPLETE"
		}},
		{"ServiceInstances.Single(names, space_guids), Get", func(t *testing.T) string {
			opts := client.NewServiceInstanceListOptions()
			opts.Names.EqualTo(instName)
			opts.SpaceGUIDs.EqualTo(space.GUID)
			var err error
			inst, err = cf.ServiceInstances.Single(ctx, opts)
			must(t, err)
			got, err := cf.ServiceInstances.Get(ctx, inst.GUID)
			must(t, err)
			if got.LastOperation.State != "succeeded" {
				t.Fatalf("last_operation %+v", got.LastOperation)
			}
			return inst.Name + " " + got.LastOperation.Type + " " + got.LastOperation.State
		}},
		{"ServiceInstances.GetManagedParameters", func(t *testing.T) string {
			_, err := cf.ServiceInstances.GetManagedParameters(ctx, inst.GUID)
			if !resource.IsServiceFetchInstanceParametersNotSupportedError(err) {
				t.Fatalf("got %v, want CF-ServiceFetchInstanceParametersNotSupported (it-rt: instances_retrievable false)", err)
			}
			return "CF-ServiceFetchInstanceParametersNotSupported (120004), as SAP answers"
		}},
		{"ServiceInstances.GetUserPermissions", func(t *testing.T) string {
			p, err := cf.ServiceInstances.GetUserPermissions(ctx, inst.GUID)
			must(t, err)
			if !p.Read || !p.Manage {
				t.Fatalf("permissions %+v, want read and manage for a Space Developer", p)
			}
			return "read=" + yes(p.Read) + " manage=" + yes(p.Manage)
		}},
		{"ServiceInstances.GetSharedSpaceRelationships, GetSharedSpaceUsageSummary", func(t *testing.T) string {
			r, err := cf.ServiceInstances.GetSharedSpaceRelationships(ctx, inst.GUID)
			must(t, err)
			u, err := cf.ServiceInstances.GetSharedSpaceUsageSummary(ctx, inst.GUID)
			must(t, err)
			return count(len(r.Data), "shared spaces") + ", " + count(len(u.UsageSummary), "usage entries")
		}},
		// Not called: ServiceRouteBindings.ListIncludeRoutes* and
		// ListIncludeServiceInstances*. In alpha.20 they set include to none,
		// so no server sends "included", and they dereference its nil.
		{"ServiceRouteBindings.ListAll(service_instance_guids)", func(t *testing.T) string {
			opts := client.NewServiceRouteBindingListOptions()
			opts.ServiceInstanceGUIDs.EqualTo(inst.GUID)
			all, err := cf.ServiceRouteBindings.ListAll(ctx, opts)
			must(t, err)
			return count(len(all), "route bindings")
		}},
		{"ServiceCredentialBindings.Create(key) + Jobs.PollComplete", func(t *testing.T) string {
			var err error
			keyJob, _, err = cf.ServiceCredentialBindings.Create(ctx, resource.NewServiceCredentialBindingCreateKey(inst.GUID, keyName))
			must(t, err)
			must(t, cf.Jobs.PollComplete(ctx, keyJob, poll))
			return "job " + keyJob + " COMPLETE"
		}},
		{"ServiceCredentialBindings.Single(names, service_instance_guids, type=key), Get", func(t *testing.T) string {
			opts := client.NewServiceCredentialBindingListOptions()
			opts.Names.EqualTo(keyName)
			opts.ServiceInstanceGUIDs.EqualTo(inst.GUID)
			opts.Type.EqualTo("key")
			var err error
			key, err = cf.ServiceCredentialBindings.Single(ctx, opts)
			must(t, err)
			_, err = cf.ServiceCredentialBindings.Get(ctx, key.GUID)
			must(t, err)
			return *key.Name + " " + key.LastOperation.State
		}},
		{"ServiceCredentialBindings.GetDetails", func(t *testing.T) string {
			d, err := cf.ServiceCredentialBindings.GetDetails(ctx, key.GUID)
			must(t, err)
			oauth, _ := d.Credentials["oauth"].(map[string]any)
			for _, f := range []string{"clientid", "clientsecret", "tokenurl", "url"} {
				if v, _ := oauth[f].(string); v == "" {
					t.Fatalf("credentials.oauth.%s is empty", f)
				}
			}
			return "credentials.oauth with clientid, clientsecret, tokenurl, url (values not logged)"
		}},
		{"ServiceCredentialBindings.GetParameters", func(t *testing.T) string {
			_, err := cf.ServiceCredentialBindings.GetParameters(ctx, key.GUID)
			if !resource.IsServiceFetchBindingParametersNotSupportedError(err) {
				t.Fatalf("got %v, want CF-ServiceFetchBindingParametersNotSupported (it-rt: bindings_retrievable false)", err)
			}
			return "CF-ServiceFetchBindingParametersNotSupported (90007), as SAP answers"
		}},
		{"ServiceCredentialBindings.ListIncludeServiceInstancesAll, ListIncludeAppsAll, GetIncludeServiceInstance", func(t *testing.T) string {
			opts := client.NewServiceCredentialBindingListOptions()
			opts.ServiceInstanceGUIDs.EqualTo(inst.GUID)
			keys, insts, err := cf.ServiceCredentialBindings.ListIncludeServiceInstancesAll(ctx, opts)
			must(t, err)
			if len(insts) != 1 || insts[0].GUID != inst.GUID {
				t.Fatalf("included instances %v", insts)
			}
			_, apps, err := cf.ServiceCredentialBindings.ListIncludeAppsAll(ctx, opts)
			must(t, err)
			if len(apps) != 0 {
				t.Fatalf("a key has no app, got %v", apps)
			}
			_, si, err := cf.ServiceCredentialBindings.GetIncludeServiceInstance(ctx, key.GUID)
			must(t, err)
			if si.GUID != inst.GUID {
				t.Fatalf("included instance %s", si.GUID)
			}
			return count(len(keys), "keys") + " with " + count(len(insts), "included instances") + ", " + count(len(apps), "included apps")
		}},
		{"ServiceCredentialBindings.Delete + Jobs.PollComplete", func(t *testing.T) string {
			job, err := cf.ServiceCredentialBindings.Delete(ctx, key.GUID)
			must(t, err)
			must(t, cf.Jobs.PollComplete(ctx, job, poll))
			_, err = cf.ServiceCredentialBindings.Get(ctx, key.GUID)
			if !resource.IsResourceNotFoundError(err) {
				t.Fatalf("key after delete: %v", err)
			}
			return "job " + job + " COMPLETE, key gone"
		}},
		{"ServiceInstances.Delete + Jobs.PollComplete", func(t *testing.T) string {
			job, err := cf.ServiceInstances.Delete(ctx, inst.GUID)
			must(t, err)
			must(t, cf.Jobs.PollComplete(ctx, job, poll))
			_, err = cf.ServiceInstances.Get(ctx, inst.GUID)
			if !resource.IsResourceNotFoundError(err) {
				t.Fatalf("instance after delete: %v", err)
			}
			return "job " + job + " COMPLETE, instance gone"
		}},
	}
	for _, st := range steps {
		ok := t.Run(st.call, func(t *testing.T) {
			t.Logf("%s -> %s", st.call, st.run(t))
		})
		if !ok {
			return // later steps need what this one made
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func yes(b bool) string { return fmt.Sprint(b) }

// count says "3 spaces"; what is the plural.
func count(n int, what string) string { return fmt.Sprintf("%d %s", n, what) }
