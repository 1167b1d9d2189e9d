package cliserver

import (
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestUpdateInstanceParameters_ThenPollToSucceeded: the update is sent as
// the CLI's JSON string and polled like a create.
func TestUpdateInstanceParameters_ThenPollToSucceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{ProvisionTime: 20 * time.Millisecond}).admin()
	ready := e.sub(sim.SubReadySubdomain)
	ctx := ctxT(t)
	plan, err := e.c.GetPlanByName(ctx, ready.GUID, "it-rt", "integration-flow")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.c.CreateInstance(ctx, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "sm", PlanID: plan.ID,
		Parameters: map[string]any{"roles": []string{"ESBMessaging.send"}}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance created", func() bool {
		in, err := e.c.GetInstance(ctx, ready.GUID, res.ID)
		return err == nil && in.State() == StateSucceeded
	})
	if err := e.c.UpdateInstanceParameters(ctx, ready.GUID, res.ID, nil); err == nil {
		t.Error("an update without parameters was sent")
	}
	if err := e.c.UpdateInstanceParameters(ctx, ready.GUID, res.ID, map[string]any{"roles": []string{"Other.role"}}); err != nil {
		t.Fatal(err)
	}
	if body := e.rec.lastBody(); !strings.Contains(body, `"parameters":"{\"roles\":[\"Other.role\"]}"`) {
		t.Errorf("parameters are not the CLI's JSON string: %s", body)
	}
	in, err := e.c.GetInstance(ctx, ready.GUID, res.ID)
	if err != nil || in.LastOperation == nil || in.LastOperation.Type != "update" {
		t.Fatalf("instance right after the update: %+v %v", in, err)
	}
	eventually(t, "update finished", func() bool {
		in, err := e.c.GetInstance(ctx, ready.GUID, res.ID)
		return err == nil && in.State() == StateSucceeded
	})
}
